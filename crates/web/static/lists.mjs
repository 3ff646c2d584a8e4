// The trip list and its notes.
//
// The list page's forms post through htmx and get server-rendered fragments back (see
// lists/pages.rs): a row posts itself on every change (a slider moved, a tick, a name) and
// gets that row back as saved; adding, moving and removing get the rows back; a change made
// in another tab meanwhile comes back as the row as it is now, with a notice. This module
// adds what must not wait for the server — the quantities' read-outs, the tick's strike and
// the progress follow the inputs at once — keeps a row the user is still changing from being
// overwritten by the answer to an earlier change, keeps the keyboard focus on the moved or
// next row, and hides the suggestions the user ignored (kept in this browser only).
//
// The notes save themselves through the JSON API a moment after typing stops.
//
// Without JavaScript every form posts and the page comes back.
import { $, $$, ApiError, api, el, hourMinute, showMessage } from './site.mjs';

const list = $('main#list[data-list-id]');
if (list) listPage(list);
const notes = $('main#notes-page[data-list-id]');
if (notes) notesPage(notes);

// ------------------------------------------------------------------ the list

function listPage(main) {
  const id = main.getAttribute('data-list-id') || '';
  const rows = $('#list-rows', main);
  main.classList.add('js'); // every change is saved at once: no Save buttons

  /** "X out of Y items taken (Z%)" and the bar, from the ticks (the server's words). */
  const progress = () => {
    const boxes = $$('tr.item .item-taken', rows);
    const total = boxes.length;
    const taken = boxes.filter((b) => b.checked).length;
    // Rounded down, as the server and the PDF do: 100% only when everything is taken.
    const pct = total ? Math.floor((taken * 100) / total) : 0;
    const text = $('#list-progress');
    if (text) text.textContent = `${taken} out of ${total} ${total === 1 ? 'item' : 'items'} taken (${pct}%)`;
    const bar = $('#list-progress-bar');
    if (bar) {
      bar.max = Math.max(total, 1);
      bar.value = taken;
      bar.textContent = `${pct}%`;
    }
  };

  // At once, before the server answers: the read-outs, the strike, the progress. Every input
  // counts as an edit of its row (see the answers below).
  rows.addEventListener('input', (e) => {
    const tr = e.target.closest('tr.item');
    if (!tr) return;
    tr.dataset.edits = String(Number(tr.dataset.edits || 0) + 1);
    if (e.target.classList.contains('qty')) {
      const out = $('output', e.target.parentNode);
      if (out) out.textContent = e.target.value;
    }
    if (e.target.classList.contains('item-taken')) {
      tr.classList.toggle('taken', e.target.checked);
      progress();
    }
  });

  // A row's answer must not undo what the user changed after the request left: when the row
  // was edited since, only its new version is taken (the next post, queued by htmx, sends
  // the latest values with it).
  document.addEventListener('htmx:beforeRequest', (e) => {
    const tr = e.detail.elt.closest?.('tr.item');
    if (tr) e.detail.xhr.twEdits = tr.dataset.edits || '0';
    remember(e);
  });
  document.addEventListener('htmx:beforeSwap', (e) => {
    const tr = e.detail.target;
    if (!tr?.matches?.('tr.item') || e.detail.xhr.status !== 200) return;
    if ((tr.dataset.edits || '0') === e.detail.xhr.twEdits) return;
    e.detail.shouldSwap = false;
    const answer = document.createElement('template');
    answer.innerHTML = e.detail.serverResponse;
    const version = $('tr.item', answer.content)?.getAttribute('data-version');
    if (version) {
      tr.setAttribute('data-version', version);
      const field = $('.row-version', tr);
      if (field) field.value = version;
    }
  });

  // The keyboard focus after a move or a removal: htmx puts it back on the same button when
  // the rows come back; when that button is gone or disabled (the row went to an end, or was
  // removed), on the row's other move button, the next row's remove button, or the new item.
  let last = null;
  function remember(e) {
    const form = e.detail.elt;
    if (!form.matches?.('.row-form')) return;
    const tr = form.closest('tr.item');
    last = {
      row: tr?.id,
      action: e.detail.requestConfig?.parameters?.action || 'save',
      next: (tr?.nextElementSibling || tr?.previousElementSibling)?.id,
    };
  }
  document.addEventListener('htmx:afterSettle', (e) => {
    if (e.detail.target !== rows || !last) return;
    const lost = !document.activeElement || document.activeElement === document.body;
    if (lost && (last.action === 'up' || last.action === 'down')) {
      const tr = document.getElementById(last.row);
      const button = [$(`.item-${last.action}`, tr), $('.item-up', tr), $('.item-down', tr)].find((b) => b && !b.disabled);
      button?.focus();
    } else if (lost && last.action === 'remove') {
      const next = last.next && document.getElementById(last.next);
      (next ? $('.item-remove', next) : $('#new-item-name'))?.focus();
    }
    last = null;
  });

  // After any answer: the progress from the rows on the page, the ignored suggestions hidden.
  document.addEventListener('htmx:afterSettle', () => {
    progress();
    hideIgnored();
  });

  // A notice fades after a few seconds.
  let noticeTimer = null;
  document.addEventListener('htmx:oobAfterSwap', (e) => {
    if (e.detail.target?.id !== 'list-notice') return;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      const box = $('#list-notice');
      if (box) box.hidden = true;
    }, 6000);
  });

  // A new item: the field is emptied for the next one.
  const add = $('#add-item-form', main);
  add?.addEventListener('htmx:afterRequest', (e) => {
    if (e.detail.elt !== add || !e.detail.successful) return;
    const name = $('#new-item-name', add);
    if (e.detail.xhr.status === 200) name.value = '';
    name.focus();
  });

  const del = $('#delete-list-form', main);
  del?.addEventListener('submit', (e) => {
    if (!window.confirm('Delete this list and all its items?')) e.preventDefault();
  });

  // Suggestions the user ignored stay hidden in this browser.
  const key = `tripwright:ignored:${id}`;
  const ignored = () => {
    try {
      const v = JSON.parse(window.localStorage.getItem(key) || '[]');
      return Array.isArray(v) ? v : [];
    } catch {
      return [];
    }
  };
  function hideIgnored() {
    const box = $('#suggestions', main);
    if (!box) return;
    const skip = ignored();
    for (const li of $$('li.suggestion', box)) {
      if (skip.includes(li.getAttribute('data-name'))) li.hidden = true;
      const button = $('.suggestion-ignore', li);
      if (button) button.hidden = false;
    }
    const left = $$('li.suggestion', box).some((li) => !li.hidden);
    if (!left && !$('#no-suggestions', box)) {
      const none = el('p', 'empty', 'Nothing more to suggest.');
      none.id = 'no-suggestions';
      $('.suggestion-list', box)?.after(none);
    }
  }
  $('#suggestions', main)?.addEventListener('click', (e) => {
    const li = e.target.closest('.suggestion-ignore')?.closest('li.suggestion');
    if (!li) return;
    const name = li.getAttribute('data-name');
    const skip = ignored();
    if (!skip.includes(name)) skip.push(name);
    try {
      window.localStorage.setItem(key, JSON.stringify(skip));
    } catch {
      // Private mode: ignored on this page only.
    }
    li.hidden = true;
    hideIgnored();
    const box = $('#list-notice');
    if (box) {
      box.textContent = `Ignored ${name}.`;
      box.hidden = false;
    }
  });
  hideIgnored();
  progress();
}

// ------------------------------------------------------------------ the notes

function notesPage(main) {
  const id = main.getAttribute('data-list-id') || '';
  const url = `/api/lists/${encodeURIComponent(id)}/notes`;
  const form = $('#notes-form', main);
  const text = $('#notes', main);
  const status = $('#notes-status', main);
  const errorBox = $('#notes-error', main);
  if (!form || !text) return;
  main.classList.add('js');
  let timer = null;
  let saving = null;
  let again = false;
  let dirty = false;

  const say = (message, iso) => {
    if (!status) return;
    const e = el(iso ? 'time' : 'span', null, message);
    e.id = 'notes-saved';
    if (iso) e.setAttribute('datetime', iso);
    status.replaceChildren(e);
  };
  const showSaved = (iso) => {
    const hm = hourMinute(iso);
    if (hm) say(`Last saved ${hm}`, iso);
  };
  const setVersion = (v) => {
    main.setAttribute('data-version', String(v));
    const input = $('input[name="version"]', form);
    if (input) input.value = String(v);
  };
  const capital = (s) => String(s || '').charAt(0).toUpperCase() + String(s || '').slice(1);

  /** After a conflict: the text the user had, kept read-only to copy from. */
  const keepMine = (mine) => {
    let box = $('#notes-mine', main);
    if (!box) {
      box = el('details');
      box.id = 'notes-mine';
      box.open = true;
      const area = el('textarea');
      area.readOnly = true;
      area.rows = 8;
      area.setAttribute('aria-label', 'Your unsaved text');
      box.append(el('summary', null, 'Your unsaved text'), area);
      form.after(box);
    }
    $('textarea', box).value = mine;
  };

  const save = async () => {
    if (saving) {
      // One save at a time; the latest text goes when the one in flight is back.
      again = true;
      return;
    }
    const sent = text.value;
    say('Saving…');
    saving = (async () => {
      try {
        const saved = await api('PUT', url, { notes: sent, version: Number(main.getAttribute('data-version')) });
        setVersion(saved.version);
        showMessage(errorBox, null);
        if (text.value === sent) dirty = false;
        showSaved(saved.notes_saved_at);
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 'changed_elsewhere') {
          showMessage(errorBox, e.message, e.hint);
          say('Not saved');
          return;
        }
        const current = await api('GET', `/api/lists/${encodeURIComponent(id)}`);
        keepMine(sent);
        text.value = current.notes;
        setVersion(current.version);
        dirty = false;
        showMessage(errorBox, `${capital(e.message)}.`, 'Your text is kept below the notes; copy what you need, then save again.');
        if (current.notes_saved_at) showSaved(current.notes_saved_at);
      }
    })();
    try {
      await saving;
    } finally {
      saving = null;
      if (again) {
        again = false;
        if (dirty) save();
      }
    }
  };

  const saved = $('#notes-saved', main)?.getAttribute('datetime');
  if (saved) showSaved(saved);
  text.addEventListener('input', () => {
    dirty = true;
    say('Unsaved changes…');
    clearTimeout(timer);
    timer = setTimeout(save, 1000);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(timer);
    save();
  });
  window.addEventListener('beforeunload', (e) => {
    if (dirty) e.preventDefault();
  });
}

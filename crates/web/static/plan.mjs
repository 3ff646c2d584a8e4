// A plan's page. While the plan is being made, `#plan-live` follows the server's stream of
// HTML fragments (`/plans/{id}/live`, through htmx's SSE extension): the agents' progress,
// each section as it is ready and the prose as the model writes it are swapped in by htmx;
// the map section's data is merged into the drawn map instead, so the map is not redrawn
// from scratch. This module adds what the fragments cannot: the map, the running agents'
// clocks, the page's state when the stream ends, and the Cancel, Rewrite and Share buttons,
// which call the JSON API. Without JavaScript the page refreshes itself while the plan is
// made (a <meta refresh> in <noscript>).
import { $, $$, api, el, formatSeconds } from './site.mjs';
import { PlanMap } from './map.mjs';

const main = $('#plan');
if (main) {
  const planId = main.getAttribute('data-plan-id') || '';
  const apiBase = `/api/plans/${encodeURIComponent(planId)}`;
  const map = new PlanMap($('#map'));

  /** Shows (or hides, with a null kind) a message under the plan's heading. */
  const notice = (kind, message, link) => {
    let box = $('#plan-notice');
    if (!kind) {
      if (box) box.hidden = true;
      return;
    }
    if (!box) {
      box = el('p');
      box.id = 'plan-notice';
      $('#plan-status')?.append(box);
    }
    box.className = `notice notice-${kind}`;
    box.setAttribute('role', kind);
    box.replaceChildren(el('span', null, message));
    if (link) {
      const a = el('a', null, link.text);
      a.href = link.href;
      box.append(' ', a);
    }
    box.hidden = false;
  };

  // The running agents' clocks: from when the page saw them start, ten times a second.
  const started = new Map();
  let ticker = null;
  const tick = () => {
    const now = performance.now();
    for (const li of $$('#progress li.agent')) {
      const agent = li.getAttribute('data-agent');
      const shown = $('.agent-elapsed', li);
      if (li.getAttribute('data-status') !== 'running') {
        started.delete(agent);
      } else {
        if (!started.has(agent)) started.set(agent, now - (parseFloat(shown?.textContent || '0') || 0) * 1000);
        if (shown) shown.textContent = formatSeconds(now - started.get(agent));
      }
    }
    if (started.size && !ticker) ticker = setInterval(tick, 100);
    else if (!started.size && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  };
  tick();

  // A section's fragment for the map: merge its data into the map on the page.
  document.addEventListener('htmx:oobBeforeSwap', (e) => {
    if (e.detail.target?.id !== 'map-section') return;
    const next = e.detail.fragment.querySelector('#map');
    if (!next) return;
    e.detail.shouldSwap = false;
    try {
      map.update(JSON.parse(next.getAttribute('data-plan') || 'null'));
    } catch {
      // Malformed data: the map stays as it was.
    }
  });

  // What the last change did, shown again once its stream has ended (the stream's own status
  // would replace it).
  let edited = null;

  /** The stream ended: the page takes the state `#plan-status` now says. */
  const finish = () => {
    if (edited) {
      showEdited(edited.message, edited.canUndo);
      edited = null;
    }
    main.setAttribute('data-state', $('#plan-status')?.getAttribute('data-state') || 'done');
    main.removeAttribute('aria-busy');
    for (const day of $$('.regenerating', main)) {
      day.classList.remove('regenerating');
      day.removeAttribute('aria-busy');
    }
    for (const b of $$('.regenerate-day', main)) b.disabled = false;
    // Nothing is being written any more (a cancel ends the text where it was).
    for (const n of $$('.live', main)) n.classList.remove('live');
    tick();
  };

  document.addEventListener('htmx:sseOpen', () => {
    main.setAttribute('aria-busy', 'true');
    if ($('#plan-notice')?.dataset.connection) notice(null);
  });
  document.addEventListener('htmx:sseError', (e) => {
    const closed = e.detail.source?.readyState === EventSource.CLOSED;
    notice('status', closed ? 'Lost the connection to the server; trying again…' : 'Connection interrupted; reconnecting…');
    $('#plan-notice').dataset.connection = 'lost';
  });
  document.addEventListener('htmx:sseMessage', (e) => {
    if (e.detail.type === 'end') finish();
    else if (e.detail.type === 'progress') tick();
  });

  /** Connects `#plan-live` to the stream again (a day being rewritten). */
  const follow = () => {
    const old = $('#plan-live');
    if (!old || !window.htmx) {
      window.location.reload();
      return;
    }
    const live = old.cloneNode(false);
    live.setAttribute('sse-connect', live.getAttribute('data-live'));
    old.replaceWith(live);
    window.htmx.process(live);
  };

  main.addEventListener('click', (e) => {
    const rewrite = e.target.closest?.('.regenerate-day');
    if (rewrite && main.contains(rewrite)) regenerate(rewrite);
    const cancel = e.target.closest?.('#cancel');
    if (cancel) cancelPlan(cancel);
    const op = e.target.closest?.('.edit-op');
    if (op && main.contains(op)) editStop(op);
    const choice = e.target.closest?.('.place-choice');
    if (choice && main.contains(choice)) {
      edit({ op: 'add', day: Number(choice.dataset.day), place: choice.dataset.place });
    }
    const undo = e.target.closest?.('#undo-edit');
    if (undo) undoEdit(undo);
  });

  // Editing a finished plan: each change goes to the API, and the sections that show the
  // stops come back on the plan's stream (the same way as a rewritten day).
  const stopOf = (node) => {
    const li = node.closest('li.stop');
    return li ? { day: Number(li.dataset.day), stop: Number(li.dataset.stop), li } : null;
  };
  let editing = false;
  const edit = async (change) => {
    if (editing) return;
    editing = true;
    main.classList.add('editing');
    try {
      const answer = await api('POST', `${apiBase}/edits`, change);
      edited = { message: answer?.message || 'Changed.', canUndo: answer?.undo > 0 };
      showEdited(edited.message, edited.canUndo);
      follow();
    } catch (err) {
      notice('alert', `Could not change the plan: ${err.message}`);
    } finally {
      editing = false;
      main.classList.remove('editing');
    }
  };
  /** The notice after a change: what was done, and an Undo button while one can be undone. */
  const showEdited = (message, canUndo) => {
    notice('status', message);
    if (canUndo) {
      const undo = el('button', 'link-button', 'Undo');
      undo.type = 'button';
      undo.id = 'undo-edit';
      $('#plan-notice').append(' ', undo);
    }
  };
  const undoEdit = async (button) => {
    button.disabled = true;
    try {
      const answer = await api('POST', `${apiBase}/edits/undo`);
      edited = { message: 'The last change is undone.', canUndo: answer?.undo > 0 };
      showEdited(edited.message, edited.canUndo);
      follow();
    } catch (err) {
      button.disabled = false;
      notice('alert', `Could not undo: ${err.message}`);
    }
  };
  const editStop = (button) => {
    const at = stopOf(button);
    if (!at) return;
    const op = button.dataset.op;
    if (op === 'up' || op === 'down') {
      edit({ op: 'move', day: at.day, stop: at.stop, to_day: at.day, to: at.stop + (op === 'up' ? -1 : 1) });
    } else if (op === 'swap' || op === 'remove') {
      edit({ op, day: at.day, stop: at.stop });
    }
  };
  main.addEventListener('change', (e) => {
    const select = e.target.closest?.('.edit-day');
    if (!select || !main.contains(select) || !select.value) return;
    const at = stopOf(select);
    if (at) edit({ op: 'move', day: at.day, stop: at.stop, to_day: Number(select.value), to: 999 });
  });

  // "Add a place": search the local data, then pick one of the places found.
  main.addEventListener('submit', async (e) => {
    const form = e.target.closest?.('form.add-place');
    if (!form || !main.contains(form)) return;
    e.preventDefault();
    const q = form.elements.q.value.trim();
    const list = $('.place-choices', form);
    list.replaceChildren();
    if (!q) return;
    try {
      const places = await api('GET', `${apiBase}/places?q=${encodeURIComponent(q)}`);
      if (!Array.isArray(places) || !places.length) {
        list.append(el('li', 'empty', `No place near this trip matches “${q}” (places already in the plan are not offered).`));
        return;
      }
      for (const p of places) {
        const b = el('button', 'place-choice', `Add ${p.name}`);
        b.type = 'button';
        b.dataset.day = form.dataset.day;
        b.dataset.place = p.id;
        const li = el('li');
        li.append(b, ` ${p.kind}, ${p.km} km from the hotel`);
        list.append(li);
      }
    } catch (err) {
      list.append(el('li', 'empty', `Could not search: ${err.message}`));
    }
  });

  // Drag a stop onto another to put it there (the arrows and "Move to day" do the same from
  // the keyboard).
  let dragged = null;
  main.addEventListener('dragstart', (e) => {
    const li = e.target.closest?.('li.stop[draggable="true"]');
    if (!li) return;
    dragged = stopOf(li);
    e.dataTransfer.effectAllowed = 'move';
    e.dataTransfer.setData('text/plain', li.id);
    li.classList.add('dragging');
  });
  main.addEventListener('dragend', () => {
    dragged?.li.classList.remove('dragging');
    dragged = null;
  });
  main.addEventListener('dragover', (e) => {
    if (dragged && e.target.closest?.('li.stop')) e.preventDefault();
  });
  main.addEventListener('drop', (e) => {
    const target = e.target.closest?.('li.stop');
    if (!dragged || !target) return;
    e.preventDefault();
    const to = stopOf(target);
    if (to.day !== dragged.day || to.stop !== dragged.stop) {
      edit({ op: 'move', day: dragged.day, stop: dragged.stop, to_day: to.day, to: to.stop });
    }
  });

  const cancelPlan = async (button) => {
    button.disabled = true;
    try {
      await api('POST', `${apiBase}/cancel`);
      // The stream's end may have come first.
      if (main.getAttribute('data-state') === 'running') notice('status', 'Cancelling…');
    } catch (err) {
      button.disabled = false;
      notice('alert', `Could not cancel: ${err.message}`);
    }
  };

  const regenerate = async (button) => {
    const day = button.getAttribute('data-day');
    if (!/^\d+$/.test(day || '')) return;
    // One rewrite at a time: the server refuses a second while the first runs.
    for (const b of $$('.regenerate-day', main)) b.disabled = true;
    const section = button.closest('section.day');
    section?.classList.add('regenerating');
    section?.setAttribute('aria-busy', 'true');
    try {
      await api('POST', `${apiBase}/days/${day}/regenerate`);
      notice('status', `Rewriting day ${day}…`);
      main.setAttribute('data-state', 'running');
      // The new day arrives on the live stream.
      follow();
    } catch (err) {
      for (const b of $$('.regenerate-day', main)) b.disabled = false;
      section?.classList.remove('regenerating');
      section?.removeAttribute('aria-busy');
      notice('alert', `Could not rewrite day ${day}: ${err.message}`);
    }
  };

  const share = $('#share');
  share?.addEventListener('click', async () => {
    share.disabled = true;
    try {
      const answer = await api('POST', `${apiBase}/share`);
      const url = typeof answer?.url === 'string' ? answer.url : '';
      if (!url) throw new Error('The server sent no share link.');
      const input = $('#share-url');
      input.value = new URL(url, window.location.href).href;
      input.hidden = false;
      $('#unshare').hidden = false;
      input.focus();
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          () => notice('status', 'Share link copied to the clipboard.'),
          () => { /* the link stays selected for copying by hand */ },
        );
      }
    } catch (err) {
      notice('alert', `Could not make a share link: ${err.message}`);
    } finally {
      share.disabled = false;
    }
  });

  const unshare = $('#unshare');
  unshare?.addEventListener('click', async () => {
    unshare.disabled = true;
    try {
      await api('DELETE', `${apiBase}/share`);
      const input = $('#share-url');
      input.value = '';
      input.hidden = true;
      unshare.hidden = true;
      notice('status', 'The share link no longer works. Share again for a new one.');
      share?.focus();
    } catch (err) {
      notice('alert', `Could not stop sharing: ${err.message}`);
    } finally {
      unshare.disabled = false;
    }
  });
}

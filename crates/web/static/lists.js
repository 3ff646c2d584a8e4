// Tripwright trip lists: saves every change at once through the JSON API, without reloading.
//
// The pages work without this script (each row and form posts and the page comes back). With
// it: sliders, ticks and names are saved as they change (per item, with the version the page
// saw: a 409 "changed in another tab" reloads that item), items are added, moved and removed
// in place, the progress text and bar follow the ticks, suggestions are added or ignored, and
// the notes save themselves a moment after typing stops. Nothing here needs 'unsafe-inline':
// no inline scripts or style attributes, and user text only ever goes through textContent,
// value and setAttribute.
(function () {
  'use strict';

  function $(sel, root) {
    return (root || document).querySelector(sel);
  }

  function $$(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }

  function csrfToken() {
    var m = $('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') || '' : '';
  }

  /** An error from the JSON API: `{"error":{"code","message","hint"}}`. */
  function ApiError(code, message, hint, status) {
    this.code = code;
    this.message = message;
    this.hint = hint || '';
    this.status = status || 0;
  }

  /** Requests in flight: `<body data-pending>` while any is (tests and styles can wait on it). */
  var pending = 0;
  function track(delta) {
    pending += delta;
    if (pending > 0) document.body.setAttribute('data-pending', String(pending));
    else document.body.removeAttribute('data-pending');
  }

  /** Sends a JSON request; resolves to the parsed answer (null for 204), rejects with ApiError. */
  function api(method, url, body) {
    track(1);
    var done = function () { track(-1); };
    return send(method, url, body).then(
      function (v) { done(); return v; },
      function (e) { done(); throw e; }
    );
  }

  function send(method, url, body) {
    var headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
    var init = { method: method, headers: headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(
      function (res) {
        var type = res.headers.get('content-type') || '';
        var parsed = type.indexOf('json') >= 0 ? res.json().catch(function () { return null; }) : Promise.resolve(null);
        return parsed.then(function (data) {
          if (res.ok) return data;
          var e = (data && data.error) || {};
          var fallback = res.status === 403
            ? 'Your session has changed; reload the page and try again.'
            : 'The server answered ' + res.status + '.';
          throw new ApiError(e.code || 'http_' + res.status, e.message || fallback, e.hint, res.status);
        });
      },
      function () {
        throw new ApiError('network', 'Could not reach the Tripwright server; the change was not saved.', 'Check the connection, then try again.');
      }
    );
  }

  /** "09:05" in the browser's time zone, from an RFC 3339 time ('' when it is not one). */
  function hourMinute(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return '';
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  /** Shows a message in a notice box (or hides it with a null message). */
  function show(box, message, hint) {
    if (!box) return;
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!message) {
      box.hidden = true;
      return;
    }
    var p = document.createElement('p');
    p.className = 'error-message';
    p.textContent = message;
    box.appendChild(p);
    if (hint) {
      var h = document.createElement('p');
      h.className = 'error-hint';
      h.textContent = hint;
      box.appendChild(h);
    }
    box.hidden = false;
  }

  // ------------------------------------------------------------------ the list

  function ListPage(main) {
    this.main = main;
    this.id = main.getAttribute('data-list-id') || '';
    this.base = '/api/lists/' + encodeURIComponent(this.id);
    this.rows = $('#list-rows', main);
    this.template = $('#item-row-template', main);
    this.errorBox = $('#list-error', main);
    this.noticeBox = $('#list-notice', main);
  }

  ListPage.prototype.start = function () {
    var self = this;
    this.main.classList.add('js');
    var rows = this.rows;
    if (!rows) return;

    rows.addEventListener('input', function (ev) {
      var t = ev.target;
      if (t.classList && t.classList.contains('qty')) self.showQty(t);
    });
    rows.addEventListener('change', function (ev) {
      var t = ev.target;
      var tr = t.closest ? t.closest('tr.item') : null;
      if (!tr) return;
      if (t.classList.contains('qty-home')) self.patch(tr, { qty_home: Number(t.value) });
      else if (t.classList.contains('qty-take')) self.patch(tr, { qty_take: Number(t.value) });
      else if (t.classList.contains('item-taken')) {
        tr.classList.toggle('taken', t.checked);
        self.progress();
        self.patch(tr, { taken: t.checked });
      } else if (t.classList.contains('item-name')) self.rename(tr, t);
    });
    // The row's buttons submit its form (keyboard too): up, down, remove, or save (Enter in
    // the name field).
    rows.addEventListener('submit', function (ev) {
      var form = ev.target;
      var tr = form.closest ? form.closest('tr.item') : null;
      if (!tr) return;
      ev.preventDefault();
      var btn = ev.submitter;
      var action = btn && btn.value ? btn.value : 'save';
      if (action === 'up' || action === 'down') self.move(tr, action, btn);
      else if (action === 'remove') self.remove(tr);
      else {
        var name = $('.item-name', tr);
        if (name && name.value !== name.defaultValue) self.rename(tr, name);
      }
    });

    var add = $('#add-item-form', this.main);
    if (add) {
      add.addEventListener('submit', function (ev) {
        ev.preventDefault();
        self.addFromForm(add);
      });
    }

    var rename = $('#rename-form', this.main);
    if (rename) {
      rename.addEventListener('submit', function (ev) {
        ev.preventDefault();
        self.renameList(rename);
      });
    }

    var del = $('#delete-list-form', this.main);
    if (del) {
      del.addEventListener('submit', function (ev) {
        if (!window.confirm('Delete this list and all its items?')) ev.preventDefault();
      });
    }

    this.initSuggestions();
    this.relabelAll();
    this.ends();
    this.progress();
  };

  ListPage.prototype.error = function (e) {
    show(this.errorBox, e ? e.message : null, e ? e.hint : null);
    if (e && this.errorBox && this.errorBox.scrollIntoView) this.errorBox.scrollIntoView({ block: 'nearest' });
  };

  ListPage.prototype.notice = function (message) {
    var box = this.noticeBox;
    if (!box) return;
    box.textContent = message || '';
    box.hidden = !message;
    if (message) {
      clearTimeout(this.noticeTimer);
      this.noticeTimer = setTimeout(function () { box.hidden = true; }, 6000);
    }
  };

  ListPage.prototype.showQty = function (input) {
    var out = input.parentNode ? $('output', input.parentNode) : null;
    if (out) out.textContent = input.value;
  };

  ListPage.prototype.itemUrl = function (tr) {
    return this.base + '/items/' + encodeURIComponent(tr.getAttribute('data-item-id') || '');
  };

  /** Runs `job` after the row's earlier requests, so each one sends the latest version. */
  ListPage.prototype.queue = function (tr, job) {
    var prev = tr.queue || Promise.resolve();
    var next = prev.then(job, job);
    tr.queue = next.catch(function () { /* reported by job */ });
    return next;
  };

  /** The row's inputs as they are now, for the fields named in `change`. */
  ListPage.prototype.current = function (tr, change) {
    var body = {};
    Object.keys(change).forEach(function (k) {
      var input = k === 'qty_home' ? $('.qty-home', tr) : k === 'qty_take' ? $('.qty-take', tr) : k === 'taken' ? $('.item-taken', tr) : null;
      if (!input) body[k] = change[k];
      else body[k] = k === 'taken' ? !!input.checked : Number(input.value);
    });
    return body;
  };

  ListPage.prototype.patch = function (tr, change) {
    var self = this;
    // Saves queued behind this one: a slider moved step by step sends each step, and an
    // earlier step's answer must not move the slider back under the user's hand.
    tr.unsent = (tr.unsent || 0) + 1;
    return this.queue(tr, function () {
      // The values at sending time, so the last save always carries the latest ones.
      var body = self.current(tr, change);
      body.version = Number(tr.getAttribute('data-version'));
      tr.setAttribute('aria-busy', 'true');
      return api('PATCH', self.itemUrl(tr), body).then(
        function (item) {
          tr.unsent -= 1;
          tr.removeAttribute('aria-busy');
          self.error(null);
          if (!item) return;
          if (tr.unsent > 0) self.setVersion(tr, item.version);
          else self.apply(tr, item);
        },
        function (e) {
          tr.unsent -= 1;
          tr.removeAttribute('aria-busy');
          if (e.code === 'changed_elsewhere' || e.status === 404) {
            self.notice(e.status === 404 ? 'This item was removed in another tab — reloaded.' : capital(e.message) + '.');
          } else {
            self.error(e);
          }
          return self.reload(tr);
        }
      );
    });
  };

  ListPage.prototype.rename = function (tr, input) {
    var name = input.value.trim();
    if (!name) {
      this.error(new ApiError('invalid_name', 'The item needs a name.', 'Type a name, or remove the item.'));
      input.value = input.defaultValue;
      return;
    }
    this.patch(tr, { name: name });
  };

  /** Records the row's version (for the next save and the no-JS form). */
  ListPage.prototype.setVersion = function (tr, version) {
    tr.setAttribute('data-version', String(version));
    var v = $('.row-version', tr);
    if (v) v.value = String(version);
  };

  /** Writes a server item into its row. */
  ListPage.prototype.apply = function (tr, item) {
    this.setVersion(tr, item.version);
    var name = $('.item-name', tr);
    if (name) {
      name.value = item.name;
      name.defaultValue = item.name;
    }
    var pairs = [['.qty-home', item.qty_home], ['.qty-take', item.qty_take]];
    var self = this;
    pairs.forEach(function (p) {
      var input = $(p[0], tr);
      if (input) {
        input.value = String(p[1]);
        self.showQty(input);
      }
    });
    var taken = $('.item-taken', tr);
    if (taken) taken.checked = !!item.taken;
    tr.classList.toggle('taken', !!item.taken);
    this.relabel(tr);
    this.progress();
  };

  /** Reloads one row (or all versions, after a move) from the server. */
  ListPage.prototype.reload = function (tr) {
    var self = this;
    return api('GET', this.base).then(
      function (list) {
        var id = tr.getAttribute('data-item-id');
        var item = null;
        (list.items || []).forEach(function (i) { if (i.id === id) item = i; });
        if (item) self.apply(tr, item);
        else if (tr.parentNode) {
          tr.parentNode.removeChild(tr);
          self.ends();
          self.progress();
        }
      },
      function (e) { self.error(e); }
    );
  };

  ListPage.prototype.relabel = function (tr) {
    var name = ($('.item-name', tr) || {}).value || '';
    var labels = [
      ['.item-name', 'Name of ' + name],
      ['.qty-home', 'At home: ' + name],
      ['.qty-take', 'To take: ' + name],
      ['.item-taken', 'Taken: ' + name],
      ['.item-up', 'Move ' + name + ' up'],
      ['.item-down', 'Move ' + name + ' down'],
      ['.item-remove', 'Remove ' + name]
    ];
    labels.forEach(function (l) {
      var e = $(l[0], tr);
      if (e) e.setAttribute('aria-label', l[1]);
    });
  };

  ListPage.prototype.relabelAll = function () {
    var self = this;
    $$('tr.item', this.rows).forEach(function (tr) { self.relabel(tr); });
  };

  /** Disables "up" on the first row and "down" on the last. */
  ListPage.prototype.ends = function () {
    var rows = $$('tr.item', this.rows);
    rows.forEach(function (tr, i) {
      var up = $('.item-up', tr);
      var down = $('.item-down', tr);
      if (up) up.disabled = i === 0;
      if (down) down.disabled = i === rows.length - 1;
    });
    var empty = $('#list-empty', this.main);
    if (empty) empty.hidden = rows.length > 0;
  };

  /** "X out of Y items taken (Z%)" and the bar, from the ticks on the page. */
  ListPage.prototype.progress = function () {
    var boxes = $$('tr.item .item-taken', this.rows);
    var total = boxes.length;
    var taken = boxes.filter(function (b) { return b.checked; }).length;
    // Rounded down, as the server and the PDF do: 100% only when everything is taken.
    var pct = total ? Math.floor((taken * 100) / total) : 0;
    var text = $('#list-progress');
    if (text) text.textContent = taken + ' out of ' + total + (total === 1 ? ' item' : ' items') + ' taken (' + pct + '%)';
    var bar = $('#list-progress-bar');
    if (bar) {
      bar.max = Math.max(total, 1);
      bar.value = taken;
      bar.textContent = pct + '%';
    }
  };

  /** A new row from the page's pattern, filled with `item`. */
  ListPage.prototype.row = function (item) {
    if (!this.template || !this.template.content) return null;
    var tr = this.template.content.querySelector('tr.item').cloneNode(true);
    var formId = 'row-' + item.id;
    tr.id = 'item-' + item.id;
    tr.setAttribute('data-item-id', item.id);
    $$('[form]', tr).forEach(function (e) { e.setAttribute('form', formId); });
    var form = $('form', tr);
    if (form) {
      form.id = formId;
      form.setAttribute('action', '/lists/' + encodeURIComponent(this.id) + '/items/' + encodeURIComponent(item.id));
    }
    this.apply(tr, item);
    return tr;
  };

  ListPage.prototype.append = function (item) {
    var tr = this.row(item);
    if (!tr) {
      location.reload();
      return null;
    }
    this.rows.appendChild(tr);
    this.ends();
    this.progress();
    return tr;
  };

  ListPage.prototype.add = function (name, home, take) {
    var self = this;
    return api('POST', this.base + '/items', { name: name, qty_home: home, qty_take: take }).then(function (item) {
      self.error(null);
      var tr = self.append(item);
      if (tr) self.notice('Added ' + item.name + '.');
      return item;
    });
  };

  ListPage.prototype.addFromForm = function (form) {
    var self = this;
    var nameInput = $('#new-item-name', form);
    var name = nameInput ? nameInput.value.trim() : '';
    if (!name) {
      this.error(new ApiError('invalid_name', 'The item needs a name.', 'Type what to pack, e.g. "Rain jacket".'));
      if (nameInput) nameInput.focus();
      return;
    }
    var home = Number(($('#new-item-home', form) || {}).value || 0);
    var take = Number(($('#new-item-take', form) || {}).value || 1);
    var btn = $('#add-item', form);
    if (btn) btn.disabled = true;
    this.add(name, home, take).then(
      function () {
        if (btn) btn.disabled = false;
        nameInput.value = '';
        nameInput.focus();
        self.dropSuggestion(name);
      },
      function (e) {
        if (btn) btn.disabled = false;
        self.error(e);
        nameInput.focus();
      }
    );
  };

  ListPage.prototype.move = function (tr, dir, btn) {
    var self = this;
    var rows = $$('tr.item', this.rows);
    var at = rows.indexOf(tr);
    var to = dir === 'up' ? at - 1 : at + 1;
    if (at < 0 || to < 0 || to >= rows.length) return;
    this.queue(tr, function () {
      return api('POST', self.itemUrl(tr) + '/move', { to: to }).then(
        function (list) {
          self.error(null);
          var byId = {};
          $$('tr.item', self.rows).forEach(function (r) { byId[r.getAttribute('data-item-id')] = r; });
          (list.items || []).forEach(function (item) {
            var r = byId[item.id];
            if (r) {
              self.rows.appendChild(r);
              // Moving renumbers positions and bumps those items' versions.
              r.setAttribute('data-version', String(item.version));
              var v = $('.row-version', r);
              if (v) v.value = String(item.version);
            }
          });
          self.ends();
          var focus = btn && !btn.disabled ? btn : $(dir === 'up' ? '.item-down' : '.item-up', tr);
          if (focus) focus.focus();
          var name = ($('.item-name', tr) || {}).value || 'The item';
          self.notice(name + ' moved ' + dir + '.');
        },
        function (e) {
          self.error(e);
          return self.reload(tr);
        }
      );
    });
  };

  ListPage.prototype.remove = function (tr) {
    var self = this;
    var name = ($('.item-name', tr) || {}).value || 'The item';
    this.queue(tr, function () {
      return api('DELETE', self.itemUrl(tr)).then(
        function () {
          var next = tr.nextElementSibling || tr.previousElementSibling;
          if (tr.parentNode) tr.parentNode.removeChild(tr);
          self.ends();
          self.progress();
          self.notice('Removed ' + name + '.');
          var focus = next ? $('.item-remove', next) : $('#new-item-name');
          if (focus) focus.focus();
        },
        function (e) {
          if (e.status === 404 && tr.parentNode) {
            tr.parentNode.removeChild(tr);
            self.ends();
            self.progress();
            return;
          }
          self.error(e);
        }
      );
    });
  };

  ListPage.prototype.renameList = function (form) {
    var self = this;
    var input = $('#list-title-input', form);
    var title = input ? input.value.trim() : '';
    var body = { title: title, version: Number(this.main.getAttribute('data-version')) };
    api('PATCH', this.base, body).then(
      function (list) {
        self.error(null);
        self.main.setAttribute('data-version', String(list.version));
        var v = $('input[name="version"]', form);
        if (v) v.value = String(list.version);
        var h = $('#list-title');
        if (h) h.textContent = list.title;
        document.title = list.title + ' · Tripwright';
        self.notice('Renamed to ' + list.title + '.');
      },
      function (e) {
        self.error(e);
        if (e.code === 'changed_elsewhere') {
          api('GET', self.base).then(function (list) {
            self.main.setAttribute('data-version', String(list.version));
            var v = $('input[name="version"]', form);
            if (v) v.value = String(list.version);
            var h = $('#list-title');
            if (h) h.textContent = list.title;
            if (input) input.value = list.title;
          });
        }
      }
    );
  };

  // ------------------------------------------------------------- suggestions

  ListPage.prototype.ignoredKey = function () {
    return 'tripwright:ignored:' + this.id;
  };

  ListPage.prototype.ignored = function () {
    try {
      var v = JSON.parse(window.localStorage.getItem(this.ignoredKey()) || '[]');
      return Array.isArray(v) ? v : [];
    } catch (_) {
      return [];
    }
  };

  ListPage.prototype.ignore = function (name) {
    var list = this.ignored();
    if (list.indexOf(name) < 0) list.push(name);
    try {
      window.localStorage.setItem(this.ignoredKey(), JSON.stringify(list));
    } catch (_) { /* private mode: ignored for this page only */ }
  };

  ListPage.prototype.dropSuggestion = function (name) {
    var key = String(name).toLowerCase();
    $$('li.suggestion', this.main).forEach(function (li) {
      if ((li.getAttribute('data-name') || '').toLowerCase() === key) li.parentNode.removeChild(li);
    });
    this.suggestionsLeft();
  };

  ListPage.prototype.suggestionsLeft = function () {
    var box = $('#suggestions', this.main);
    if (!box) return;
    var left = $$('li.suggestion', box).filter(function (li) { return !li.hidden; }).length;
    var none = $('#no-suggestions', box);
    if (!left && !none) {
      none = document.createElement('p');
      none.id = 'no-suggestions';
      none.className = 'empty';
      none.textContent = 'Nothing more to suggest.';
      var ul = $('.suggestion-list', box);
      box.insertBefore(none, ul ? ul.nextSibling : null);
    }
  };

  ListPage.prototype.initSuggestions = function () {
    var self = this;
    var box = $('#suggestions', this.main);
    if (!box) return;
    var ignored = this.ignored();
    $$('li.suggestion', box).forEach(function (li) {
      if (ignored.indexOf(li.getAttribute('data-name')) >= 0) li.hidden = true;
      var btn = $('.suggestion-ignore', li);
      if (btn) btn.hidden = false;
    });
    box.addEventListener('click', function (ev) {
      var btn = ev.target.closest ? ev.target.closest('.suggestion-ignore') : null;
      if (!btn) return;
      var li = btn.closest('li.suggestion');
      if (!li) return;
      self.ignore(li.getAttribute('data-name'));
      li.hidden = true;
      self.suggestionsLeft();
      self.notice('Ignored ' + li.getAttribute('data-name') + '.');
    });
    box.addEventListener('submit', function (ev) {
      var form = ev.target;
      var li = form.closest ? form.closest('li.suggestion') : null;
      if (!li) return;
      ev.preventDefault();
      var name = ($('input[name="name"]', form) || {}).value || '';
      var take = Number(($('input[name="qty_take"]', form) || {}).value || 1);
      var btn = $('.suggestion-add', form);
      if (btn) btn.disabled = true;
      self.add(name, 0, take).then(
        function () { self.dropSuggestion(name); },
        function (e) {
          if (btn) btn.disabled = false;
          self.error(e);
        }
      );
    });
    this.suggestionsLeft();
  };

  function capital(s) {
    s = String(s || '');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  // ------------------------------------------------------------------ notes

  function NotesPage(main) {
    this.main = main;
    this.id = main.getAttribute('data-list-id') || '';
    this.url = '/api/lists/' + encodeURIComponent(this.id) + '/notes';
    this.form = $('#notes-form', main);
    this.text = $('#notes', main);
    this.status = $('#notes-status', main);
    this.errorBox = $('#notes-error', main);
    this.timer = null;
    this.saving = null;
    this.dirty = false;
  }

  NotesPage.prototype.start = function () {
    var self = this;
    if (!this.form || !this.text) return;
    this.main.classList.add('js');
    var saved = $('#notes-saved', this.main);
    var iso = saved ? saved.getAttribute('datetime') : '';
    if (iso) this.showSaved(iso);
    this.text.addEventListener('input', function () {
      self.dirty = true;
      self.say('Unsaved changes…');
      clearTimeout(self.timer);
      self.timer = setTimeout(function () { self.save(); }, 1000);
    });
    this.form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      clearTimeout(self.timer);
      self.save();
    });
    window.addEventListener('beforeunload', function (ev) {
      if (self.dirty) {
        ev.preventDefault();
        ev.returnValue = '';
      }
    });
  };

  NotesPage.prototype.say = function (text, iso) {
    if (!this.status) return;
    while (this.status.firstChild) this.status.removeChild(this.status.firstChild);
    var e = document.createElement(iso ? 'time' : 'span');
    e.id = 'notes-saved';
    if (iso) e.setAttribute('datetime', iso);
    e.textContent = text;
    this.status.appendChild(e);
  };

  NotesPage.prototype.showSaved = function (iso) {
    var hm = hourMinute(iso);
    if (hm) this.say('Last saved ' + hm, iso);
  };

  NotesPage.prototype.setVersion = function (v) {
    this.main.setAttribute('data-version', String(v));
    var input = $('input[name="version"]', this.form);
    if (input) input.value = String(v);
  };

  NotesPage.prototype.save = function () {
    var self = this;
    if (this.saving) {
      // One save at a time; the latest text goes when the one in flight is back.
      this.again = true;
      return this.saving;
    }
    var sent = this.text.value;
    this.say('Saving…');
    var body = { notes: sent, version: Number(this.main.getAttribute('data-version')) };
    this.saving = api('PUT', this.url, body).then(
      function (list) {
        self.setVersion(list.version);
        show(self.errorBox, null);
        if (self.text.value === sent) self.dirty = false;
        self.showSaved(list.notes_saved_at);
      },
      function (e) {
        if (e.code === 'changed_elsewhere') {
          return api('GET', '/api/lists/' + encodeURIComponent(self.id)).then(function (list) {
            self.keepMine(sent);
            self.text.value = list.notes;
            self.setVersion(list.version);
            self.dirty = false;
            show(self.errorBox, capital(e.message) + '.', 'Your text is kept below the notes; copy what you need, then save again.');
            if (list.notes_saved_at) self.showSaved(list.notes_saved_at);
          });
        }
        show(self.errorBox, e.message, e.hint);
        self.say('Not saved');
        return null;
      }
    ).then(function () {
      self.saving = null;
      if (self.again) {
        self.again = false;
        if (self.dirty) self.save();
      }
    });
    return this.saving;
  };

  /** After a conflict: the text the user had, kept read-only to copy from. */
  NotesPage.prototype.keepMine = function (text) {
    var box = $('#notes-mine', this.main);
    if (!box) {
      box = document.createElement('details');
      box.id = 'notes-mine';
      box.open = true;
      var s = document.createElement('summary');
      s.textContent = 'Your unsaved text';
      box.appendChild(s);
      var t = document.createElement('textarea');
      t.readOnly = true;
      t.rows = 8;
      t.setAttribute('aria-label', 'Your unsaved text');
      box.appendChild(t);
      this.form.parentNode.insertBefore(box, this.form.nextSibling);
    }
    $('textarea', box).value = text;
  };

  function init() {
    var list = $('main#list[data-list-id]');
    if (list && window.fetch) new ListPage(list).start();
    var notes = $('main#notes-page[data-list-id]');
    if (notes && window.fetch) new NotesPage(notes).start();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

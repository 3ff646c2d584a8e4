// Tripwright web app: progressive enhancement of the server-rendered pages.
//
// Every page works without this script (plain forms, server-rendered plans). With it:
// destination suggestions, the days slider's read-out, a JSON submit with inline errors,
// live progress over Server-Sent Events, cancel / regenerate-day / share buttons and the
// Leaflet map. No framework, no build step, and nothing that a strict Content-Security-Policy
// forbids: no eval, no inline scripts or style attributes, and untrusted strings only ever go
// through textContent. The one use of innerHTML is the `section` HTML that the server renders
// and escapes itself.
(function () {
  'use strict';

  /** First element matching `sel` under `root`. */
  function $(sel, root) {
    return (root || document).querySelector(sel);
  }

  /** All elements matching `sel` under `root`, as an array. */
  function $$(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }

  /** Escapes a string for the few Leaflet APIs that take HTML (attribution). */
  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  /** Makes an element with a class and text content. */
  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /** Parses an SSE message's JSON data; null when it is not JSON. */
  function parseData(ev) {
    try {
      return JSON.parse(ev.data);
    } catch (_) {
      return null;
    }
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

  /** POSTs JSON (or nothing) with the CSRF header; resolves to {status, data}, rejects with ApiError. */
  function apiPost(url, body) {
    var headers = { Accept: 'application/json', 'X-CSRF-Token': csrfToken() };
    var init = { method: 'POST', headers: headers, credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(
      function (res) {
        var type = res.headers.get('content-type') || '';
        var parsed = type.indexOf('json') >= 0 ? res.json().catch(function () { return null; }) : Promise.resolve(null);
        return parsed.then(function (data) {
          if (res.ok) return { status: res.status, data: data };
          var e = (data && data.error) || {};
          var fallback = res.status === 403
            ? 'Your session has changed; reload the page and try again.'
            : 'The server answered ' + res.status + ' ' + (res.statusText || '') + '.';
          throw new ApiError(e.code || 'http_' + res.status, e.message || fallback, e.hint, res.status);
        });
      },
      function () {
        throw new ApiError('network', 'Could not reach the Tripwright server.', 'Check that it is running, then try again.');
      }
    );
  }

  /** Loads a script or stylesheet once (for pages whose template did not include Leaflet). */
  var loaded = {};
  function loadScript(src) {
    if (!loaded[src]) {
      loaded[src] = new Promise(function (resolve, reject) {
        var s = document.createElement('script');
        s.src = src;
        s.onload = resolve;
        s.onerror = function () { reject(new Error('could not load ' + src)); };
        document.head.appendChild(s);
      });
    }
    return loaded[src];
  }
  function loadCss(href) {
    if ($('link[rel="stylesheet"][href="' + href + '"]')) return Promise.resolve();
    if (!loaded[href]) {
      loaded[href] = new Promise(function (resolve) {
        var l = document.createElement('link');
        l.rel = 'stylesheet';
        l.href = href;
        l.onload = resolve;
        l.onerror = resolve; // the map still works, only less pretty
        document.head.appendChild(l);
      });
    }
    return loaded[href];
  }

  // ---------------------------------------------------------------- navigation

  /** Marks the sidebar link of the current page (when the template did not). */
  function markCurrentNav() {
    var nav = $('#sidebar');
    if (!nav || $('[aria-current]', nav)) return;
    var path = location.pathname;
    $$('a[href]', nav).forEach(function (a) {
      if (a.classList.contains('brand') || a.classList.contains('logo-link') || a.querySelector('img, svg')) return;
      var href = a.getAttribute('href');
      if (href === path || (href !== '/' && path.indexOf(href + '/') === 0)) a.setAttribute('aria-current', 'page');
    });
  }

  // ------------------------------------------------------------------ planner

  function initPlanner() {
    var form = $('#plan-form');
    if (!form) return;

    var days = $('#days');
    var out = $('#days-value');
    if (days && out) {
      var showDays = function () {
        out.textContent = days.value + (days.value === '1' ? ' day' : ' days');
      };
      days.addEventListener('input', showDays);
      showDays();
    }

    var dest = $('#destination');
    var list = $('#destination-suggestions');
    if (dest && list && window.fetch) initSuggestions(dest, list);

    var currency = $('#currency');
    if (currency) {
      currency.addEventListener('blur', function () {
        currency.value = currency.value.trim().toUpperCase();
      });
    }

    if (window.fetch && window.JSON) {
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        submitPlan(form);
      });
    }
  }

  /** Fills the destination datalist from /api/destinations as the user types (debounced). */
  function initSuggestions(input, list) {
    var timer = null;
    var controller = null;
    var cache = {};
    var last = '';

    function fill(items) {
      while (list.firstChild) list.removeChild(list.firstChild);
      (items || []).slice(0, 10).forEach(function (s) {
        if (!s || typeof s !== 'object') return;
        var o = document.createElement('option');
        o.value = s.label || s.name || '';
        list.appendChild(o);
      });
    }

    function lookup() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 2) {
        fill([]);
        return;
      }
      if (cache[q]) {
        fill(cache[q]);
        return;
      }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch('/api/destinations?q=' + encodeURIComponent(q), {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        signal: controller ? controller.signal : undefined
      })
        .then(function (res) { return res.ok ? res.json() : []; })
        .then(function (items) {
          if (!Array.isArray(items)) return;
          cache[q] = items;
          if (input.value.trim() === q) fill(items);
        })
        .catch(function () { /* aborted or offline: suggestions are optional */ });
    }

    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 150);
    });
  }

  /** Reads the planner form into a TripRequest; fields left empty are omitted. */
  function readRequest(form) {
    var f = form.elements;
    var req = {};
    function val(name) {
      var e = f.namedItem(name);
      return e && typeof e.value === 'string' ? e.value.trim() : '';
    }
    function num(name, label, integer) {
      var v = val(name);
      if (v === '') return undefined;
      var n = Number(v);
      if (!isFinite(n) || (integer && Math.floor(n) !== n)) {
        throw new ApiError('invalid_number', label + ' must be a ' + (integer ? 'whole ' : '') + 'number, got "' + v + '".', '');
      }
      return n;
    }
    req.destination = val('destination');
    var prefs = f.namedItem('prefs');
    if (prefs) req.prefs = prefs.value;
    var fields = [
      ['days', 'Days', true],
      ['month', 'Month', true],
      ['budget', 'Budget', false],
      ['travelers', 'Travelers', true],
      ['max_price', 'Maximum price', false],
      ['min_stars', 'Minimum stars', true]
    ];
    fields.forEach(function (d) {
      var n = num(d[0], d[1], d[2]);
      if (n !== undefined) req[d[0]] = n;
    });
    var cur = val('currency').toUpperCase();
    if (cur) req.currency = cur;
    var start = val('start_date');
    if (start) req.start_date = start;
    return req;
  }

  function showFormError(form, err) {
    var box = $('#form-error');
    if (!box) {
      box = el('div', 'form-error');
      box.id = 'form-error';
      box.setAttribute('role', 'alert');
      // Just before the form's child that holds the Generate button (or at the end).
      var anchor = $('#generate', form);
      while (anchor && anchor.parentNode !== form) anchor = anchor.parentNode;
      form.insertBefore(box, anchor);
    }
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!err) {
      box.hidden = true;
      return;
    }
    box.appendChild(el('p', 'error-message', err.message));
    if (err.hint) box.appendChild(el('p', 'error-hint', err.hint));
    box.hidden = false;
  }

  function submitPlan(form) {
    var btn = $('#generate', form);
    var req;
    try {
      req = readRequest(form);
    } catch (e) {
      showFormError(form, e);
      return;
    }
    showFormError(form, null);
    var label = btn ? btn.textContent : '';
    if (btn) {
      btn.disabled = true;
      btn.setAttribute('aria-busy', 'true');
      btn.textContent = 'Starting…';
    }
    form.setAttribute('aria-busy', 'true');
    apiPost('/api/plans', req).then(
      function (r) {
        var url = r.data && typeof r.data.url === 'string' ? r.data.url : null;
        if (!url && r.data && r.data.id) url = '/plans/' + encodeURIComponent(r.data.id);
        if (!url) throw new ApiError('bad_response', 'The server did not say where the plan is.', 'Try again.');
        location.assign(url);
      }
    ).catch(function (e) {
      if (!(e instanceof ApiError)) e = new ApiError('error', String(e && e.message || e), '');
      showFormError(form, e);
      form.removeAttribute('aria-busy');
      if (btn) {
        btn.disabled = false;
        btn.removeAttribute('aria-busy');
        btn.textContent = label;
      }
    });
  }

  // --------------------------------------------------------------- plan page

  var AGENT_LABEL = { waiting: 'waiting', running: 'running…', done: 'done', failed: 'failed' };

  function initPlan() {
    var main = $('#plan');
    if (!main) return;
    var plan = new PlanPage(main);
    plan.start();
  }

  /** The live plan page: one per `<main id="plan">`. */
  function PlanPage(main) {
    this.main = main;
    this.id = main.getAttribute('data-plan-id') || '';
    this.eventsUrl = main.getAttribute('data-events') || '';
    this.source = null;
    this.opens = 0;
    this.timers = {};
    this.ticker = null;
    this.map = null;
  }

  PlanPage.prototype.start = function () {
    var self = this;
    this.map = new PlanMap();
    this.map.initFrom($('#map'));

    var cancel = $('#cancel');
    if (cancel) cancel.addEventListener('click', function () { self.cancel(cancel); });
    var share = $('#share');
    if (share) share.addEventListener('click', function () { self.share(share); });
    this.main.addEventListener('click', function (ev) {
      var t = ev.target;
      var btn = t && t.closest ? t.closest('.regenerate-day') : null;
      if (btn && self.main.contains(btn)) {
        ev.preventDefault();
        self.regenerate(btn);
      }
    });

    // Agents already running when the page was rendered: tick from their shown elapsed time.
    $$('#progress li.agent[data-status="running"]').forEach(function (li) {
      var shown = parseFloat(($('.agent-elapsed', li) || {}).textContent || '0');
      self.timers[li.getAttribute('data-agent')] = now() - (isFinite(shown) ? shown * 1000 : 0);
    });
    this.tick();

    if (this.state() === 'running' && this.eventsUrl) this.connect();
  };

  PlanPage.prototype.state = function () {
    return this.main.getAttribute('data-state') || '';
  };

  /** Opens the event stream (the server replays it from the start, then goes live). */
  PlanPage.prototype.connect = function () {
    var self = this;
    if (this.source || !window.EventSource || !this.eventsUrl) return;
    var es = new EventSource(this.eventsUrl);
    this.source = es;
    this.opens = 0;
    this.main.setAttribute('aria-busy', 'true');
    es.addEventListener('open', function () {
      // A reconnect replays the whole stream: drop the text streamed so far so it is not doubled.
      if (self.opens++ > 0) $$('.live', self.main).forEach(function (p) { p.textContent = ''; });
      self.notice(null);
    });
    es.addEventListener('agent', function (ev) { var d = parseData(ev); if (d) self.onAgent(d); });
    es.addEventListener('text', function (ev) { var d = parseData(ev); if (d) self.onText(d); });
    es.addEventListener('section', function (ev) { var d = parseData(ev); if (d) self.onSection(d); });
    es.addEventListener('done', function (ev) { self.onDone(parseData(ev) || {}); });
    es.addEventListener('failed', function (ev) { self.onFailed(parseData(ev) || {}); });
    es.addEventListener('cancelled', function () { self.onCancelled(); });
    es.addEventListener('error', function () {
      if (es.readyState === 2 /* CLOSED */) {
        self.source = null;
        self.notice('alert', 'Lost the connection to the server. Reload the page to see the latest state.');
      } else {
        self.notice('status', 'Connection interrupted; reconnecting…');
      }
    });
  };

  PlanPage.prototype.disconnect = function () {
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  };

  PlanPage.prototype.agentItem = function (agent) {
    var li = null;
    $$('#progress li.agent').forEach(function (x) {
      if (x.getAttribute('data-agent') === agent) li = x;
    });
    if (li) return li;
    var progress = $('#progress');
    if (!progress) return null;
    var list = $('ol, ul', progress);
    if (!list) {
      list = el('ol', 'agents');
      progress.appendChild(list);
    }
    li = el('li', 'agent');
    li.setAttribute('data-agent', agent);
    li.setAttribute('data-status', 'waiting');
    li.appendChild(el('span', 'agent-name', agent));
    li.appendChild(el('span', 'agent-status', AGENT_LABEL.waiting));
    li.appendChild(el('span', 'agent-elapsed', ''));
    list.appendChild(li);
    return li;
  };

  PlanPage.prototype.onAgent = function (d) {
    if (typeof d.agent !== 'string') return;
    var li = this.agentItem(d.agent);
    if (!li) return;
    var status = AGENT_LABEL[d.status] ? d.status : 'waiting';
    li.setAttribute('data-status', status);
    var st = $('.agent-status', li);
    if (st) st.textContent = AGENT_LABEL[status];
    var errBox = $('.agent-error', li);
    if (status === 'failed' && d.error) {
      if (!errBox) {
        errBox = el('span', 'agent-error');
        li.appendChild(errBox);
      }
      errBox.textContent = String(d.error);
    } else if (errBox) {
      errBox.parentNode.removeChild(errBox);
    }
    var ms = typeof d.elapsed_ms === 'number' && isFinite(d.elapsed_ms) ? d.elapsed_ms : 0;
    if (status === 'running') {
      this.timers[d.agent] = now() - ms;
      this.tick();
    } else {
      delete this.timers[d.agent];
      var e = $('.agent-elapsed', li);
      if (e && status !== 'waiting') e.textContent = formatSeconds(ms);
    }
  };

  /** Updates the elapsed time of every running agent, ten times a second while any runs. */
  PlanPage.prototype.tick = function () {
    var self = this;
    var running = Object.keys(this.timers);
    running.forEach(function (agent) {
      var li = self.agentItem(agent);
      var e = li && $('.agent-elapsed', li);
      if (e) e.textContent = formatSeconds(now() - self.timers[agent]);
    });
    if (running.length && !this.ticker) {
      this.ticker = setInterval(function () { self.tick(); }, 100);
    } else if (!running.length && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
  };

  /** The element streamed prose goes to: a day's live intro, or the summary's live text. */
  PlanPage.prototype.liveTarget = function (day) {
    if (day === null || day === undefined) {
      var summary = $('#summary');
      if (!summary) return null;
      var s = $('.summary-text.live', summary) || $('.live', summary);
      if (!s) {
        dropPlaceholders(summary);
        s = el('p', 'summary-text live');
        summary.insertBefore(s, firstAfterHeading(summary));
      }
      return s;
    }
    var n = String(day);
    var p = null;
    $$('.day-intro.live').forEach(function (x) {
      if (x.getAttribute('data-day') === n) p = x;
    });
    if (p) return p;
    var itinerary = $('#itinerary');
    if (!itinerary) return null;
    var sec = null;
    $$('section.day', itinerary).forEach(function (x) {
      if (x.getAttribute('data-day') === n) sec = x;
    });
    if (!sec) {
      dropPlaceholders(itinerary);
      sec = el('section', 'day');
      sec.setAttribute('data-day', n);
      sec.appendChild(el('h3', null, 'Day ' + n));
      // Keep the days in order even when their text arrives out of order.
      var next = null;
      $$('section.day', itinerary).forEach(function (x) {
        if (!next && Number(x.getAttribute('data-day')) > Number(n)) next = x;
      });
      itinerary.insertBefore(sec, next);
    }
    p = el('p', 'day-intro live');
    p.setAttribute('data-day', n);
    var old = $('.day-intro', sec);
    if (old) sec.replaceChild(p, old);
    else sec.insertBefore(p, firstAfterHeading(sec));
    return p;
  };

  PlanPage.prototype.onText = function (d) {
    if (typeof d.text !== 'string') return;
    var target = this.liveTarget(d.day);
    if (target) target.appendChild(document.createTextNode(d.text));
  };

  PlanPage.prototype.onSection = function (d) {
    if (typeof d.section !== 'string') return;
    if (d.section === 'map') {
      if (d.data && typeof d.data === 'object') this.map.update($('#map'), d.data);
      return;
    }
    if (typeof d.html !== 'string') return;
    var target = document.getElementById(d.section);
    if (target && !this.main.contains(target)) return; // only the plan's own sections
    if (!target) {
      if (d.section !== 'warnings') return;
      target = el('section', 'warnings');
      target.id = 'warnings';
      this.main.insertBefore(target, $('#exports'));
    }
    target.innerHTML = d.html; // rendered and escaped by the server
    target.hidden = d.html.trim() === '';
    target.removeAttribute('aria-busy');
    // A rewritten day (`day` set) gets a brief highlight.
    if (typeof d.day === 'number') {
      $$('section.day', target).forEach(function (x) {
        if (x.getAttribute('data-day') === String(d.day)) x.classList.add('updated');
      });
    }
    // A swapped section may hold a new map element.
    var mapEl = $('#map');
    if (mapEl && target.contains(mapEl)) this.map.initFrom(mapEl);
  };

  PlanPage.prototype.finish = function (state) {
    this.main.setAttribute('data-state', state);
    this.main.removeAttribute('aria-busy');
    this.disconnect();
    this.timers = {};
    this.tick();
    $$('.live', this.main).forEach(function (p) { p.classList.remove('live'); });
    // "Planning… the agents are at work." is over.
    $$('[data-while-running]', this.main).forEach(function (p) { p.remove(); });
    $$('.regenerating', this.main).forEach(function (s) {
      s.classList.remove('regenerating');
      s.removeAttribute('aria-busy');
    });
    $$('.regenerate-day', this.main).forEach(function (b) { b.disabled = false; });
    var cancel = $('#cancel');
    if (cancel) {
      cancel.disabled = true;
      cancel.hidden = true;
    }
  };

  PlanPage.prototype.onDone = function (d) {
    this.finish('done');
    var exports = $('#exports');
    if (exports) exports.hidden = false;
    this.notice('status', 'Your plan is ready.');
    if (typeof d.url === 'string' && d.url.charAt(0) === '/' && d.url !== location.pathname && window.history) {
      history.replaceState(null, '', d.url);
    }
  };

  PlanPage.prototype.onFailed = function (d) {
    this.finish('failed');
    var msg = typeof d.message === 'string' && d.message ? d.message : 'The plan could not be made.';
    this.notice('alert', 'Planning failed: ' + msg, { href: '/', text: 'Try again' });
  };

  PlanPage.prototype.onCancelled = function () {
    this.finish('cancelled');
    this.notice('status', 'Planning was cancelled.', { href: '/', text: 'Make a new plan' });
  };

  /** Shows (or clears, with kind null) a message at the top of the plan. */
  PlanPage.prototype.notice = function (kind, message, link) {
    var box = $('#plan-notice');
    if (!kind) {
      if (box) box.hidden = true;
      return;
    }
    if (!box) {
      box = el('div', 'notice');
      box.id = 'plan-notice';
      var heading = $('h1', this.main);
      this.main.insertBefore(box, heading && heading.parentNode === this.main ? heading.nextSibling : this.main.firstChild);
    }
    box.setAttribute('role', kind === 'alert' ? 'alert' : 'status');
    box.className = 'notice notice-' + kind;
    while (box.firstChild) box.removeChild(box.firstChild);
    box.appendChild(el('span', null, message));
    if (link) {
      box.appendChild(document.createTextNode(' '));
      var a = el('a', null, link.text);
      a.href = link.href;
      box.appendChild(a);
    }
    box.hidden = false;
  };

  PlanPage.prototype.cancel = function (btn) {
    var self = this;
    btn.disabled = true;
    apiPost('/api/plans/' + encodeURIComponent(this.id) + '/cancel').then(
      function () {
        self.notice('status', 'Cancelling…');
        if (!self.source) self.onCancelled();
      },
      function (e) {
        btn.disabled = false;
        self.notice('alert', 'Could not cancel: ' + e.message);
      }
    );
  };

  PlanPage.prototype.regenerate = function (btn) {
    var self = this;
    var day = btn.getAttribute('data-day');
    if (!day || !/^\d+$/.test(day)) return;
    // One rewrite at a time: the server refuses a second while the first runs.
    $$('.regenerate-day', this.main).forEach(function (b) { b.disabled = true; });
    var sec = btn.closest('section.day');
    if (sec) {
      sec.classList.add('regenerating');
      sec.setAttribute('aria-busy', 'true');
    }
    apiPost('/api/plans/' + encodeURIComponent(this.id) + '/days/' + day + '/regenerate').then(
      function () {
        self.notice('status', 'Rewriting day ' + day + '…');
        // The new day arrives on the event stream as a `section` event.
        if (!self.source) {
          self.main.setAttribute('data-state', 'running');
          self.connect();
        }
      },
      function (e) {
        $$('.regenerate-day', self.main).forEach(function (b) { b.disabled = false; });
        if (sec) {
          sec.classList.remove('regenerating');
          sec.removeAttribute('aria-busy');
        }
        self.notice('alert', 'Could not regenerate day ' + day + ': ' + e.message);
      }
    );
  };

  PlanPage.prototype.share = function (btn) {
    var self = this;
    btn.disabled = true;
    apiPost('/api/plans/' + encodeURIComponent(this.id) + '/share').then(
      function (r) {
        btn.disabled = false;
        var url = r.data && typeof r.data.url === 'string' ? r.data.url : '';
        if (!url) throw new ApiError('bad_response', 'The server sent no share link.', '');
        var input = $('#share-url');
        if (!input) {
          input = document.createElement('input');
          input.id = 'share-url';
          input.type = 'url';
          input.readOnly = true;
          input.setAttribute('aria-label', 'Share link');
          btn.parentNode.insertBefore(input, btn.nextSibling);
        }
        input.value = new URL(url, location.href).href;
        input.hidden = false;
        input.focus();
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(
            function () { self.notice('status', 'Share link copied to the clipboard.'); },
            function () { /* the link stays selected for copying by hand */ }
          );
        }
      }
    ).catch(function (e) {
      btn.disabled = false;
      self.notice('alert', 'Could not make a share link: ' + (e && e.message ? e.message : e));
    });
  };

  // --------------------------------------------------------------------- map

  var LEAFLET_JS = '/static/vendor/leaflet/leaflet.js';
  var LEAFLET_CSS = '/static/vendor/leaflet/leaflet.css';
  var TOPOJSON_JS = '/static/vendor/topojson-client.min.js';
  var COUNTRIES = '/static/vendor/world-atlas/countries-110m.json';
  var PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6',
    '#9a6324', '#469990', '#800000', '#808000', '#000075', '#e6beff', '#a9a9a9'];

  /** The Leaflet map drawn from `#map[data-plan]`. */
  function PlanMap() {
    this.el = null;
    this.map = null;
    this.overlay = null;
    this.legend = null;
    this.basemap = null;
    this.attribution = null;
  }

  PlanMap.prototype.initFrom = function (mapEl) {
    if (!mapEl) return;
    var raw = mapEl.getAttribute('data-plan');
    if (!raw) return;
    var data;
    try {
      data = JSON.parse(raw);
    } catch (_) {
      return;
    }
    if (data && typeof data === 'object') this.update(mapEl, data);
  };

  function validPoint(p) {
    return p && typeof p.lat === 'number' && typeof p.lon === 'number' && isFinite(p.lat) && isFinite(p.lon) &&
      Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
  }

  function hasPoints(data) {
    if (validPoint(data.hotel)) return true;
    return (data.days || []).some(function (d) { return (d.stops || []).some(validPoint); });
  }

  function ensureLeaflet() {
    return Promise.all([loadCss(LEAFLET_CSS), window.L ? Promise.resolve() : loadScript(LEAFLET_JS)]);
  }

  PlanMap.prototype.update = function (mapEl, data) {
    var self = this;
    if (!mapEl) return;
    mapEl.setAttribute('data-plan', JSON.stringify(data));
    if (!hasPoints(data)) return;
    ensureLeaflet().then(function () {
      self.draw(mapEl, data);
    }).catch(function () {
      mapEl.classList.add('map-unavailable');
      mapEl.textContent = 'The map could not be loaded.';
    });
  };

  PlanMap.prototype.create = function (mapEl, data) {
    var L = window.L;
    if (this.map) {
      try { this.map.remove(); } catch (_) { /* the old element is gone */ }
    }
    this.el = mapEl;
    while (mapEl.firstChild) mapEl.removeChild(mapEl.firstChild);
    mapEl.classList.remove('map-placeholder');
    var map = L.map(mapEl, { scrollWheelZoom: false, worldCopyJump: true });
    this.map = map;
    this.basemap = null;
    this.attribution = null;
    map.createPane('basemap'); // below the overlay pane (z-index in style.css)
    this.overlay = L.featureGroup().addTo(map);
    if (!mapEl.hasAttribute('aria-label')) mapEl.setAttribute('aria-label', 'Map of the hotel and the stops of each day');
    var tileUrl = typeof data.tile_url === 'string' && /^https?:\/\//.test(data.tile_url) ? data.tile_url : null;
    if (tileUrl) {
      L.tileLayer(tileUrl, { maxZoom: 19, attribution: escapeHtml(data.attribution || '') }).addTo(map);
      this.basemap = 'tiles';
    } else {
      mapEl.classList.add('offline-basemap');
      this.basemap = 'offline';
      this.drawCountries();
    }
  };

  /** The offline basemap: world-atlas country shapes as a GeoJSON layer (no tiles). */
  PlanMap.prototype.drawCountries = function () {
    var self = this;
    var map = this.map;
    var topo = window.topojson ? Promise.resolve() : loadScript(TOPOJSON_JS);
    Promise.all([topo, fetch(COUNTRIES, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error('countries ' + r.status);
      return r.json();
    })]).then(function (res) {
      if (self.map !== map || !window.topojson) return;
      var world = res[1];
      var geo = window.topojson.feature(world, world.objects.countries);
      window.L.geoJSON(geo, {
        pane: 'basemap',
        interactive: false,
        style: { color: '#9aa5b1', weight: 0.7, fillColor: '#f3efe6', fillOpacity: 1 }
      }).addTo(map);
      map.attributionControl.addAttribution('Borders: Natural Earth');
    }).catch(function () {
      /* the markers and routes still show on the plain background */
    });
  };

  PlanMap.prototype.draw = function (mapEl, data) {
    var L = window.L;
    if (!this.map || this.el !== mapEl || !document.body.contains(this.el)) this.create(mapEl, data);
    var map = this.map;
    var overlay = this.overlay;
    overlay.clearLayers();
    if (this.attribution) map.attributionControl.removeAttribution(this.attribution);
    this.attribution = data.attribution && this.basemap === 'offline' ? escapeHtml(data.attribution) : null;
    if (this.attribution) map.attributionControl.addAttribution(this.attribution);

    var bounds = [];
    var days = Array.isArray(data.days) ? data.days : [];
    var markers = [];
    days.forEach(function (day, i) {
      var n = Number(day.day) || i + 1;
      var color = typeof day.color === 'string' && day.color ? day.color : PALETTE[(n - 1) % PALETTE.length];
      var pts = [];
      (day.stops || []).forEach(function (s, k) {
        if (!validPoint(s)) return;
        var ll = [s.lat, s.lon];
        pts.push(ll);
        bounds.push(ll);
        var m = L.circleMarker(ll, {
          radius: 8,
          color: '#ffffff',
          weight: 2,
          fillColor: color,
          fillOpacity: 1,
          className: 'marker-stop day-' + n
        });
        m.bindPopup(stopPopup(s, n, k + 1));
        m.bindTooltip('Day ' + n + ' · ' + (k + 1) + '. ' + String(s.name || ''), { direction: 'top', offset: [0, -8] });
        markers.push(m);
      });
      if (pts.length) {
        overlay.addLayer(L.polyline(pts, { color: color, weight: 4, opacity: 0.75, className: 'route day-' + n }));
      }
    });
    // Markers after the routes so they are drawn on top.
    markers.forEach(function (m) { overlay.addLayer(m); });

    if (validPoint(data.hotel)) {
      var h = data.hotel;
      var hm = L.marker([h.lat, h.lon], {
        icon: L.divIcon({ className: 'marker-hotel', iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -14], html: '' }),
        title: 'Hotel: ' + String(h.name || ''),
        alt: 'Hotel',
        keyboard: true,
        zIndexOffset: 1000
      });
      var hp = el('div', 'map-popup');
      hp.appendChild(el('strong', null, 'Hotel'));
      hp.appendChild(document.createTextNode(' ' + String(h.name || '')));
      hm.bindPopup(hp);
      overlay.addLayer(hm);
      bounds.push([h.lat, h.lon]);
    }

    this.drawLegend(days);
    if (bounds.length === 1) {
      map.setView(bounds[0], 14);
    } else if (bounds.length > 1) {
      map.fitBounds(L.latLngBounds(bounds), { padding: [28, 28], maxZoom: 16 });
    } else {
      map.setView([20, 0], 2);
    }
  };

  function stopPopup(s, day, order) {
    var box = el('div', 'map-popup');
    var time = (s.start || '') + (s.end ? '–' + s.end : '');
    if (time) {
      box.appendChild(el('span', 'popup-time', time));
      box.appendChild(document.createTextNode(' '));
    }
    box.appendChild(el('strong', 'popup-name', s.name || 'Stop'));
    var meta = 'Day ' + day + ', stop ' + order + (s.kind ? ' · ' + s.kind : '');
    box.appendChild(el('div', 'popup-meta', meta));
    return box;
  }

  PlanMap.prototype.drawLegend = function (days) {
    var L = window.L;
    if (this.legend) {
      this.legend.remove();
      this.legend = null;
    }
    var shown = days.filter(function (d) { return (d.stops || []).some(validPoint); });
    if (!shown.length) return;
    var legend = L.control({ position: 'bottomleft' });
    legend.onAdd = function () {
      var box = el('div', 'map-legend');
      var ul = el('ul');
      shown.forEach(function (d, i) {
        var n = Number(d.day) || i + 1;
        var li = el('li');
        var svgNs = 'http://www.w3.org/2000/svg';
        var svg = document.createElementNS(svgNs, 'svg');
        svg.setAttribute('width', '12');
        svg.setAttribute('height', '12');
        svg.setAttribute('viewBox', '0 0 12 12');
        svg.setAttribute('aria-hidden', 'true');
        var c = document.createElementNS(svgNs, 'circle');
        c.setAttribute('cx', '6');
        c.setAttribute('cy', '6');
        c.setAttribute('r', '5');
        c.setAttribute('fill', typeof d.color === 'string' && d.color ? d.color : PALETTE[(n - 1) % PALETTE.length]);
        svg.appendChild(c);
        li.appendChild(svg);
        li.appendChild(document.createTextNode(' Day ' + n));
        ul.appendChild(li);
      });
      box.appendChild(ul);
      return box;
    };
    legend.addTo(this.map);
    this.legend = legend;
  };

  // ------------------------------------------------------------------ helpers

  function now() {
    return window.performance && performance.now ? performance.now() : Date.now();
  }

  function formatSeconds(ms) {
    return (Math.max(0, ms) / 1000).toFixed(1) + ' s';
  }

  /** Removes server placeholders (`.placeholder`) once live content arrives. */
  function dropPlaceholders(root) {
    $$('.placeholder', root).forEach(function (p) { p.parentNode.removeChild(p); });
  }

  /** The node after a container's heading (where new content goes), or its first child. */
  function firstAfterHeading(root) {
    var h = $('h2, h3', root);
    return h && h.parentNode === root ? h.nextSibling : root.firstChild;
  }

  function init() {
    markCurrentNav();
    initPlanner();
    initPlan();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

// What every page's script shares: DOM shortcuts, the CSRF token (sent by fetch and by htmx),
// the JSON API with its `{"error":{code,message,hint}}` answers, requests in flight as
// `<body data-pending>`, messages in a page's notice boxes, formatting and the place
// suggestions of a text field.
//
// Nothing here needs what the Content-Security-Policy forbids: no eval, no inline script or
// style, and text from users or the model only ever goes through textContent or value.

/** First element matching `sel` under `root`. */
export function $(sel, root = document) {
  return root.querySelector(sel);
}

/** All elements matching `sel` under `root`, as an array. */
export function $$(sel, root = document) {
  return [...root.querySelectorAll(sel)];
}

/** A new element with a class and text content. */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/** Escapes a string for the few Leaflet APIs that take HTML (attributions). */
export function escapeHtml(s) {
  const map = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  return String(s).replace(/[&<>"']/g, (c) => map[c]);
}

/** The page's CSRF token (`<meta name="csrf-token">`). */
export function csrfToken() {
  return $('meta[name="csrf-token"]')?.getAttribute('content') || '';
}

/** An error answer of the JSON API, or a network failure (`code` "network"). */
export class ApiError extends Error {
  constructor(code, message, hint = '', status = 0) {
    super(message);
    this.code = code;
    this.hint = hint;
    this.status = status;
  }
}

// Requests in flight, the page's and htmx's: `<body data-pending="n">` while there are any, so
// tests and styles can wait for every change to be saved.
let pending = 0;
function track(delta) {
  pending = Math.max(0, pending + delta);
  if (pending > 0) document.body.setAttribute('data-pending', String(pending));
  else document.body.removeAttribute('data-pending');
}

/**
 * Sends a JSON request (with the CSRF header unless it is a GET). Resolves to the parsed
 * answer (null when there is none), rejects with an ApiError.
 */
export async function api(method, url, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  track(1);
  try {
    let res;
    try {
      res = await fetch(url, init);
    } catch {
      throw new ApiError('network', 'Could not reach the Tripwright server.', 'Check the connection, then try again.');
    }
    const json = (res.headers.get('content-type') || '').includes('json');
    const data = json ? await res.json().catch(() => null) : null;
    if (res.ok) return data;
    throw httpError(res.status, data?.error);
  } finally {
    track(-1);
  }
}

/** The error of a failed answer: the API's own words, else a sentence about the status. */
function httpError(status, error = {}) {
  const fallback = status === 403
    ? 'Your session has changed; reload the page and try again.'
    : `The server answered ${status}.`;
  return new ApiError(error.code || `http_${status}`, error.message || fallback, error.hint, status);
}

/** Shows a message and an optional hint in a notice box (a null message hides it). */
export function showMessage(box, message, hint) {
  if (!box) return;
  box.replaceChildren();
  box.hidden = !message;
  if (!message) return;
  box.append(el('p', 'error-message', message));
  if (hint) box.append(el('p', 'error-hint', hint));
}

/** "1.2 s". */
export function formatSeconds(ms) {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/** "09:05" in the browser's time zone, from an RFC 3339 time ('' when it is not one). */
export function hourMinute(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** "0.4 km" below 10 km, "12 km" above (as the server writes distances). */
export function km(d) {
  return `${d < 10 ? d.toFixed(1) : d.toFixed(0)} km`;
}

/**
 * Fills `list` (a datalist) with places from /api/destinations as the user types in `input`
 * (debounced; `skip` says which texts to look up nothing for).
 */
export function suggestPlaces(input, list, skip = () => false) {
  if (!input || !list) return;
  const cache = new Map();
  let timer = null;
  let last = '';
  let controller = null;
  const fill = (items) => {
    list.replaceChildren(...items.slice(0, 10).filter((s) => s && typeof s === 'object').map((s) => {
      const o = document.createElement('option');
      o.value = s.label || s.name || '';
      return o;
    }));
  };
  const lookup = async () => {
    const q = input.value.trim();
    if (q === last) return;
    last = q;
    if (q.length < 2 || skip(q)) return fill([]);
    if (cache.has(q)) return fill(cache.get(q));
    controller?.abort();
    controller = new AbortController();
    try {
      const res = await fetch(`/api/destinations?q=${encodeURIComponent(q)}`, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        signal: controller.signal,
      });
      const items = res.ok ? await res.json() : [];
      if (!Array.isArray(items)) return;
      cache.set(q, items);
      if (input.value.trim() === q) fill(items);
    } catch {
      // Aborted or offline: suggestions are optional.
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(lookup, 150);
  });
}

// htmx, on the pages that load it: its requests carry the CSRF header too (their forms also
// carry the token as a field), count as pending, and an answer it does not swap (a refused
// token, a server failure, no connection) is shown in the page's alert box.
const htmx = window.htmx;
if (htmx) {
  document.addEventListener('htmx:configRequest', (e) => {
    e.detail.headers['X-CSRF-Token'] = csrfToken();
  });
  document.addEventListener('htmx:beforeRequest', () => track(1));
  document.addEventListener('htmx:afterRequest', () => track(-1));
  document.addEventListener('htmx:responseError', (e) => {
    const xhr = e.detail.xhr;
    let error;
    try {
      error = JSON.parse(xhr.responseText).error;
    } catch {
      error = undefined;
    }
    const err = httpError(xhr.status, error);
    showMessage($('[role="alert"].notice, #form-error'), err.message, err.hint);
  });
  document.addEventListener('htmx:sendError', () => {
    showMessage($('[role="alert"].notice, #form-error'), 'Could not reach the Tripwright server; nothing was saved.',
      'Check the connection, then try again.');
  });
}

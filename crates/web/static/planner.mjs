// The planner page (`/`): the days slider's read-out, place suggestions for the destination
// and the currency in capitals. The form is submitted by htmx (the server answers with the
// plan's address, or with the error box in place); without JavaScript it posts as a plain
// form and the server redirects.
import { $, suggestPlaces } from './site.mjs';

const days = $('#days');
const out = $('#days-value');
if (days && out) {
  const show = () => {
    out.textContent = `${days.value} ${days.value === '1' ? 'day' : 'days'}`;
  };
  days.addEventListener('input', show);
  show();
}

suggestPlaces($('#destination'), $('#destination-suggestions'));

// Before planning: whether this server has place data for the destination typed, said under
// the field when it has not (the plan would be fetched, or have no hotels or stops).
const destinationInput = $('#destination');
const destinationNotice = $('#destination-notice');
if (destinationInput && destinationNotice) {
  let timer = null;
  let asked = '';
  const check = async () => {
    const q = destinationInput.value.trim();
    if (q === asked) return;
    asked = q;
    if (q.length < 2) {
      destinationNotice.hidden = true;
      return;
    }
    try {
      const res = await fetch(`/api/destination?q=${encodeURIComponent(q)}`, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      const answer = res.ok ? await res.json() : null;
      if (destinationInput.value.trim() !== q) return;
      const notice = typeof answer?.notice === 'string' ? answer.notice : '';
      destinationNotice.textContent = notice;
      destinationNotice.dataset.places = answer?.places || '';
      destinationNotice.hidden = !notice;
    } catch {
      // Offline: the form still plans, and says what it found.
    }
  };
  destinationInput.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });
  destinationInput.addEventListener('change', check);
  if (destinationInput.value.trim()) check();
}

const currency = $('#currency');
currency?.addEventListener('blur', () => {
  currency.value = currency.value.trim().toUpperCase();
});

// A suggested destination fills the form in and plans it; a new attempt clears the last error.
const form = $('#plan-form');
form?.addEventListener('click', (event) => {
  const pick = event.target.closest?.('button.suggestion');
  const destination = $('#destination');
  if (!pick || !destination) return;
  destination.value = pick.dataset.destination || '';
  form.requestSubmit();
});
form?.addEventListener('submit', () => {
  const box = $('#form-error');
  if (!box) return;
  box.hidden = true;
  box.replaceChildren();
});

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

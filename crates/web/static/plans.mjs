// My plans (`/plans`): a plan is deleted only once confirmed (the page then offers to undo
// it for a while). Without JavaScript the form posts at once, and the undo is still offered.
import { $$ } from './site.mjs';

for (const form of $$('form.delete-plan')) {
  form.addEventListener('submit', (e) => {
    if (!window.confirm(form.dataset.confirm || 'Delete this plan?')) e.preventDefault();
  });
}

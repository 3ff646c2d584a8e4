// Markup typed by a user is shown as text, never run: in the preferences of a finished plan
// and in the destination of a plan that cannot be made.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generatePlan, launchBrowser, newContext, screenshot, waitFinished, watchProblems } from '../lib/browser.mjs';

const PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';

/** Whether the payload became live markup anywhere in the page. */
function injected(page) {
  return page.evaluate(() => ({
    xss: window.__xss,
    img: document.querySelectorAll('img[src="x"]').length,
    script: [...document.scripts].some((s) => s.textContent.includes('__xss')),
  }));
}

describe('user text is escaped', () => {
  let browser;
  let ctx;

  before(async () => {
    browser = await launchBrowser();
    ctx = await newContext(browser);
  });

  after(async () => {
    await browser?.close();
  });

  test('markup in the preferences is shown as text on the plan page and under My plans', async () => {
    const page = await ctx.newPage();
    watchProblems(page);
    await generatePlan(page, { destination: 'Helsinki', days: 1, prefs: PAYLOAD });
    assert.deepEqual(await injected(page), { xss: undefined, img: 0, script: false });
    const state = await waitFinished(page);
    assert.equal(state, 'done');
    assert.deepEqual(await injected(page), { xss: undefined, img: 0, script: false });
    const body = await page.evaluate(() => document.body.textContent);
    assert.ok(body.includes(PAYLOAD), 'the preferences are not shown (as text) on the plan page');
    await screenshot(page, 'xss-plan');

    await page.reload();
    assert.deepEqual(await injected(page), { xss: undefined, img: 0, script: false });
    await page.goto('/plans');
    assert.deepEqual(await injected(page), { xss: undefined, img: 0, script: false });
    await page.close();
  });

  test('markup in an unknown destination is shown as text in the error', async () => {
    const page = await ctx.newPage();
    await page.goto('/');
    await page.locator('#destination').fill(PAYLOAD);
    await page.locator('#generate').click();
    // Either the API refuses it (shown in #form-error) or the plan fails (shown on its page).
    const outcome = await Promise.race([
      page.locator('#form-error').waitFor({ state: 'visible', timeout: 120_000 }).then(() => 'form-error'),
      page.locator('#plan[data-state="failed"]').waitFor({ state: 'attached', timeout: 120_000 }).then(() => 'failed'),
    ]);
    assert.ok(['form-error', 'failed'].includes(outcome));
    assert.deepEqual(await injected(page), { xss: undefined, img: 0, script: false });
    if (outcome === 'failed') {
      assert.ok((await page.locator('#plan a[href="/"]').count()) >= 1, 'a failed plan has no "Try again" link');
    }
    await screenshot(page, 'xss-destination');
    await page.close();
  });
});

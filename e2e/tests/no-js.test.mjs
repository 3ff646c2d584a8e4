// Without JavaScript the planner still works: the form POSTs to /plans and the server
// redirects to the plan page, which renders the finished plan on its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  PLAN_TIMEOUT_MS,
  PLAN_URL,
  fillPlanner,
  launchBrowser,
  newContext,
  screenshot,
  text,
} from '../lib/browser.mjs';

describe('without JavaScript', () => {
  let browser;
  let ctx;

  before(async () => {
    browser = await launchBrowser();
    ctx = await newContext(browser, { javaScriptEnabled: false });
  });

  after(async () => {
    await browser?.close();
  });

  test('the plain form posts and is redirected to /plans/{id}, which shows the plan', async () => {
    const page = await ctx.newPage();
    await fillPlanner(page, { destination: 'Helsinki', days: 2 });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/plans'),
      page.locator('#generate').click(),
    ]);
    assert.equal(response.status(), 303);
    await page.waitForURL(PLAN_URL);
    const id = new URL(page.url()).pathname.match(PLAN_URL)[1];
    assert.equal(await page.locator('main#plan').getAttribute('data-plan-id'), decodeURIComponent(id));

    // No live updates without JS: while the plan is being made the page refreshes itself
    // (a <meta refresh> inside <noscript>) until the server renders the finished plan.
    const state = await page.locator('#plan').getAttribute('data-state');
    if (state === 'running') {
      assert.equal(await page.locator('noscript meta[http-equiv="refresh"]').count(), 1, 'a running plan refreshes');
      await page.locator('#plan[data-state="done"]').waitFor({ timeout: PLAN_TIMEOUT_MS });
    }
    assert.equal(await page.locator('noscript meta[http-equiv="refresh"]').count(), 0, 'a finished plan does not');
    assert.equal(await page.locator('#plan').getAttribute('data-state'), 'done', await text(page.locator('#plan')));
    assert.equal(await page.locator('#itinerary section.day').count(), 2);
    assert.equal(await page.locator('#months-chart rect.bar').count(), 12);
    const mapData = JSON.parse(await page.locator('#map').getAttribute('data-plan'));
    assert.equal(mapData.days.length, 2);
    await screenshot(page, 'no-js-plan');
    await page.close();
  });
});

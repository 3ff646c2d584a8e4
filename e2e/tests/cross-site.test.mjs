// Another site's page cannot act for a user nor take their plans away: a page served from
// another origin (`localhost` on another port: another site than 127.0.0.1) submits a form to
// the planner by itself, as a hostile page would. The browser sends no SameSite=Lax cookie
// with it; the server refuses it (403) without a new cookie, and the user's plans are still
// theirs. The recovery link on My plans brings them to another browser.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { BASE_URL, generatePlan, launchBrowser, newContext, waitFinished } from '../lib/browser.mjs';

describe('another site', () => {
  let browser;
  let hostile;
  let hostileUrl;
  const answers = [];

  before(async () => {
    browser = await launchBrowser();
    const target = new URL('/plans', BASE_URL).href;
    hostile = http.createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form id="f" method="post" action="${target}">
<input name="destination" value="Helsinki"><input name="days" value="1"></form>
<script>document.getElementById('f').submit()</script>`);
    });
    await new Promise((ok) => hostile.listen(0, '127.0.0.1', ok));
    hostileUrl = `http://localhost:${hostile.address().port}/`;
  });

  after(async () => {
    await browser?.close();
    await new Promise((ok) => hostile?.close(ok));
  });

  test("a hostile page's form is refused and the user keeps their plans", async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    await generatePlan(page, { destination: 'Helsinki', days: 1, prefs: 'cross-site victim' });
    assert.equal(await waitFinished(page), 'done');
    const planUrl = page.url();
    const before = (await ctx.cookies(BASE_URL)).find((c) => c.name === 'tw_user');
    assert.ok(before, 'the user has a cookie');

    page.on('response', (r) => { if (r.request().method() === 'POST') answers.push(r); });
    await page.goto(hostileUrl);
    await page.waitForURL(new URL('/plans', BASE_URL).href);
    const refused = answers.find((r) => new URL(r.url()).pathname === '/plans');
    assert.ok(refused, 'the form was sent');
    assert.equal(refused.status(), 403);
    assert.equal(refused.headers()['set-cookie'], undefined, 'no new identity');
    assert.match(await page.locator('main').textContent(), /another website/i);

    const after = (await ctx.cookies(BASE_URL)).find((c) => c.name === 'tw_user');
    assert.equal(after?.value, before.value, 'the cookie was not replaced');
    await page.goto(new URL('/plans', BASE_URL).href);
    const mine = await page.locator('.plan-item a').evaluateAll((as) => as.map((a) => a.href));
    assert.ok(mine.includes(planUrl), 'the plan is still under My plans');
    await ctx.close();
  });

  test('the recovery link brings the plans to another browser', async () => {
    const home = await newContext(browser);
    const page = await home.newPage();
    await generatePlan(page, { destination: 'Helsinki', days: 1, prefs: 'recover in a browser' });
    assert.equal(await waitFinished(page), 'done');
    const planUrl = page.url();
    await page.goto(new URL('/plans', BASE_URL).href);
    const link = await page.locator('#recovery-url').inputValue();
    assert.ok(link.startsWith(`${BASE_URL}/recover?key=`), link);

    const away = await newContext(browser);
    const other = await away.newPage();
    await other.goto(new URL('/plans', BASE_URL).href);
    assert.equal(await other.locator('.plan-item').count(), 0, 'a new browser has no plans');
    await other.goto(link);
    await other.getByRole('button', { name: 'Use these plans in this browser' }).click();
    await other.waitForURL(new URL('/plans', BASE_URL).href);
    const mine = await other.locator('.plan-item a').evaluateAll((as) => as.map((a) => a.href));
    assert.ok(mine.includes(planUrl), 'the plan came along');
    await home.close();
    await away.close();
  });
});

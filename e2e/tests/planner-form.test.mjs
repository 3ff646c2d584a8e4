// The planner form on `/`: layout, keyboard access, the days read-out, destination
// suggestions and the display of the server's validation errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newContext, screenshot, text, watchProblems } from '../lib/browser.mjs';

describe('the planner page', () => {
  let browser;
  let ctx;

  before(async () => {
    browser = await launchBrowser();
    ctx = await newContext(browser);
  });

  after(async () => {
    await browser?.close();
  });

  test('has the sidebar, the CSRF token, the attribution and a labelled form', async () => {
    const page = await ctx.newPage();
    const problems = watchProblems(page);
    const res = await page.goto('/');
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/);
    for (const href of ['/', '/plans', '/lists', '/notes', '/supermarkets']) {
      assert.equal(await page.locator(`nav#sidebar li a[href="${href}"]`).count(), 1, `no sidebar link to ${href}`);
    }
    assert.ok(((await page.locator('meta[name="csrf-token"]').getAttribute('content')) || '').length > 10);
    assert.match(await text(page.locator('footer#attribution')), /OpenStreetMap contributors/);
    for (const id of ['destination', 'prefs', 'days', 'month', 'budget', 'currency', 'travelers']) {
      const labels = await page.locator(`#${id}`).evaluate((el) => el.labels?.length || 0);
      assert.ok(labels >= 1, `#${id} has no <label>`);
    }
    // The wishes box is empty: its example is a placeholder, never planned or typed onto.
    assert.equal(await page.locator('#prefs').inputValue(), '');
    assert.match((await page.locator('#prefs').getAttribute('placeholder')) || '', /^For example: /);
    assert.equal(await text(page.locator('#generate')), 'Generate Travel Plan');
    await screenshot(page, 'planner');
    assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused to|exception:/i.test(p)), []);
    await page.close();
  });

  test('Tab reaches the Generate button, which shows a visible focus ring', async () => {
    const page = await ctx.newPage();
    await page.goto('/');
    let reached = false;
    for (let i = 0; i < 40 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.id === 'generate');
    }
    assert.ok(reached, 'Tab never reached #generate');
    const focus = await page.locator('#generate').evaluate((el) => {
      const s = getComputedStyle(el);
      return {
        visible: el.matches(':focus-visible'),
        outlineStyle: s.outlineStyle,
        outlineWidth: parseFloat(s.outlineWidth),
        boxShadow: s.boxShadow,
      };
    });
    assert.ok(focus.visible, 'the button is focused but not :focus-visible');
    assert.ok(
      (focus.outlineStyle !== 'none' && focus.outlineWidth >= 2) || focus.boxShadow !== 'none',
      `no visible focus indicator: ${JSON.stringify(focus)}`,
    );
    await screenshot(page, 'planner-focus-generate');
    await page.close();
  });

  test('the days slider shows its value', async () => {
    const page = await ctx.newPage();
    await page.goto('/');
    const out = page.locator('output#days-value');
    assert.match(await text(out), /\b5\b/);
    await page.locator('#days').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#days').inputValue(), '7');
    assert.match(await text(out), /\b7\b/);
    await page.close();
  });

  test('typing a destination suggests places from the gazetteer', async () => {
    const page = await ctx.newPage();
    await page.goto('/');
    await page.locator('#destination').pressSequentially('Hel', { delay: 30 });
    const option = page.locator('datalist#destination-suggestions option[value^="Helsinki"]');
    await option.first().waitFor({ state: 'attached', timeout: 10_000 });
    const api = await ctx.request.get('/api/destinations?q=Hel');
    assert.equal(api.status(), 200);
    const list = await api.json();
    assert.ok(Array.isArray(list) && list.length <= 10, 'more than 10 suggestions');
    assert.ok(list.some((s) => s.name === 'Helsinki' && s.country === 'Finland' && s.label === 'Helsinki, Finland'));
    await page.close();
  });

  test('a city without place data is told before planning, a known one is not', async () => {
    const page = await ctx.newPage();
    const problems = watchProblems(page);
    await page.goto('/');
    const notice = page.locator('#destination-notice');
    // This server fetches places online (the Overpass stand-in): Tokyo would be fetched.
    await page.locator('#destination').fill('Tokyo');
    await notice.waitFor({ state: 'visible', timeout: 5_000 });
    assert.equal(
      await text(notice),
      'This server has no place data for Tokyo, Japan yet: it will fetch its hotels and sights from OpenStreetMap while planning, which takes a little longer.',
    );
    await screenshot(page, 'planner-destination-notice');
    await page.locator('#destination').fill('Helsinki');
    await notice.waitFor({ state: 'hidden', timeout: 5_000 });
    assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused to|exception:/i.test(p)), []);
    await page.close();
  });

  test("the server's validation error is shown next to the form", async () => {
    const page = await ctx.newPage();
    await page.goto('/');
    await page.locator('#destination').fill('Helsinki');
    // Skip the browser's own checks so the server has to answer.
    await page.evaluate(() => {
      document.querySelector('#plan-form').noValidate = true;
    });
    await page.locator('#currency').fill('E1R');
    await page.locator('#generate').click();
    const box = page.locator('#form-error');
    await box.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await box.getAttribute('role'), 'alert');
    assert.match(await text(box), /currency/i);
    assert.equal(new URL(page.url()).pathname, '/', 'the page left the form');
    assert.equal(await page.locator('#generate').isEnabled(), true, 'Generate stays disabled after an error');
    await screenshot(page, 'planner-error');
    await page.close();
  });

  test('a misspelt destination offers the closest cities as buttons that plan them', async () => {
    const page = await ctx.newPage();
    const problems = watchProblems(page);
    await page.goto('/');
    await page.locator('#destination').fill('Helsimki');
    await page.locator('#days').fill('1');
    await page.locator('#generate').click();
    const box = page.locator('#form-error');
    await box.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await text(box.locator('.error-message')), /^Unknown destination "Helsimki"\. Did you mean:$/);
    const pick = box.locator('button.suggestion', { hasText: 'Helsinki, Finland' });
    assert.equal(await pick.count(), 1, await text(box));
    await screenshot(page, 'planner-suggestions');
    await pick.click();
    await page.waitForURL(/\/plans\/[0-9a-f-]+$/, { timeout: 30_000 });
    assert.match(await text(page.locator('h1')), /Helsinki, Finland/);
    assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused to|exception:/i.test(p)), []);
    await page.close();
  });

  test('a new attempt clears the last error', async () => {
    const page = await ctx.newPage();
    await page.goto('/');
    await page.evaluate(() => {
      document.querySelector('#plan-form').noValidate = true;
    });
    await page.locator('#destination').fill('Helsinki');
    await page.locator('#currency').fill('E1R');
    await page.locator('#generate').click();
    const box = page.locator('#form-error');
    await box.waitFor({ state: 'visible', timeout: 10_000 });
    await page.locator('#currency').fill('EUR');
    await page.locator('#destination').fill('Xqzzyville');
    await page.locator('#generate').click();
    // The next answer replaces the box: the currency error is gone, the new one is shown.
    await page.waitForFunction(() => /Xqzzyville/.test(document.querySelector('#form-error')?.textContent || ''), null, { timeout: 10_000 });
    assert.doesNotMatch(await text(box), /currency/i);
    await page.close();
  });

  test('a first day picked in the calendar sets the dates of the plan', async () => {
    const page = await ctx.newPage();
    await page.goto('/');
    await page.locator('#destination').fill('Helsinki');
    await page.locator('#days').fill('2');
    await page.locator('#start_date').fill('2027-06-05');
    await screenshot(page, 'planner-start-date');
    await Promise.all([page.waitForURL(/\/plans\/[0-9a-f-]+$/, { timeout: 60_000 }), page.locator('#generate').click()]);
    await page.locator('#plan:not([data-state="running"])').waitFor({ state: 'attached', timeout: 600_000 });
    assert.match(await text(page.locator('#plan-status')), /5–6 June 2027/);
    assert.match(await text(page.locator('section.day[data-day="1"] h3')), /Saturday 5 June 2027/);
    await page.close();
  });
});

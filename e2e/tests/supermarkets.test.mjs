// The supermarkets page in a real browser: search near Helsinki, see the blue location marker
// and green shop markers on the offline map, a list sorted by distance in km, popups with the
// name and opening hours, and a clear message for an unknown place.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newContext, screenshot, text, watchProblems } from '../lib/browser.mjs';

describe('the supermarkets page', () => {
  let browser;
  let ctx;

  before(async () => {
    browser = await launchBrowser();
    ctx = await newContext(browser);
  });

  after(async () => {
    await browser?.close();
  });

  test('shops near Helsinki show as green markers and a list sorted by distance', async () => {
    const page = await ctx.newPage();
    const problems = watchProblems(page);
    await page.goto('/supermarkets');
    assert.equal(await page.locator('#supermarkets-map').count(), 0, 'no map before a search');
    await page.locator('#near').fill('Helsinki');
    // The radius slider: 5 km by default, set to 2 km with the keyboard.
    const radius = page.locator('#radius');
    assert.equal(await radius.inputValue(), '5');
    // Wide enough to be dragged (it was 29 px).
    assert.ok((await radius.boundingBox()).width >= 150, 'the radius slider is too narrow');
    await radius.focus();
    for (let i = 0; i < 6; i += 1) await page.keyboard.press('ArrowLeft');
    assert.equal(await radius.inputValue(), '2');
    assert.equal(await text(page.locator('#radius-value')), '2 km');
    await Promise.all([page.waitForURL(/near=Helsinki/), page.locator('#find-supermarkets').click()]);

    assert.match(await text(page.locator('#results-heading')), /^\d+ grocery shops? within 2 km of Helsinki, Finland$/);
    await page.locator('#supermarkets-map.leaflet-container').waitFor();
    await page.locator('path.marker-location').waitFor();
    const green = await page.locator('path.marker-grocery').count();
    const listed = await page.locator('#supermarket-list li.shop').count();
    assert.ok(green >= 10, `only ${green} green markers`);
    assert.equal(green, listed, 'one marker per listed shop');
    const fill = await page.locator('path.marker-grocery').first().getAttribute('fill');
    assert.equal(fill, '#17803d');
    assert.equal(await page.locator('path.marker-location').getAttribute('fill'), '#1d4ed8');

    const distances = await page.locator('#supermarket-list .shop-distance').evaluateAll((els) => els.map((e) => e.textContent.trim()));
    for (const d of distances) assert.match(d, /^\d+(\.\d)? km$/);
    const km = distances.map((d) => parseFloat(d));
    assert.deepEqual(km, [...km].sort((a, b) => a - b), 'sorted by distance');
    assert.ok(km.every((d) => d <= 2), 'all within the radius');

    // A shop with opening hours: its popup shows the name and the hours.
    const withHours = page.locator('#supermarket-list li.shop', { has: page.locator('.shop-hours') }).first();
    const name = await text(withHours.locator('.shop-name'));
    const hours = await text(withHours.locator('.shop-hours'));
    await withHours.click();
    const popup = page.locator('.leaflet-popup-content');
    await popup.waitFor();
    assert.equal(await text(popup.locator('.popup-name')), name);
    assert.equal(await text(popup.locator('.popup-hours')), `Open: ${hours}`);
    await screenshot(page, 'supermarkets');
    assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused to|exception:/i.test(p)), []);
    await page.close();
  });

  test('an unknown place gives a clear message, not an empty map', async () => {
    const page = await ctx.newPage();
    const res = await page.goto('/supermarkets?near=Xqzzyville');
    assert.equal(res.status(), 404);
    assert.match(await text(page.locator('#supermarkets-error')), /unknown destination "Xqzzyville"/);
    assert.equal(await page.locator('#supermarkets-map').count(), 0);
    await page.close();
  });

  test('on a phone the shop list is part of the page, not a box scrolling inside it', async () => {
    const phone = await newContext(browser, { viewport: { width: 390, height: 844 } });
    const page = await phone.newPage();
    await page.goto('/supermarkets?near=Helsinki&radius_km=3');
    const list = page.locator('#supermarket-list');
    await list.waitFor();
    const box = await list.evaluate((el) => ({ scroll: el.scrollHeight, client: el.clientHeight, overflow: getComputedStyle(el).overflowY }));
    assert.ok(box.scroll <= box.client + 1, `the list scrolls inside itself: ${JSON.stringify(box)}`);
    assert.ok((await page.locator('#radius').boundingBox()).width >= 150, 'the radius slider is too narrow on a phone');
    await screenshot(page, 'supermarkets-phone');
    await phone.close();
  });
});

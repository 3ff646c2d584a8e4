// The trip list in a real browser: add items, move the sliders, tick items and watch the
// progress text, reorder with the keyboard, write notes, reload and find everything intact,
// download the PDF and read it back with pdftotext, and see a 409 from another tab reload the
// item. The rows post their forms through htmx and swap in the server's fragments. One
// browser context (one Tripwright user) for the whole file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ARTIFACTS, launchBrowser, newContext, screenshot, text, watchProblems } from '../lib/browser.mjs';

/** Waits until the page's script has no request in flight (every change saved). */
async function settled(page) {
  await page.waitForFunction(() => !document.body.hasAttribute('data-pending'));
}

/** Whether a response answers a row's form (`POST /lists/{id}/items/{item}`), with `status`. */
function rowPost(status) {
  return (r) => r.request().method() === 'POST' && /^\/lists\/[^/]+\/items\/[^/]+$/.test(new URL(r.url()).pathname)
    && (status === undefined || r.status() === status);
}

/** Sets a range input with the keyboard (as a user would) and waits for the save. */
async function slide(page, row, cls, value) {
  const slider = row.locator(cls);
  const current = Number(await slider.inputValue());
  await slider.focus();
  const key = value > current ? 'ArrowRight' : 'ArrowLeft';
  const saved = page.waitForResponse(rowPost(200));
  for (let i = 0; i < Math.abs(value - current); i += 1) await page.keyboard.press(key);
  // Keyboard steps fire `change` per step; wait until the last one is saved.
  await saved;
  await settled(page);
  assert.equal(Number(await slider.inputValue()), value);
}

function row(page, name) {
  return page.locator('tr.item', { has: page.locator(`input.item-name[value="${name}"]`) });
}

async function names(page) {
  return page.locator('tr.item input.item-name').evaluateAll((els) => els.map((e) => e.value));
}

describe('the trip list', () => {
  let browser;
  let ctx;
  let page;
  let problems;
  let listUrl;

  before(async () => {
    browser = await launchBrowser();
    ctx = await newContext(browser);
    page = await ctx.newPage();
    problems = watchProblems(page);
  });

  after(async () => {
    await browser?.close();
  });

  test('a new list starts empty with its progress at 0 %', async () => {
    const res = await page.goto('/lists');
    assert.equal(res.status(), 200);
    assert.match(await text(page.locator('#no-lists')), /No lists yet/);
    await page.locator('#new-list-title').fill('Helsinki weekend');
    await Promise.all([page.waitForURL(/\/lists\/[^/]+$/), page.locator('#new-list').click()]);
    listUrl = new URL(page.url()).pathname;
    assert.equal(await text(page.locator('#list-title')), 'Helsinki weekend');
    assert.equal(await text(page.locator('#list-progress')), '0 out of 0 items taken (0%)');
    assert.equal(await page.locator('#list-empty').isVisible(), true);
  });

  test('items are added without a reload; an empty or duplicate name is refused', async () => {
    await page.evaluate(() => { window.__sameDocument = true; });
    for (const name of ['Wool socks', 'Rain jacket', 'Phone charger']) {
      await page.locator('#new-item-name').fill(name);
      await page.locator('#new-item-name').press('Enter');
      await row(page, name).waitFor();
    }
    assert.deepEqual(await names(page), ['Wool socks', 'Rain jacket', 'Phone charger']);
    assert.equal(await page.locator('#list-empty').isVisible(), false);
    assert.equal(await text(page.locator('#list-progress')), '0 out of 3 items taken (0%)');

    // The server refuses them (the same rules as for a plain form) and its error box is
    // swapped in; the form keeps what was typed.
    const refused = (status) => page.waitForResponse((r) => r.request().method() === 'POST'
      && /^\/lists\/[^/]+\/items$/.test(new URL(r.url()).pathname) && r.status() === status);
    const shows = (pattern) => page.waitForFunction((p) => new RegExp(p).test(document.querySelector('#list-error')?.textContent || ''), pattern.source);
    await page.locator('#new-item-name').fill('wool SOCKS');
    let answer = refused(409);
    await page.locator('#add-item').click();
    await answer;
    await page.locator('#list-error').waitFor({ state: 'visible' });
    await shows(/already on the list/);
    assert.match(await text(page.locator('#list-error')), /already on the list/);
    assert.equal(await page.locator('#new-item-name').inputValue(), 'wool SOCKS');
    await page.locator('#new-item-name').fill('   ');
    answer = refused(400);
    await page.locator('#add-item').click();
    await answer;
    await shows(/needs a name/);
    assert.match(await text(page.locator('#list-error')), /needs a name/);
    assert.equal(await page.locator('tr.item').count(), 3);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
  });

  test('the sliders save the quantities, and the answer swaps only that row', async () => {
    await page.locator('tr.item').evaluateAll((trs) => trs.forEach((tr) => { tr.__before = true; }));
    const socks = row(page, 'Wool socks');
    await slide(page, socks, '.qty-take', 5);
    await slide(page, socks, '.qty-home', 2);
    assert.equal(await text(socks.locator('.qty-take-value')), '5');
    assert.equal(await text(socks.locator('.qty-home-value')), '2');
    const kept = await page.locator('tr.item').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('.item-name').value, !!tr.__before]));
    assert.deepEqual(kept, [['Wool socks', false], ['Rain jacket', true], ['Phone charger', true]]);
    // The server's row, as saved: its version moved on with each save.
    const api = await ctx.request.get(`/api${listUrl}`);
    const saved = (await api.json()).items.find((i) => i.name === 'Wool socks');
    assert.deepEqual([saved.qty_take, saved.qty_home], [5, 2]);
    assert.equal(await socks.getAttribute('data-version'), String(saved.version));
  });

  test('ticking items updates the progress text and bar at once', async () => {
    await row(page, 'Wool socks').locator('.item-taken').check();
    assert.equal(await text(page.locator('#list-progress')), '1 out of 3 items taken (33%)');
    await row(page, 'Phone charger').locator('.item-taken').check();
    assert.equal(await text(page.locator('#list-progress')), '2 out of 3 items taken (66%)');
    const bar = await page.locator('#list-progress-bar').evaluate((b) => [b.value, b.max]);
    assert.deepEqual(bar, [2, 3]);
    await settled(page);
  });

  test('up and down move items and keep the keyboard focus', async () => {
    const charger = row(page, 'Phone charger');
    await charger.locator('.item-up').focus();
    const moved = page.waitForResponse(rowPost(200));
    await page.keyboard.press('Enter');
    await moved;
    await page.waitForFunction(() => document.querySelectorAll('tr.item')[1]?.querySelector('.item-name')?.value === 'Phone charger');
    assert.deepEqual(await names(page), ['Wool socks', 'Phone charger', 'Rain jacket']);
    const focused = await page.evaluate(() => document.activeElement?.closest('tr')?.querySelector('.item-name')?.value);
    assert.equal(focused, 'Phone charger');
    // The first row cannot go up, the last cannot go down.
    assert.equal(await page.locator('tr.item').first().locator('.item-up').isDisabled(), true);
    assert.equal(await page.locator('tr.item').last().locator('.item-down').isDisabled(), true);
  });

  test('a change made in another tab is reloaded, not overwritten', async () => {
    const other = await ctx.newPage();
    await other.goto(listUrl);
    await row(other, 'Rain jacket').locator('.item-taken').check();
    await settled(other);
    await other.close();
    // This tab still has the old version of the rain jacket: its change is refused and reloaded.
    const jacket = row(page, 'Rain jacket');
    const refused = page.waitForResponse(rowPost(409));
    await jacket.locator('.qty-take').focus();
    await page.keyboard.press('ArrowRight');
    await refused;
    await page.locator('#list-notice').waitFor({ state: 'visible' });
    assert.match(await text(page.locator('#list-notice')), /changed in another tab — reloaded/);
    await page.waitForFunction(() => {
      const r = [...document.querySelectorAll('tr.item')].find((tr) => tr.querySelector('.item-name').value === 'Rain jacket');
      return r && r.querySelector('.item-taken').checked;
    });
    assert.equal(await text(jacket.locator('.qty-take-value')), '1');
    assert.equal(await text(page.locator('#list-progress')), '3 out of 3 items taken (100%)');
    // Untick it again for the rest of the tests.
    await jacket.locator('.item-taken').uncheck();
    await settled(page);
    assert.equal(await text(page.locator('#list-progress')), '2 out of 3 items taken (66%)');
  });

  test('a removed item goes at once', async () => {
    await page.locator('#new-item-name').fill('Spare umbrella');
    await page.locator('#add-item').click();
    await row(page, 'Spare umbrella').waitFor();
    const gone = page.waitForResponse(rowPost(200));
    await row(page, 'Spare umbrella').locator('.item-remove').click();
    await gone;
    await row(page, 'Spare umbrella').waitFor({ state: 'detached' });
    assert.equal(await text(page.locator('#list-progress')), '2 out of 3 items taken (66%)');
  });

  test('notes save themselves and show the time', async () => {
    await page.locator('#list-notes-link').click();
    await page.waitForURL(/\/notes$/);
    assert.equal(await text(page.locator('#notes-saved')), 'Not saved yet');
    await page.locator('#notes').fill('Buy a travel card at the airport.\nSauna on Saturday.');
    await page.waitForFunction(() => /^Last saved \d\d:\d\d$/.test(document.querySelector('#notes-saved')?.textContent || ''), null, { timeout: 15_000 });
    await page.reload();
    assert.equal(await page.locator('#notes').inputValue(), 'Buy a travel card at the airport.\nSauna on Saturday.');
    assert.match(await text(page.locator('#notes-saved')), /^Last saved \d\d:\d\d$/);
    // /notes leads to the only list's notes.
    await page.goto('/notes');
    assert.equal(new URL(page.url()).pathname, `${listUrl}/notes`);
  });

  test('everything is intact after a reload', async () => {
    await page.goto(listUrl);
    assert.deepEqual(await names(page), ['Wool socks', 'Phone charger', 'Rain jacket']);
    const socks = row(page, 'Wool socks');
    assert.equal(await socks.locator('.qty-take').inputValue(), '5');
    assert.equal(await socks.locator('.qty-home').inputValue(), '2');
    assert.equal(await socks.locator('.item-taken').isChecked(), true);
    assert.equal(await row(page, 'Rain jacket').locator('.item-taken').isChecked(), false);
    assert.equal(await text(page.locator('#list-progress')), '2 out of 3 items taken (66%)');
    await screenshot(page, 'trip-list');
  });

  test('the PDF downloads with the items, the progress and the notes', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a#export-list-pdf').click()]);
    assert.match(download.suggestedFilename(), /^tripwright-helsinki-weekend-\d{4}-\d{2}-\d{2}\.pdf$/);
    const file = path.join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(file);
    const pdf = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    for (const needle of ['Helsinki weekend', 'Wool socks', 'Phone charger', 'Rain jacket',
      '2 out of 3 items taken (66%)', 'Buy a travel card at the airport.']) {
      assert.ok(pdf.includes(needle), `the PDF lacks "${needle}": ${pdf}`);
    }
  });

  test('narrow screens get one column', async () => {
    await page.setViewportSize({ width: 420, height: 900 });
    await page.goto(listUrl);
    // The progress first (it was below every item), the items, then the rest of the side.
    const [progress, main, more] = await Promise.all([
      page.locator('#list-progress-box').boundingBox(),
      page.locator('.list-main').boundingBox(),
      page.locator('#list-more').boundingBox(),
    ]);
    assert.ok(progress.y + progress.height <= main.y + 1, `the progress (y ${progress.y}) is not above the items (y ${main.y})`);
    assert.ok(more.y >= main.y + main.height - 1, 'the links are below the items');
    await screenshot(page, 'trip-list-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(listUrl);
    const [wideMain, wideSide] = await Promise.all([
      page.locator('.list-main').boundingBox(),
      page.locator('.list-side').boundingBox(),
    ]);
    assert.ok(wideSide.x > wideMain.x + wideMain.width - 1, 'two columns side by side');
  });

  test('no script errors or CSP violations', () => {
    assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused to|exception:/i.test(p)), []);
  });
});

// Editing a finished plan in the browser: remove a stop, swap it, move it with the arrows and to
// another day, drag it, add a place found by name, undo; each change re-times the day, redraws
// the map and re-runs the checks, at desktop and phone sizes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generatePlan, launchBrowser, newContext, screenshot, text, waitFinished, watchProblems } from '../lib/browser.mjs';

describe('editing a plan', () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  const names = (page, day) =>
    page.locator(`section.day[data-day="${day}"] li.stop .stop-name`).evaluateAll((els) => els.map((e) => e.textContent));
  const times = (page, day) =>
    page.locator(`section.day[data-day="${day}"] li.stop`).evaluateAll((els) =>
      els.map((li) => [...li.querySelectorAll('time')].map((t) => t.textContent)));
  /** Runs `action`, then waits for the page to show the plan changed and the stream ended. */
  const change = async (page, action) => {
    const before = JSON.stringify(await page.locator('section.day li.stop .stop-name').allTextContents());
    await action();
    await page.waitForFunction(
      (b) => JSON.stringify([...document.querySelectorAll('section.day li.stop .stop-name')].map((e) => e.textContent)) !== b
        && document.querySelector('#plan-notice .link-button, #plan-notice')?.textContent.length > 0
        && !document.querySelector('#plan.editing'),
      before,
      { timeout: 30_000 },
    );
    await page.waitForFunction(() => document.querySelector('#plan')?.getAttribute('aria-busy') !== 'true', null, { timeout: 30_000 });
    return text(page.locator('#plan-notice'));
  };
  const assertTimed = async (page, day) => {
    const t = await times(page, day);
    for (let i = 1; i < t.length; i++) assert.ok(t[i][0] >= t[i - 1][1], `day ${day}: ${JSON.stringify(t)}`);
  };

  for (const [size, viewport] of [['desktop', { width: 1366, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    test(`stops are removed, swapped, moved and added, and undone (${size})`, async () => {
      const ctx = await newContext(browser, { viewport });
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      await generatePlan(page, { destination: 'Helsinki', days: 2, prefs: `editing ${size}` });
      assert.equal(await waitFinished(page), 'done');
      const start = await names(page, 1);
      assert.ok(start.length >= 4, JSON.stringify(start));

      // Remove the first stop.
      let said = await change(page, () => page.locator('section.day[data-day="1"] li.stop').first().getByRole('button', { name: `Remove ${start[0]}` }).click());
      assert.match(said, new RegExp(`^Removed ${start[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} from day 1\\. Undo$`));
      assert.deepEqual(await names(page, 1), start.slice(1));
      await assertTimed(page, 1);

      // Swap the new first stop for another place like it.
      const second = start[1];
      said = await change(page, () => page.locator('section.day[data-day="1"] li.stop').first().getByRole('button', { name: /^Swap / }).click());
      assert.match(said, new RegExp(`^Swapped .+ for .+ on day 1\\. Undo$`));
      assert.notEqual((await names(page, 1))[0], second);

      // Move the second stop up with the keyboard: focus its arrow and press Enter.
      let now = await names(page, 1);
      const up = page.locator('section.day[data-day="1"] li.stop').nth(1).locator('.edit-op[data-op="up"]');
      await up.focus();
      said = await change(page, () => page.keyboard.press('Enter'));
      assert.deepEqual((await names(page, 1)).slice(0, 2), [now[1], now[0]]);
      await assertTimed(page, 1);

      // Move a stop to day 2 from its menu.
      now = await names(page, 1);
      said = await change(page, () => page.locator('section.day[data-day="1"] li.stop').first().locator('select.edit-day').selectOption('2'));
      assert.match(said, /from day 1 to day 2\. Undo$/);
      assert.ok((await names(page, 2)).includes(now[0]));
      await assertTimed(page, 2);

      // Drag the second stop of day 2 onto its first (both in view), by its times.
      const day2 = await names(page, 2);
      const stops2 = page.locator('section.day[data-day="2"] li.stop');
      const grip = { sourcePosition: { x: 40, y: 10 }, targetPosition: { x: 40, y: 10 } };
      said = await change(page, () => stops2.nth(1).dragTo(stops2.first(), grip));
      assert.deepEqual((await names(page, 2)).slice(0, 2), [day2[1], day2[0]]);

      // A stop held near the bottom of the window scrolls the page (the browser's own drag
      // scrolling, which nothing on the page may block), so a day out of view can be reached;
      // dropped outside the itinerary, nothing changes.
      const before = await names(page, 2);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.locator('section.day[data-day="1"] li.stop').first().scrollIntoViewIfNeeded();
      const top = await page.evaluate(() => window.scrollY);
      const box = await page.locator('section.day[data-day="1"] li.stop').first().boundingBox();
      const height = page.viewportSize().height;
      await page.mouse.move(box.x + 40, box.y + 10);
      await page.mouse.down();
      for (let i = 0; i < 12; i++) {
        await page.mouse.move(box.x + 40 + (i % 2), height - 5, { steps: 2 });
        await page.waitForTimeout(60);
      }
      const scrolled = await page.evaluate(() => window.scrollY);
      assert.ok(scrolled > top + 50, `the page scrolled while dragging: ${top} → ${scrolled}`);
      await page.mouse.move(5, 5, { steps: 2 });
      await page.mouse.up();
      assert.deepEqual(await names(page, 2), before);

      // Add a place found by name.
      const form = page.locator('section.day[data-day="1"] form.add-place');
      await form.getByLabel('Add a place to day 1').fill('galleria');
      await form.getByRole('button', { name: 'Find' }).click();
      const choice = form.locator('.place-choice').first();
      await choice.waitFor({ timeout: 10_000 });
      const adding = (await text(choice)).replace(/^Add /, '');
      said = await change(page, () => choice.click());
      assert.equal(said, `Added ${adding} to day 1. Undo`);
      assert.ok((await names(page, 1)).includes(adding));
      await assertTimed(page, 1);
      // The map shows the changed days: one pin per stop, numbered as the list.
      const pins = await page.locator('#map .marker-stop.day-1').evaluateAll((els) => els.map((e) => e.textContent.trim()));
      assert.deepEqual(pins, (await names(page, 1)).map((_, i) => String(i + 1)));
      // The checks ran again and still pass on walking.
      assert.match(await text(page.locator('#checks')), /along the streets/);
      // caret: 'initial': hiding the caret would inject a style the page's CSP refuses.
      await screenshot(page, `plan-edited-${size}`, { caret: 'initial' });
      if (size === 'phone') {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 390, `the edited page scrolls sideways (${width}px)`);
      }

      // Undo the addition: the day is as it was before it.
      said = await change(page, () => page.locator('#undo-edit').click());
      assert.match(said, /^The last change is undone\./);
      assert.ok(!(await names(page, 1)).includes(adding));
      assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused to|exception:/i.test(p)), []);
      await ctx.close();
    });
  }
});

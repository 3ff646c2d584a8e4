// My plans (`/plans`): each plan with its dates and wishes, renamed, deleted after a
// confirmation, and brought back with Undo; at desktop and phone sizes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generatePlan, launchBrowser, newContext, screenshot, text, waitFinished, watchProblems } from '../lib/browser.mjs';

describe('my plans', () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  for (const [size, viewport] of [['desktop', { width: 1366, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    test(`a plan is listed with its wishes, renamed, deleted once confirmed, and undone (${size})`, async () => {
      const ctx = await newContext(browser, { viewport });
      const page = await ctx.newPage();
      const problems = watchProblems(page);
      const id = await generatePlan(page, { destination: 'Helsinki', days: 1, prefs: `my plans ${size}` });
      assert.equal(await waitFinished(page), 'done');
      await page.goto('/plans');
      const row = page.locator('li.plan-item', { has: page.locator(`a[href="/plans/${id}"]`) });
      assert.equal(await row.count(), 1);
      assert.match(await text(row.locator('.plan-wishes')), new RegExp(`my plans ${size}`));
      assert.match(await text(row.locator('.plan-dates')), /\d{4}$/);
      await screenshot(page, `my-plans-${size}`);
      // Renamed from its row; an empty name gives it back its destination and length.
      const rename = async (name) => {
        await row.locator('summary', { hasText: 'Rename' }).click();
        await row.getByLabel(/^New name/).fill(name);
        await Promise.all([page.waitForURL(/\/plans$/), row.getByRole('button', { name: 'Save' }).click()]);
      };
      await rename(`Helsinki with Mum ${size}`);
      assert.equal(await text(row.locator(`a[href="/plans/${id}"]`)), `Helsinki with Mum ${size}`);
      await screenshot(page, `my-plans-renamed-${size}`);
      await page.goto(`/plans/${id}`);
      assert.equal(await text(page.locator('h1')), `Helsinki with Mum ${size}`);
      await page.goto('/plans');
      await rename('');
      assert.equal(await text(row.locator(`a[href="/plans/${id}"]`)), 'Helsinki, Finland — 1 day');
      // Dismissed, nothing happens; accepted, the plan goes and the undo is offered.
      page.once('dialog', (d) => d.dismiss());
      await row.locator('button', { hasText: 'Delete' }).click();
      assert.equal(new URL(page.url()).pathname, '/plans');
      assert.equal(await row.count(), 1, 'deleted although the question was dismissed');
      page.once('dialog', (d) => {
        assert.match(d.message(), /^Delete Helsinki, Finland — 1 day\?$/);
        d.accept();
      });
      await Promise.all([page.waitForURL(/\/plans\?deleted=/), row.locator('button', { hasText: 'Delete' }).click()]);
      assert.equal(await page.locator(`a[href="/plans/${id}"]`).count(), 0);
      const undo = page.locator('#undo-delete');
      assert.match(await text(undo), /deleted/);
      await screenshot(page, `my-plans-deleted-${size}`);
      await Promise.all([page.waitForURL(new RegExp(`/plans/${id}$`)), undo.locator('button').click()]);
      assert.equal(await page.locator('#plan').getAttribute('data-state'), 'done');
      assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused to|exception:/i.test(p)), []);
      await ctx.close();
    });
  }
});

// A city with no local place data, planned in the browser: its places are fetched from
// OpenStreetMap (here the Overpass stand-in of e2e/lib, with real places of central Rome), the
// page says so while it waits, and the plan is made of those places and says where they came
// from — at desktop and phone sizes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  generatePlan,
  launchBrowser,
  newContext,
  screenshot,
  text,
  waitFinished,
  watchProblems,
} from '../lib/browser.mjs';

const ROME_HOTELS = ['Hotel Artemide', 'Albergo del Senato', 'Hotel Raphael', 'The Beehive'];
const ROME_SIGHTS = [
  'Colosseo',
  'Pantheon',
  'Musei Capitolini',
  'Galleria Borghese',
  "Castel Sant'Angelo",
  'Fontana di Trevi',
  'Piazza Navona',
  'Galleria Colonna',
  'Palazzo Massimo alle Terme',
  'Scalinata di Trinità dei Monti',
];

/** The Overpass stand-in's log: one request per line. */
function asked() {
  const log = process.env.OVERPASS_LOG;
  assert.ok(log, 'run through e2e/run.sh, which starts the Overpass stand-in');
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('a city without local data', () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  test('is planned from places fetched once from OpenStreetMap, and says so', async () => {
    const ctx = await newContext(browser);
    const page = await ctx.newPage();
    const problems = watchProblems(page);
    const before = asked().filter((r) => r.query.includes('tourism')).length;
    await generatePlan(page, { destination: 'Rome', days: 1, prefs: 'museums and coffee' });
    // The wait is explained while it lasts (the stand-in answers after 1.5 s).
    await page
      .locator('#plan', { hasText: 'Fetching places near Rome from OpenStreetMap' })
      .waitFor({ timeout: 20_000 });
    assert.equal(await waitFinished(page), 'done');

    const hotels = await text(page.locator('#hotels'));
    assert.ok(ROME_HOTELS.some((h) => hotels.includes(h)), hotels);
    const itinerary = await text(page.locator('#itinerary'));
    const seen = ROME_SIGHTS.filter((s) => itinerary.includes(s));
    assert.ok(seen.length >= 2, `Roman sights in the day: ${itinerary}`);
    assert.doesNotMatch(await text(page.locator('#warnings')), /no place data/);
    const sources = await text(page.locator('#place-sources'));
    assert.match(sources, /OpenStreetMap, fetched for Rome, Italy on \d{4}-\d{2}-\d{2}/);

    // One polite query for the places, with a User-Agent that names Tripwright and a contact.
    const queries = asked().filter((r) => r.query.includes('tourism'));
    assert.equal(queries.length - before, 1);
    const last = queries[queries.length - 1];
    assert.match(last.agent, /^Tripwright\/\S+ \(e2e@tripwright\.invalid\)$/);
    assert.match(last.query, /around:\d+,41\.89\d*,12\.5\d*/);

    await screenshot(page, 'any-city-desktop');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'any-city-phone');
    assert.deepEqual(problems, []);

    // A second plan for Rome is answered from the store: nothing more is asked.
    const again = await ctx.newPage();
    await generatePlan(again, { destination: 'Rome', days: 2, prefs: 'fountains' });
    assert.equal(await waitFinished(again), 'done');
    assert.equal(asked().filter((r) => r.query.includes('tourism')).length - before, 1);
    await ctx.close();
  });
});

// A city with no local place data, planned in the browser: its places and its street map are
// fetched from OpenStreetMap (here the Overpass stand-in of e2e/lib, with real places and
// streets of central Rome), the page says so while it waits, and the plan is made of those
// places, walks along those streets, draws them on its map and says where they came from — at
// desktop and phone sizes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ARTIFACTS,
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

/** The Web Mercator tile holding (lat, lon) at zoom z. */
function tileOf(lat, lon, z) {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n);
  return `${z}/${x}/${y}`;
}

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
    const mapsBefore = asked().filter((r) => r.query.includes('way["highway"]')).length;
    const planId = await generatePlan(page, { destination: 'Rome', days: 1, prefs: 'museums and coffee' });
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

    // …then one for the street map of the same area; the walks follow its streets, and the
    // map draws them (a tile over the Colosseum is drawn; one over the sea is empty).
    const maps = asked().filter((r) => r.query.includes('way["highway"]'));
    assert.equal(maps.length - mapsBefore, 1);
    assert.match(maps[maps.length - 1].query, /\[bbox:41\.8\d+,12\.4\d+,41\.9\d+,12\.5\d+\]/);
    const checks = await text(page.locator('#checks'));
    assert.doesNotMatch(checks, /straight lines/, checks);
    const plan = await (await ctx.request.get(`/api/plans/${encodeURIComponent(planId)}`)).json();
    const routed = plan.itinerary.days[0].stops.filter((s) => (s.route || []).length >= 2);
    assert.ok(routed.length >= 2, JSON.stringify(plan.itinerary.days[0].stops.map((s) => s.name)));
    const tile = (where) => page.request.get(`/tiles/${where}.png`).then((r) => r.body());
    const colosseum = await tile(tileOf(41.8902, 12.4922, 16));
    const sea = await tile(tileOf(40.0, 5.0, 16));
    assert.ok(colosseum.length > sea.length + 2000, `${colosseum.length} vs ${sea.length} bytes`);
    writeFileSync(path.join(ARTIFACTS, 'any-city-tile-16.png'), colosseum);

    await screenshot(page, 'any-city-desktop');
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'any-city-phone');
    assert.deepEqual(problems, []);

    // A second plan for Rome is answered from the store: nothing more is asked.
    const again = await ctx.newPage();
    await generatePlan(again, { destination: 'Rome', days: 2, prefs: 'fountains' });
    assert.equal(await waitFinished(again), 'done');
    assert.equal(asked().filter((r) => r.query.includes('tourism')).length - before, 1);
    assert.equal(asked().filter((r) => r.query.includes('way["highway"]')).length - mapsBefore, 1);
    await ctx.close();
  });
});

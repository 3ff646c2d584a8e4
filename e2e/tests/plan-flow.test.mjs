// The main journey: make a 2-day Helsinki plan in the browser, watch it finish live, check
// every section, find it again, export it, share it, keep it private, and regenerate a day.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ARTIFACTS,
  BASE_URL,
  PLAN_TIMEOUT_MS,
  generatePlan,
  launchBrowser,
  newContext,
  screenshot,
  text,
  waitFinished,
  watchProblems,
} from '../lib/browser.mjs';

const PREFS = 'Luxury hotel in city center with spa, and a museum or two.';

describe('a plan made in the browser', () => {
  let browser;
  let ctxA;
  let ctxB;
  let page;
  let problems;
  let planId;
  let planPath;
  let mapData;
  const requested = [];

  before(async () => {
    browser = await launchBrowser();
    ctxA = await newContext(browser);
    ctxB = await newContext(browser);
    page = await ctxA.newPage();
    problems = watchProblems(page);
  });

  after(async () => {
    await browser?.close();
  });

  test('Generate takes the browser to the plan page, which finishes live without a reload', async () => {
    // What the page's stream brings: htmx's SSE extension reports each event it swaps in.
    await page.addInitScript(() => {
      window.__live = [];
      document.addEventListener('htmx:sseMessage', (e) => window.__live.push(e.detail.type));
    });
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    // Wishes of its own: the same request as another test's would be answered from the plan
    // cache, finished at once, and the page would have nothing to follow.
    planId = await generatePlan(page, { destination: 'Helsinki', days: 2, prefs: PREFS });
    planPath = `/plans/${encodeURIComponent(planId)}`;
    assert.equal(await page.locator('#plan').getAttribute('data-state'), 'running', 'the new plan was already made');
    assert.equal(new URL(page.url()).pathname, planPath);
    const main = page.locator('main#plan');
    assert.equal(await main.getAttribute('data-plan-id'), planId);
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    await screenshot(page, 'plan-started');
    const state = await waitFinished(page);
    assert.equal(state, 'done', `the plan ended "${state}": ${await text(main)}`);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page reloaded to show the result');
    assert.ok(!(await text(main)).includes('agents are at work'), 'the "Planning…" line outlived the plan');
    await screenshot(page, 'plan-done');
  });

  test("the plan's progress, sections and text arrived as fragments of its htmx stream", async () => {
    const live = await page.evaluate(() => window.__live);
    for (const name of ['progress', 'months', 'hotels', 'map', 'itinerary', 'summary', 'checks', 'warnings', 'text']) {
      assert.ok(live.includes(name), `no "${name}" event in ${JSON.stringify(live)}`);
    }
    assert.equal(live.at(-1), 'end', 'the stream did not end with "end"');
    assert.equal(live.filter((e) => e === 'end').length, 1, 'the stream was followed again after its end');
    const path = `/plans/${encodeURIComponent(planId)}/live`;
    assert.ok(requested.includes(path), `the page did not open ${path}`);
    assert.ok(!requested.some((p) => p.endsWith('/events')), 'the page opened the JSON event stream');
    assert.match(await text(page.locator('#plan-notice')), /Your plan is ready/);
    assert.equal(await page.locator('#plan-status .plan-meta').count(), 1, 'the plan\'s month and party are not shown');
    // The live stream is the owner's only, as the page.
    const other = await ctxB.request.get(path);
    assert.equal(other.status(), 404);
  });

  test('every agent reached done, with its elapsed time', async () => {
    const agents = page.locator('#progress li.agent');
    assert.deepEqual(
      (await agents.evaluateAll((lis) => lis.map((li) => li.dataset.agent))).sort(),
      ['hotels', 'itinerary', 'summary', 'weather'],
    );
    for (const li of await agents.all()) {
      assert.equal(await li.getAttribute('data-status'), 'done');
      assert.match(await text(li.locator('.agent-elapsed')), /^\d+(\.\d+)? s$/);
    }
    assert.equal(await page.locator('#cancel').isVisible(), false, 'Cancel still shows on a finished plan');
  });

  test('the months chart has 12 bars, 3 of them top, and the 3 best months are listed', async () => {
    const chart = page.locator('svg#months-chart');
    assert.equal(await chart.getAttribute('role'), 'img');
    assert.ok((await chart.getAttribute('aria-label'))?.length > 0, 'the chart has no aria-label');
    assert.equal(await chart.locator('rect.bar').count(), 12);
    assert.equal(await chart.locator('rect.bar.top').count(), 3);
    const months = await chart.locator('rect.bar').evaluateAll((r) => r.map((x) => Number(x.dataset.month)));
    assert.deepEqual([...months].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(await page.locator('#best-months > li').count(), 3);
  });

  test('the hotels are ranked, the first one highlighted, with a similarity score', async () => {
    const hotels = page.locator('#hotels li.hotel');
    assert.ok((await hotels.count()) >= 1, 'no hotels listed');
    assert.match((await hotels.first().getAttribute('class')) || '', /\btop\b/);
    assert.match(await text(hotels.first()), /text match \d{1,3} %/, 'no similarity such as "text match 46 %"');
    // The wishes ("quiet hotel with a sauna" and the like) are judged against the data.
    assert.match(await text(page.locator('#hotels')), /Not in the data|Matches|Not:/, 'no wish verdicts');
    // Each verdict on a line of its own: "Matches: quiet" ran into "Not in the data: sauna".
    const verdicts = page.locator('#hotels .hotel-fit > span');
    assert.ok((await verdicts.count()) >= 1, 'no verdict lines');
    const displays = await verdicts.evaluateAll((s) => s.map((e) => getComputedStyle(e).display));
    assert.ok(displays.every((d) => d === 'block'), `verdicts run together: ${displays}`);
  });

  test('the map shows the hotel, one marker per stop and one route per day', async () => {
    mapData = JSON.parse(await page.locator('#map').getAttribute('data-plan'));
    assert.equal(mapData.days.length, 2);
    const stops = mapData.days.reduce((n, d) => n + d.stops.length, 0);
    assert.ok(stops >= 2, `only ${stops} stops on the map data`);
    const hotel = mapData.hotel ? 1 : 0;
    await page.waitForFunction(
      (n) => document.querySelectorAll('#map .marker-stop, #map .marker-hotel').length === n,
      stops + hotel,
      { timeout: 30_000 },
    );
    assert.equal(await page.locator('#map .marker-stop').count(), stops);
    assert.equal(await page.locator('#map .marker-hotel').count(), hotel);
    for (const day of mapData.days) {
      const pins = page.locator(`#map .marker-stop.day-${day.day}`);
      assert.equal(await pins.count(), day.stops.length);
      // The pins carry the itinerary's numbers, 1, 2, 3 … in each day.
      const numbers = await pins.evaluateAll((els) => els.map((e) => e.textContent.trim()));
      assert.deepEqual(numbers, day.stops.map((_, i) => String(i + 1)));
      // One line per walk: from the hotel to each stop in turn and back, each along the
      // streets (central Helsinki has a street map), in the day's colour.
      const legs = page.locator(`#map .route.day-${day.day}`);
      const walks = day.stops.length ? day.stops.length + hotel : 0;
      assert.equal(await legs.count(), walks, `day ${day.day} walks`);
      for (const s of day.stops) assert.ok(Array.isArray(s.route) && s.route.length >= 2, `${s.name} is routed`);
      if (walks) {
        assert.equal(await legs.first().getAttribute('stroke'), day.color);
        assert.equal(await legs.first().getAttribute('stroke-dasharray'), null, 'along streets, not dashed');
      }
    }
    // The basemap is the server's own street map, offline: tiles from /tiles/, drawn.
    await page.waitForFunction(
      () => [...document.querySelectorAll('#map .street-tiles img')].some((i) => i.complete && i.naturalWidth === 256),
      null,
      { timeout: 15_000 },
    );
    const tiles = await page.locator('#map .street-tiles img').evaluateAll((imgs) => imgs.map((i) => new URL(i.src).pathname));
    assert.ok(tiles.every((t) => /^\/tiles\/\d+\/\d+\/\d+\.png$/.test(t)), tiles.join(' '));
    // The legend is below the map, never over it; the day colours match the map's.
    const mapBox = await page.locator('#map').boundingBox();
    const legend = page.locator('.map-legend');
    assert.ok((await legend.boundingBox()).y >= mapBox.y + mapBox.height - 1, 'the legend is below the map');
    assert.match(await text(legend), /Day 1 .*Day 2 .*Hotel/);
    // A popup names the stop with its times.
    const first = mapData.days[0].stops[0];
    await page.locator('#map .marker-stop.day-1').first().dispatchEvent('click');
    const popup = page.locator('#map .leaflet-popup-content');
    await popup.waitFor({ timeout: 5_000 });
    const popupText = await text(popup);
    assert.ok(popupText.startsWith(`${first.start}–${first.end} ${first.name}`.replace(/\s+/g, ' ')), popupText);
    await page.locator('#map').screenshot({ path: path.join(ARTIFACTS, 'plan-map.png') });
  });

  test('a plan made again from the start (its server died) clears the map, markers and legend', async () => {
    // Another page of the same plan, so the main page keeps its map.
    const other = await ctxA.newPage();
    await other.goto(planPath);
    await other.locator('#map .marker-stop').first().waitFor({ timeout: 15_000 });
    assert.equal(await other.locator('.map-legend').count(), 1);
    // The fragment a restart streams: the map section of a plan with no hotel and no stops yet,
    // swapped in as htmx swaps an out-of-band fragment.
    await other.evaluate(() => {
      const fragment = document.createElement('template');
      fragment.innerHTML =
        '<section id="map-section"><div id="map" data-plan=\'{"hotel":null,"days":[],"tile_url":null,"attribution":""}\'></div></section>';
      const detail = { target: document.getElementById('map-section'), fragment: fragment.content, shouldSwap: true };
      document.dispatchEvent(new CustomEvent('htmx:oobBeforeSwap', { detail }));
    });
    assert.equal(await other.locator('#map .marker-stop, #map .marker-hotel').count(), 0, 'no marker is left');
    assert.equal(await other.locator('#map .route').count(), 0, 'no walk is left');
    assert.equal(await other.locator('.map-legend').count(), 0, 'no legend is left');
    await other.close();
  });

  test('the itinerary has both days with timed stops and notes', async () => {
    const days = page.locator('#itinerary section.day');
    assert.equal(await days.count(), 2);
    for (let n = 1; n <= 2; n += 1) {
      const day = page.locator(`#itinerary section.day[data-day="${n}"]`);
      assert.ok((await text(day.locator('h3'))).length > 0);
      const stops = day.locator('ol.stops > li.stop');
      assert.equal(await stops.count(), mapData.days[n - 1].stops.length);
      assert.match(await text(stops.first().locator('time').first()), /\d\d:\d\d/);
      assert.ok((await text(stops.first())).includes(mapData.days[n - 1].stops[0].name));
      assert.equal(await day.locator('.regenerate-day').count(), 1);
    }
  });

  test('the summary has a cost table and the checks are listed', async () => {
    const rows = page.locator('#summary table#cost-table tr');
    assert.ok((await rows.count()) >= 2, 'the cost table is empty');
    const checks = page.locator('#checks li.check');
    assert.ok((await checks.count()) >= 1, 'no checks listed');
    for (const c of await checks.all()) assert.match((await c.getAttribute('data-passed')) || '', /^(true|false)$/);
  });

  test('the page broke no Content-Security-Policy rule and threw nothing', () => {
    const bad = problems.filter((p) => /Content Security Policy|Refused to|exception:/i.test(p));
    assert.deepEqual(bad, []);
  });

  test('after a reload the plan is still there, and it is listed under My plans', async () => {
    await page.reload();
    assert.equal(await page.locator('#plan').getAttribute('data-state'), 'done');
    assert.equal(await page.locator('#itinerary section.day').count(), 2);
    await page.locator('#sidebar a[href="/plans"]').click();
    await page.waitForURL(/\/plans$/);
    const link = page.locator(`a[href="${planPath}"]`);
    assert.ok((await link.count()) >= 1, 'the plan is not under My plans');
    assert.match(await text(page.locator('main')), /Helsinki/);
    await screenshot(page, 'my-plans');
    await link.first().click();
    await page.waitForURL((u) => u.pathname === planPath);
  });

  test('the JSON API returns the plan to its owner', async () => {
    const res = await ctxA.request.get(`/api/plans/${encodeURIComponent(planId)}`);
    assert.equal(res.status(), 200);
    const plan = await res.json();
    assert.equal(plan.id, planId);
    assert.equal(plan.destination.name, 'Helsinki');
    assert.equal(plan.itinerary.days.length, 2);
  });

  test('the PDF export downloads and names Helsinki and a stop', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a#export-pdf').click()]);
    assert.match(download.suggestedFilename(), /^tripwright-helsinki-\d{4}-\d{2}-\d{2}\.pdf$/);
    const file = path.join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(file);
    const pdfText = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    assert.ok(pdfText.includes('Helsinki'), 'the PDF does not mention Helsinki');
    const stopName = mapData.days[0].stops[0].name.replace(/\s+/g, ' ');
    assert.ok(pdfText.includes(stopName), `the PDF does not mention the stop "${stopName}"`);
    for (const [id, ext] of [['export-ics', 'ics'], ['export-json', 'json'], ['export-md', 'md']]) {
      assert.equal(await page.locator(`a#${id}`).getAttribute('href'), `${planPath}/export.${ext}`);
    }
  });

  test('a share link opens the plan read-only in another browser', async () => {
    await page.locator('button#share').click();
    const input = page.locator('input#share-url');
    await page.waitForFunction(() => document.querySelector('#share-url')?.value, null, { timeout: 10_000 });
    assert.equal(await input.getAttribute('readonly') !== null, true, '#share-url is not read-only');
    const shareUrl = new URL(await input.inputValue(), BASE_URL);
    assert.match(shareUrl.pathname, /^\/share\/[^/]+$/);

    const other = await ctxB.newPage();
    const res = await other.goto(shareUrl.href);
    assert.equal(res.status(), 200);
    assert.equal(await other.locator('#plan').getAttribute('data-state'), 'done');
    assert.equal(await other.locator('#itinerary section.day').count(), 2);
    assert.equal(await other.locator('#cancel').isVisible(), false, 'the share page shows a cancel button');
    assert.equal(await other.locator('.regenerate-day').count(), 0, 'the share page has regenerate buttons');
    assert.equal(await other.locator('a#export-pdf').getAttribute('href'), `${shareUrl.pathname}/export.pdf`);
    await other.waitForFunction(() => document.querySelectorAll('#map .marker-stop').length > 0, null, {
      timeout: 30_000,
    });
    await screenshot(other, 'shared-plan');
    await other.close();
  });

  test("another user's plan is 404 in a second browser context", async () => {
    const other = await ctxB.newPage();
    const res = await other.goto(planPath);
    assert.equal(res.status(), 404);
    assert.equal(await other.locator('#plan').count(), 0);
    assert.ok((await other.locator('a[href="/"]').count()) >= 1, 'the 404 page has no link home');
    const api = await ctxB.request.get(`/api/plans/${encodeURIComponent(planId)}`);
    assert.equal(api.status(), 404);
    const events = await ctxB.request.get(`/api/plans/${encodeURIComponent(planId)}/events`);
    assert.equal(events.status(), 404);
    await other.close();
  });

  test('on a 390×844 phone the page is one column with the navigation on top', async () => {
    const phone = await ctxA.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(planPath);
    await phone.locator('#plan[data-state="done"]').waitFor();
    const box = await phone.evaluate(() => {
      const r = (sel) => document.querySelector(sel)?.getBoundingClientRect().toJSON();
      return {
        nav: r('#sidebar'),
        main: r('main'),
        months: r('#months'),
        hotels: r('#hotels'),
        scrollWidth: document.documentElement.scrollWidth,
      };
    });
    assert.ok(box.nav.bottom <= box.main.top + 1, `the sidebar is not above the content: ${JSON.stringify(box)}`);
    assert.ok(box.nav.width >= 380, 'the navigation does not span the width');
    assert.ok(box.main.left < 30 && box.main.right <= 391, `the content is not one column: ${JSON.stringify(box.main)}`);
    assert.ok(box.hotels.top >= box.months.bottom - 1, 'months and hotels sit side by side');
    assert.ok(box.scrollWidth <= 390, `the page scrolls sideways (${box.scrollWidth}px wide)`);
    // The map's legend sits below the small map, hiding none of it.
    const map = phone.locator('#map');
    await map.scrollIntoViewIfNeeded();
    await phone.locator('#map .marker-stop').first().waitFor({ state: 'attached' });
    const mapBox = await map.boundingBox();
    const legendBox = await phone.locator('.map-legend').boundingBox();
    assert.ok(legendBox.y >= mapBox.y + mapBox.height - 1, 'the legend is over the map on a phone');
    await map.screenshot({ path: path.join(ARTIFACTS, 'narrow-plan-map.png') });
    await screenshot(phone, 'narrow-plan');
    await phone.goto('/');
    await screenshot(phone, 'narrow-planner');
    await phone.close();
  });

  test('regenerating a day replaces that day live', async () => {
    const day = page.locator('#itinerary section.day[data-day="1"]');
    await day.evaluate((el) => {
      el.__old = true;
    });
    await page.locator('.regenerate-day[data-day="1"]').click();
    await page.waitForFunction(
      () => {
        const el = document.querySelector('#itinerary section.day[data-day="1"]');
        return el && !el.__old && el.querySelectorAll('li.stop').length > 0;
      },
      null,
      { timeout: PLAN_TIMEOUT_MS },
    );
    await page.waitForFunction(() => !document.querySelector('#itinerary .regenerating'), null, {
      timeout: PLAN_TIMEOUT_MS,
    });
    assert.equal(await page.locator('#itinerary section.day').count(), 2);
    // The rewrite came on the live stream, which ended: the page is done again and says so.
    await page.locator('#plan[data-state="done"]').waitFor({ timeout: PLAN_TIMEOUT_MS });
    assert.match(await text(page.locator('#plan-notice')), /Day 1 (is rewritten|could not be rewritten)/);
    // (The page was opened again since the plan was made: only the rewrite's events are here.)
    const live = await page.evaluate(() => window.__live);
    assert.ok(live.includes('progress') && live.includes('itinerary'), JSON.stringify(live));
    assert.equal(live.filter((e) => e === 'end').length, 1, JSON.stringify(live));
    assert.equal(await page.locator('.regenerate-day:disabled').count(), 0, 'the Rewrite buttons stay disabled');
    await screenshot(page, 'plan-regenerated');
  });
});

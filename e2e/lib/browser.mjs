// Shared helpers of the browser end-to-end tests: the browser, the server's address,
// screenshots and the planner form. run.sh sets BASE_URL (and starts the server).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The server under test, e.g. http://127.0.0.1:41234 (no trailing slash). */
export const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '');
if (!BASE_URL) {
  throw new Error('BASE_URL is not set: run the tests through e2e/run.sh, which starts the server');
}

/** Where screenshots and downloads go. */
export const ARTIFACTS = process.env.E2E_ARTIFACTS || path.join(here, '..', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** How long a plan may take to generate (the small model on a shared CPU), in ms. */
export const PLAN_TIMEOUT_MS = Number(process.env.E2E_PLAN_TIMEOUT_MS || 600_000);

/** Headless Chromium from the system (Debian package `chromium`), without the sandbox (CI runs as root). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** A new browser context (its own cookies: its own Tripwright user) on BASE_URL. */
export function newContext(browser, options = {}) {
  return browser.newContext({ baseURL: BASE_URL, acceptDownloads: true, ...options });
}

/** Saves a screenshot under artifacts/ and returns its path. */
export async function screenshot(page, name, options = {}) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, ...options });
  return file;
}

/**
 * Records what the page logs as errors, uncaught exceptions and Content-Security-Policy
 * violations, so a test can assert that none happened.
 */
export function watchProblems(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`exception: ${err.message}`));
  return problems;
}

/** Fills the planner form on `/`; `days` is set with the keyboard (works without JS too). */
export async function fillPlanner(page, { destination, days = 5, prefs } = {}) {
  await page.goto('/');
  await page.locator('#destination').fill(destination);
  if (prefs !== undefined) await page.locator('#prefs').fill(prefs);
  const slider = page.locator('#days');
  const current = Number(await slider.inputValue());
  await slider.focus();
  const key = days > current ? 'ArrowRight' : 'ArrowLeft';
  for (let i = 0; i < Math.abs(days - current); i += 1) await page.keyboard.press(key);
  const now = Number(await slider.inputValue());
  if (now !== days) throw new Error(`could not set #days to ${days} (it is ${now})`);
}

/** Plan ids in URLs: /plans/{id} (not /plans alone). */
export const PLAN_URL = /\/plans\/([^/?#]+)$/;

/** Fills the form, presses Generate, and waits until the browser is on /plans/{id}; returns the id. */
export async function generatePlan(page, request) {
  await fillPlanner(page, request);
  await Promise.all([
    page.waitForURL(PLAN_URL, { timeout: 60_000 }),
    page.locator('#generate').click(),
  ]);
  const id = new URL(page.url()).pathname.match(PLAN_URL)[1];
  return decodeURIComponent(id);
}

/** Waits until the plan page says the plan is finished, whatever the outcome; returns the state. */
export async function waitFinished(page, timeout = PLAN_TIMEOUT_MS) {
  await page.locator('#plan:not([data-state="running"])').waitFor({ state: 'attached', timeout });
  return page.locator('#plan').getAttribute('data-state');
}

/** Text of a locator with runs of white space collapsed. */
export async function text(locator) {
  return ((await locator.textContent()) || '').replace(/\s+/g, ' ').trim();
}

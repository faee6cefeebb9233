// Signs in to a running service and takes a screenshot of the map as it first opens,
// its attribution expanded: `TM_BASE=http://127.0.0.1:8080 TM_USER=police
// TM_PASSWORD=... TM_OUT=map.png node test/screenshot.mjs` (TM_CHROMIUM: default
// /usr/bin/chromium; TM_VIEW: a query string for the map, e.g. "z=12&lat=52.04&lon=-0.76").
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env, STEP_TIMEOUT } from './pages.mjs';

const BASE = env('TM_BASE');
const USER = env('TM_USER');
const PASSWORD = env('TM_PASSWORD');
const OUT = env('TM_OUT');
const VIEW = process.env.TM_VIEW || '';
const CHROMIUM = env('TM_CHROMIUM', '/usr/bin/chromium');

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tensionmap-chromium-'));
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--lang=en-GB', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 },
  locale: 'en-GB',
  timezoneId: 'Europe/London',
  // Date fields take their format from the browser's own language, not the page's.
  env: { ...process.env, LANG: 'en_GB.UTF-8', LANGUAGE: 'en_GB' },
});
context.setDefaultTimeout(STEP_TIMEOUT);
try {
  const p = context.pages()[0] || await context.newPage();
  await p.goto(BASE + '/map' + (VIEW ? '?' + VIEW : ''));
  await p.getByLabel('Username').fill(USER);
  await p.getByLabel('Password').fill(PASSWORD);
  await Promise.all([p.waitForURL((u) => u.pathname === '/map'), p.getByRole('button', { name: 'Sign in' }).click()]);
  await p.waitForFunction(() => window.tensionmap && document.getElementById('tm-map').dataset.ready === 'true');
  await p.evaluate(() => window.tensionmap.settled());
  // The compact attribution opens on a click; show it as a reader would.
  const attrib = p.locator('.maplibregl-ctrl-attrib');
  if (!(await attrib.evaluate((el) => el.classList.contains('maplibregl-compact-show')))) {
    await p.locator('.maplibregl-ctrl-attrib-button').click();
  }
  const text = await p.locator('.maplibregl-ctrl-attrib-inner').innerText();
  console.log(`attribution: ${text}`);
  await p.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);
} finally {
  await context.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}

// The map's basemap in headless Chromium: a server with a local PMTiles archive
// draws its streets, water and parks under the hexagons, from its own origin only,
// and credits OpenStreetMap; a server without one draws the plain background and
// says how to add a basemap. Writes a screenshot to TM_OUTPUT.
//
// Environment: BASE_URL (a server with a basemap archive), TM_PLAIN_URL (the same
// data with none), TM_USER, TM_PASSWORD, TM_FROM and TM_TO (a period with data),
// TM_LAT and TM_LON (a point inside the archive), TM_OUTPUT (a directory),
// TM_CHROMIUM (default /usr/bin/chromium). web/basemap_test.go sets them.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = (name, def) => {
  const v = process.env[name] ?? def;
  if (v === undefined || v === '') {
    console.error(`basemap.test: ${name} is not set (web/basemap_test.go sets it)`);
    process.exit(2);
  }
  return v;
};
const BASE = env('BASE_URL').replace(/\/$/, '');
const PLAIN = env('TM_PLAIN_URL').replace(/\/$/, '');
const USER = env('TM_USER');
const PASSWORD = env('TM_PASSWORD');
const FROM = env('TM_FROM');
const TO = env('TM_TO');
const LAT = env('TM_LAT');
const LON = env('TM_LON');
const OUT = env('TM_OUTPUT');
const CHROMIUM = env('TM_CHROMIUM', '/usr/bin/chromium');
// Each step waits for its condition up to this long: generous for a busy machine.
const STEP_TIMEOUT = 60_000;

const started = Date.now();
let passed = 0, failed = 0;

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${Date.now() - t0} ms)\n     ${String(e && e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
    throw e;
  }
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tensionmap-chromium-'));
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 860 },
  locale: 'en-GB',
  timezoneId: 'Europe/London',
});
context.setDefaultTimeout(STEP_TIMEOUT);

// Every request of the session and the answers to basemap tiles.
const requests = [];
const basemapAnswers = [];
const pageErrors = [];
context.on('request', (r) => requests.push(r.url()));
context.on('response', (r) => { if (r.url().includes('/basemap/')) basemapAnswers.push({ url: r.url(), status: r.status() }); });

function watch(page) {
  page.on('console', (m) => {
    if (m.type() === 'error' && !/\/favicon\.ico$/.test(m.location().url || '')) pageErrors.push(`console: ${m.text()} ${m.location().url || ''}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
  return page;
}

async function ready(p) {
  await p.waitForFunction(() => window.tensionmap && document.getElementById('tm-map').dataset.ready === 'true', null, { timeout: STEP_TIMEOUT });
  await p.evaluate(() => window.tensionmap.settled());
}

const view = `/map?from=${FROM}&to=${TO}&metric=count&z=12.5&lat=${LAT}&lon=${LON}`;

async function run() {
  const page = watch(context.pages()[0] || await context.newPage());

  await step('1. signing in lands on the map over the basemap', async () => {
    await page.goto(BASE + view);
    assert.match(new URL(page.url()).pathname, /^\/signin$/);
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL((u) => u.pathname === '/map'), page.getByRole('button', { name: 'Sign in' }).click()]);
    await ready(page);
  });

  await step('2. the basemap layers lie under the data layers, its roads drawn again over the hexagons', async () => {
    const layers = await page.evaluate(() => window.tensionmap.map.getStyle().layers.map((l) => l.id));
    const lastBase = Math.max(...layers.map((id, i) => (id.startsWith('basemap-') ? i : -1)));
    assert.ok(lastBase > 0, `no basemap layer in ${layers}`);
    assert.ok(layers.indexOf('hex-fill') > lastBase, `the hexagons come after the basemap: ${layers}`);
    assert.ok(layers.indexOf('roads-over') > layers.indexOf('hex-fill') && layers.indexOf('roads-over') < layers.indexOf('area-line'),
      `the roads over the hexagons, under the boundaries: ${layers}`);
  });

  await step('3. the map draws the archive\'s water, roads and land, and the hexagons over them', async () => {
    await page.waitForFunction(() => {
      const m = window.tensionmap.map;
      return m.isSourceLoaded('basemap') && m.queryRenderedFeatures({ layers: ['basemap-water'] }).length > 0;
    }, null, { timeout: STEP_TIMEOUT });
    const drawn = await page.evaluate(() => {
      const m = window.tensionmap.map, out = {};
      for (const id of ['basemap-earth', 'basemap-water', 'basemap-road', 'basemap-park', 'hex-fill']) {
        const fs = m.queryRenderedFeatures({ layers: [id] });
        out[id] = { n: fs.length, sources: [...new Set(fs.map((f) => `${f.source}/${f.sourceLayer}`))] };
      }
      return out;
    });
    console.log(`     drawn: ${JSON.stringify(drawn)}`);
    assert.ok(drawn['basemap-water'].n > 0 && drawn['basemap-water'].sources[0] === 'basemap/water', 'water from the archive');
    assert.ok(drawn['basemap-road'].n > 0 && drawn['basemap-road'].sources[0] === 'basemap/roads', 'roads from the archive');
    assert.ok(drawn['basemap-earth'].n > 0, 'land from the archive');
    assert.ok(drawn['basemap-park'].n > 0, 'parks from the archive');
    assert.ok(drawn['hex-fill'].n >= 10, `${drawn['hex-fill'].n} hexagons drawn over the basemap`);
    const ok = basemapAnswers.filter((a) => a.status === 200);
    assert.ok(ok.length > 0, `basemap tiles answered: ${JSON.stringify(basemapAnswers.slice(0, 5))}`);
    assert.deepEqual(basemapAnswers.filter((a) => ![200, 204, 304].includes(a.status)), [], 'every basemap tile answered');
  });

  await step('4. everything comes from the service\'s own origin', async () => {
    const outside = requests.filter((u) => !u.startsWith(BASE) && !u.startsWith(PLAIN) && !/^(data|blob):/.test(u));
    assert.deepEqual(outside, [], 'requests to another origin');
  });

  await step('5. the attribution credits OpenStreetMap contributors, and no note asks for a basemap', async () => {
    const credit = await page.evaluate(() => document.querySelector('.maplibregl-ctrl-attrib-inner')?.textContent || '');
    assert.match(credit, /© OpenStreetMap contributors/);
    assert.equal(await page.locator('#basemap-note').count(), 0);
    await page.screenshot({ path: path.join(OUT, 'map-basemap.png') });
  });

  await step('6. without an archive, the plain background and a note saying how to add one', async () => {
    // The session cookie is the host's, whatever the port: the same user.
    const p = watch(await context.newPage());
    await p.goto(PLAIN + view);
    await ready(p);
    const st = await p.evaluate(() => {
      const s = window.tensionmap.map.getStyle();
      return { sources: Object.keys(s.sources), first: s.layers[0].id };
    });
    assert.ok(!st.sources.includes('basemap'), `no basemap source: ${st.sources}`);
    assert.equal(st.first, 'background');
    const note = await p.locator('#basemap-note').textContent();
    assert.match(note, /TENSIONMAP_BASEMAP_PMTILES/);
    assert.ok(await p.locator('#basemap-note').isVisible(), 'the note is visible');
    await p.close();
  });

  await step('   no script errors and no refused resources (CSP) in any page', async () => {
    assert.deepEqual(pageErrors, []);
  });
}

try {
  await run();
} catch (e) {
  if (!failed) console.log(`FAIL basemap.test: ${e && e.stack || e}`);
  for (const m of pageErrors) console.log(`     ${m}`);
  for (const p of context.pages()) {
    const status = await p.locator('#map-status').textContent().catch(() => '');
    console.log(`     ${p.url()}: status line ${JSON.stringify(status)}`);
    const diag = await p.evaluate(() => {
      const t = window.tensionmap;
      if (!t) return 'no window.tensionmap';
      const m = t.map;
      return JSON.stringify({ styleLoaded: m.isStyleLoaded(), loaded: m.loaded(), sources: Object.keys(m.getStyle()?.sources || {}),
        layers: (m.getStyle()?.layers || []).length, ready: document.getElementById('tm-map').dataset.ready });
    }).catch((e) => String(e));
    console.log(`     map: ${diag}`);
  }
  process.exitCode = 1;
} finally {
  await context.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
console.log(`basemap.test: ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// The map page in headless Chromium against a running tensionmap server, as a
// person uses it: sign in through the form, see hexagons, change filters, open a
// hexagon's figures; then, as a strategic user, every tile and API answer the page
// receives is checked for small counts. Writes screenshots to TM_OUTPUT.
//
// Environment: BASE_URL (the server), TM_BASEMAP_BASE_URL (a server of the same data
// with a basemap configured), TM_POLICE_USER, TM_STRATEGIC_USER,
// TM_PASSWORD, TM_FROM and TM_TO (a period with data), TM_OUTPUT (a directory),
// TM_CHROMIUM (default /usr/bin/chromium). web/browser_test.go sets them.
import { chromium } from 'playwright-core';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const env = (name, def) => {
  const v = process.env[name] ?? def;
  if (v === undefined || v === '') {
    console.error(`map.test: ${name} is not set (web/browser_test.go sets it)`);
    process.exit(2);
  }
  return v;
};
const BASE = env('BASE_URL').replace(/\/$/, '');
const BASEMAP_BASE = env('TM_BASEMAP_BASE_URL').replace(/\/$/, '');
const POLICE = env('TM_POLICE_USER');
const STRATEGIC = env('TM_STRATEGIC_USER');
const PASSWORD = env('TM_PASSWORD');
const FROM = env('TM_FROM');
const TO = env('TM_TO');
const OUT = env('TM_OUTPUT');
const CHROMIUM = env('TM_CHROMIUM', '/usr/bin/chromium');
const ADMIN = env('TM_ADMIN_USER');
const CITYWIDE = Number(env('TM_CITYWIDE_ID'));
const WIDESPREAD = Number(env('TM_WIDESPREAD_ID'));
// Each step waits for its condition up to this long: generous for a busy machine.
// There is no budget for the whole flow; a slow step is reported with its time.
const STEP_TIMEOUT = 60_000;

const started = Date.now();
let passed = 0, failed = 0;

// step runs one check, printing its name, outcome and time.
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

// ---- Browser ---------------------------------------------------------------

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tensionmap-chromium-'));
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1440, height: 900 },
  locale: 'en-GB',
  timezoneId: 'Europe/London',
});
context.setDefaultTimeout(STEP_TIMEOUT);

// Every request and answer of the session, workers' tile requests included.
const requests = [];
const pageErrors = [];
context.on('request', (r) => requests.push(r.url()));
let onResponse = null;
context.on('response', (r) => { if (onResponse) onResponse(r); });

function watch(page) {
  page.on('console', (m) => {
    // The browser's own request for a favicon is not the page's doing.
    if (m.type() === 'error' && !/\/favicon\.ico$/.test(m.location().url || '')) pageErrors.push(`console: ${m.text()} ${m.location().url || ''}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`page error: ${e.message}`));
  return page;
}

// free(x, y), in every page: whether a click there lands on the map canvas, away
// from any alert outline.
await context.addInitScript(() => {
  window.free = (x, y) => {
    const el = document.elementFromPoint(x, y);
    if (!el || !el.classList.contains('maplibregl-canvas')) return false;
    const m = window.tensionmap.map, r = m.getCanvas().getBoundingClientRect();
    const px = x - r.left, py = y - r.top;
    return !m.getLayer('alert-line') || m.queryRenderedFeatures([[px - 6, py - 6], [px + 6, py + 6]], { layers: ['alert-line'] }).length === 0;
  };
});

const page = watch(context.pages()[0] || await context.newPage());

// ---- Helpers ---------------------------------------------------------------

async function signIn(p, user, next) {
  await p.goto(BASE + next);
  assert.match(new URL(p.url()).pathname, /^\/signin$/, `GET ${next} without a session should show the sign-in page, got ${p.url()}`);
  await p.getByLabel('Username').fill(user);
  await p.getByLabel('Password').fill(PASSWORD);
  await Promise.all([p.waitForURL((u) => u.pathname === '/map'), p.getByRole('button', { name: 'Sign in' }).click()]);
  await ready(p);
}

// ready waits until the map has drawn its first data.
async function ready(p) {
  await p.waitForFunction(() => window.tensionmap && document.getElementById('tm-map').dataset.ready === 'true', null, { timeout: STEP_TIMEOUT });
  await settled(p);
}

// settled waits until the map has loaded and drawn every tile it asked for.
async function settled(p) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`the map did not settle in ${STEP_TIMEOUT / 1000} s`)), STEP_TIMEOUT); });
  try {
    await Promise.race([p.evaluate(() => window.tensionmap.settled()), late]);
  } finally {
    clearTimeout(timer);
  }
}

// hexagons returns the hexagons drawn, one per cell: {cell, count, suppressed, res, x, y}
// with x, y a point well inside the hexagon, in the page's pixels.
async function hexagons(p) {
  return p.evaluate(() => {
    const tm = window.tensionmap, m = tm.map;
    const rect = m.getCanvas().getBoundingClientRect();
    const out = new Map();
    for (const f of m.queryRenderedFeatures({ layers: [tm.hexLayer] })) {
      const pr = f.properties;
      if (out.has(pr.cell)) continue;
      const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
      let lon = 0, lat = 0;
      for (const [x, y] of ring.slice(0, -1)) { lon += x; lat += y; }
      const pt = m.project([lon / (ring.length - 1), lat / (ring.length - 1)]);
      out.set(pr.cell, { cell: pr.cell, count: pr.count ?? null, suppressed: pr.suppressed ?? 0, res: pr.res, x: rect.left + pt.x, y: rect.top + pt.y });
    }
    return [...out.values()];
  });
}

// clickable keeps the hexagons whose centre shows the map itself (not the legend or
// a control over it) away from any alert's outline, which a click would open.
async function clickable(p, hexes) {
  const ok = await p.evaluate((pts) => pts.map(([x, y]) => window.free(x, y)), hexes.map((h) => [h.x, h.y]));
  return hexes.filter((_, i) => ok[i]);
}

// spotOn returns a point of the page over a map layer, clear of controls and of
// alert outlines, scanning the map from its centre outwards.
async function spotOn(p, layer) {
  return p.evaluate((layer) => {
    const m = window.tensionmap.map, r = m.getCanvas().getBoundingClientRect();
    for (let ring = 0; ring < 12; ring++) {
      for (let i = -ring; i <= ring; i++) {
        for (const [dx, dy] of [[i, -ring], [i, ring], [-ring, i], [ring, i]]) {
          const x = r.left + r.width / 2 + dx * 25, y = r.top + r.height / 2 + dy * 25;
          if (window.free(x, y) && m.queryRenderedFeatures([x - r.left, y - r.top], { layers: [layer] }).length) return { x, y };
        }
      }
    }
    return null;
  }, layer);
}

function tileRequestsSince(n, layer) {
  return requests.slice(n).filter((u) => u.includes(`/tiles/${layer}/`));
}

function pageQuery(p) {
  return new URL(p.url()).searchParams;
}

// apiFilter is the count filter of the page's URL, as the API takes it.
function apiFilter(p) {
  const q = pageQuery(p), out = new URLSearchParams();
  for (const k of ['from', 'to', 'strand', 'kind', 'source']) if (q.get(k)) out.set(k, q.get(k));
  return out.toString();
}

async function fetchJSON(p, url) {
  return p.evaluate(async (u) => {
    const r = await fetch(u, { headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error(`${u}: ${r.status} ${await r.text()}`);
    return r.json();
  }, url);
}

// shown reads a figure as the panel writes it: "1,234", or "suppressed" for null.
function shown(text) {
  const t = (text || '').trim();
  assert.ok(t !== '', 'the panel shows an empty figure');
  if (t === 'suppressed') return null;
  const n = Number(t.replace(/,/g, ''));
  assert.ok(Number.isFinite(n), `the panel shows ${JSON.stringify(t)}, not a number`);
  return n;
}

async function panelFigure(p, selector) {
  return shown(await p.locator(`#details ${selector}`).first().textContent());
}

const countsOf = (j) => (j.counts && typeof j.counts === 'object' ? j.counts : j);
const weeksOf = (w) => (Array.isArray(w) ? w : (w && w.weeks) || []);

async function run() {
  // ---- 1. Sign in ------------------------------------------------------------

  const view = `/map?from=${FROM}&to=${TO}&metric=count`;
  await step('1. signing in through the form lands on the map, keeping the link', async () => {
    await signIn(page, POLICE, view);
    const q = pageQuery(page);
    assert.equal(q.get('from'), FROM, 'the period of the link survives the sign-in');
    assert.equal(q.get('to'), TO);
    const who = await page.locator('.signout span').innerText();
    assert.match(who, /police/, `the header shows who is signed in: ${who}`);
  });

  await step('   the controls have labels and the map canvas has a name', async () => {
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('#tm-map input, #tm-map select, #tm-map button')]
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
      .map((e) => e.outerHTML.slice(0, 80)));
    assert.deepEqual(unlabelled, [], 'every control has a label');
    const label = await page.locator('canvas.maplibregl-canvas').getAttribute('aria-label');
    assert.ok(label && label.length > 10, `the canvas's aria-label: ${label}`);
    await page.locator('#f-kind').focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.name);
    assert.ok(focused, 'Tab moves from one control to the next');
  });

  // ---- 2. Hexagons -----------------------------------------------------------

  let before;
  await step('2. the map draws hexagons with counts', async () => {
    before = await hexagons(page);
    const counted = before.filter((h) => h.count > 0);
    assert.ok(counted.length >= 10, `${counted.length} hexagons with a count drawn; want at least 10 (of ${before.length})`);
    const legendItems = await page.locator('#legend li').count();
    assert.ok(legendItems >= 3, `the legend has ${legendItems} entries`);
    assert.ok(tileRequestsSince(0, 'hotspots').length > 0, 'hotspot tiles were requested');
  });

  await step('   the tension metric colours the hexagons inside open alerts', async () => {
    await page.getByRole('radio', { name: 'Tension of open alerts' }).check();
    await settled(page);
    const tense = await page.evaluate(() => window.tensionmap.map.queryRenderedFeatures({ layers: [window.tensionmap.hexLayer] })
      .filter((f) => f.properties.tension).map((f) => f.properties.tension));
    assert.ok(tense.length > 0, 'hexagons inside the open alerts carry their tension');
    assert.equal(await page.locator('#legend').getAttribute('data-metric'), 'tension');
    assert.equal(pageQuery(page).get('metric'), 'tension');
    await page.getByRole('radio', { name: 'Number of reports' }).check();
    await settled(page);
  });

  // ---- 2b. The story: wide alerts, classes from the view, the home page ------

  // The citywide alert's box, from the API: the tests do not assume the town's shape.
  let townBox;
  await step('   a citywide alert is named in a banner over the map, with a link that opens it', async () => {
    const banner = page.locator('#alert-banner');
    await banner.waitFor({ state: 'visible' });
    const text = (await banner.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /Citywide: trigger-event uplift, \w+ tension\./, `the banner names the citywide alert in words: ${text}`);
    assert.match(text, /After National: referendum result \(national\), 7 days, 24–30 Jun 2026: 60 race reports where [\d.]+ were expected\./, text);
    assert.match(text, /A rise across 3 areas at once, \w+ tension\./, text);
    assert.match(text, /^2 alerts cover the whole area or many areas at once/, text);
    assert.doesNotMatch(text, /\b(uplift|widespread):|_/, `no codes in the banner: ${text}`);
    const link = page.locator(`#alert-banner a[data-alert-id="${CITYWIDE}"]`);
    assert.match(await link.getAttribute('href'), new RegExp(`[?&]alert=${CITYWIDE}(&|$)`), 'the link is a link to the alert');
    await link.click();
    await page.waitForFunction((id) => {
      const d = document.getElementById('details');
      return !d.hidden && d.dataset.kind === 'alert' && d.dataset.id === String(id) && d.dataset.state === 'ready';
    }, CITYWIDE);
    assert.equal(pageQuery(page).get('alert'), String(CITYWIDE), 'the URL names the alert');
    const one = await fetchJSON(page, `/api/v1/alerts/${CITYWIDE}`);
    townBox = (one.alert || one).bbox;
    assert.ok(Array.isArray(townBox) && townBox.length === 4, `the citywide alert has a box: ${townBox}`);
  });

  await step('   the citywide alert is outlined around the whole area, the widespread one around its areas', async () => {
    await page.evaluate((b) => window.tensionmap.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, duration: 0 }), townBox);
    await settled(page);
    const outlines = await page.evaluate(() => window.tensionmap.map.queryRenderedFeatures({ layers: ['alert-line'] })
      .map((f) => ({ id: Number(f.properties.id), scope: f.properties.scope })));
    assert.ok(outlines.some((o) => o.id === CITYWIDE && o.scope === 'citywide'), `the citywide alert's outline is drawn: ${JSON.stringify(outlines)}`);
    assert.ok(outlines.some((o) => o.id === WIDESPREAD && o.scope === 'areas'), `the widespread alert's outline is drawn: ${JSON.stringify(outlines)}`);
  });

  await step('   the first view: the whole area below the banner, above the credit, beside the legend', async () => {
    await page.goto(`${BASE}/map?preset=90&metric=count&layers=hex,areas,alerts`);
    await ready(page);
    await page.locator('#alert-banner').waitFor({ state: 'visible' });
    // The view is refitted once the banner is drawn: wait for the area to be clear of it.
    await page.waitForFunction((b) => {
      const m = window.tensionmap.map, box = m.getCanvas().getBoundingClientRect();
      const nw = m.project([b[0], b[3]]), se = m.project([b[2], b[1]]);
      const banner = document.getElementById('alert-banner').getBoundingClientRect();
      const credit = document.querySelector('#map .maplibregl-ctrl-attrib.maplibregl-compact-show');
      const floor = credit ? credit.getBoundingClientRect().top - box.top : box.height;
      const legend = document.querySelector('.legend').getBoundingClientRect();
      return !m.isMoving() && nw.y >= banner.bottom - box.top && se.y <= floor && nw.x >= legend.right - box.left - 1 && se.x <= box.width;
    }, townBox, { timeout: STEP_TIMEOUT });
    // The synthetic town has no licence to credit: the map names none.
    const credit = await page.locator('.maplibregl-ctrl-attrib-inner').innerText();
    assert.doesNotMatch(credit, /Office for National Statistics|Open Government Licence/, `the grid town credits ${credit}`);
    await page.goto(`${BASE}${view}`);
    await ready(page);
  });

  await step('   count classes come from the hexagons in view: at least five, each with its bounds, at every zoom', async () => {
    const c = [(townBox[0] + townBox[2]) / 2, (townBox[1] + townBox[3]) / 2];
    let five = 0;
    for (const z of [10.5, 11.5, 12.5, 13.5]) {
      await page.evaluate(([c, z]) => window.tensionmap.map.jumpTo({ center: c, zoom: z }), [c, z]);
      await settled(page);
      const got = await page.evaluate(() => {
        const tm = window.tensionmap, counts = new Map();
        for (const f of tm.map.queryRenderedFeatures({ layers: [tm.hexLayer] })) {
          if (f.properties.count !== undefined && f.properties.count !== null) counts.set(f.properties.cell, Number(f.properties.count));
        }
        const lg = document.getElementById('legend');
        const labels = [...lg.querySelectorAll('ul:not(.lines) li')].map((li) => li.textContent.trim());
        return { classes: Number(lg.dataset.classes), values: [...counts.values()], labels, breaks: tm.classes().count.breaks };
      });
      const distinct = new Set(got.values.filter((v) => v > 0)).size;
      const min = Math.min(...got.values.filter((v) => v > 0)), max = Math.max(...got.values);
      assert.ok(got.classes >= Math.min(5, distinct), `zoom ${z}: ${got.classes} classes for ${distinct} distinct counts in view`);
      if (got.classes >= 5) five++;
      // Each class names its bounds, "1–2", "3–5", …, "12 or more", one after the other.
      const bounds = got.labels.slice(0, got.classes);
      let next = min;
      bounds.forEach((label, i) => {
        const m = /^(\d+)(?:–(\d+)| or more)?$/.exec(label);
        assert.ok(m, `zoom ${z}: the class "${label}" does not read as its bounds`);
        assert.equal(Number(m[1]), next, `zoom ${z}: class ${i + 1} "${label}" starts at ${m[1]}, want ${next} (${bounds})`);
        if (i === bounds.length - 1) assert.ok(label.endsWith('or more') || bounds.length === 1, `zoom ${z}: the last class "${label}" is open-ended`);
        next = m[2] ? Number(m[2]) + 1 : Number(m[1]) + 1;
      });
      assert.ok(Number(/^(\d+)/.exec(bounds[bounds.length - 1])[1]) <= max, `zoom ${z}: the top class starts above the largest count in view, ${max}`);
      // A hot spot stands out: the top class is a small share of the hexagons.
      const top = got.breaks.length ? got.breaks[got.breaks.length - 1] : min;
      const inTop = got.values.filter((v) => v >= top).length;
      assert.ok(inTop <= got.values.length / 3, `zoom ${z}: ${inTop} of ${got.values.length} hexagons in the top class (${bounds})`);
      console.log(`     zoom ${z}: ${bounds.join(', ')}`);
    }
    assert.ok(five >= 2, `five classes or more at only ${five} of four zooms`);
  });

  await step('   the home page lists the open alerts in words, the reviews due and what changed, and links to the alert', async () => {
    await page.goto(`${BASE}/`);
    const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    for (const want of ['Citywide rise in race hate reports after National: referendum result (national)', 'Widespread rise in all hate reports across 3 areas',
      'Open alerts', 'Impact assessments due for review']) {
      assert.ok(text.includes(want), `the home page lacks "${want}": ${text}`);
    }
    assert.match(text, /In the last week \(your first visit\)|Since your last visit/);
    assert.ok(await page.locator('#open-alerts li').count() >= 4, 'every open alert is listed');
    await Promise.all([page.waitForURL((u) => u.pathname === '/map'), page.locator(`#open-alerts a[href="/map?alert=${CITYWIDE}"]`).click()]);
    await ready(page);
    await page.waitForFunction((id) => {
      const d = document.getElementById('details');
      return !d.hidden && d.dataset.kind === 'alert' && d.dataset.id === String(id) && d.dataset.state === 'ready';
    }, CITYWIDE);
    // Back to the view the next steps start from.
    await page.goto(`${BASE}${view}`);
    await ready(page);
  });

  // ---- 3. Filters change the tiles ------------------------------------------

  await step('3. a strand filter changes the tile URLs and the counts drawn', async () => {
    const n = requests.length;
    await page.getByRole('checkbox', { name: 'Religion' }).check();
    await settled(page);
    const asked = tileRequestsSince(n, 'hotspots');
    assert.ok(asked.length > 0, 'new hotspot tiles were requested after the filter changed');
    for (const u of asked) assert.equal(new URL(u).searchParams.get('strand'), 'religion', `tile request without the filter: ${u}`);
    assert.equal(pageQuery(page).get('strand'), 'religion', 'the URL holds the filter');
    const after = await hexagons(page);
    const was = new Map(before.map((h) => [h.cell, h.count]));
    const changed = after.filter((h) => was.has(h.cell) && was.get(h.cell) !== h.count);
    assert.ok(changed.length > 0 || after.length < before.length, 'the counts drawn differ after the filter changed');
    for (const h of after) {
      if (was.has(h.cell) && h.count !== null && was.get(h.cell) !== null) {
        assert.ok(h.count <= was.get(h.cell), `cell ${h.cell}: ${h.count} religion reports but ${was.get(h.cell)} in all`);
      }
    }
  });

  await step('   a period preset and the week slider change the tile URLs', async () => {
    let n = requests.length;
    await page.getByRole('button', { name: 'Last 90 days' }).click();
    await settled(page);
    const q = pageQuery(page);
    assert.equal(q.get('preset'), '90');
    const from = q.get('from');
    let asked = tileRequestsSince(n, 'hotspots');
    assert.ok(asked.length > 0, 'tiles were requested for the preset');
    for (const u of asked) assert.equal(new URL(u).searchParams.get('from'), from);
    assert.equal(await page.getByRole('button', { name: 'Last 90 days' }).getAttribute('aria-pressed'), 'true');

    n = requests.length;
    await page.locator('#f-week').focus();
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => new URL(location.href).searchParams.has('week'));
    await settled(page);
    const wq = pageQuery(page);
    asked = tileRequestsSince(n, 'hotspots');
    assert.ok(asked.length > 0, 'tiles were requested for the week');
    for (const u of asked) {
      const tq = new URL(u).searchParams;
      assert.deepEqual([tq.get('from'), tq.get('to')], [wq.get('from'), wq.get('to')]);
    }
    const days = (Date.parse(wq.get('to')) - Date.parse(wq.get('from'))) / 86400000;
    assert.equal(days, 6, 'a week is seven days');
  });

  await step('   a shared link restores the view, the filters and the metric', async () => {
    await page.getByRole('radio', { name: 'Reports per 1,000 residents' }).check();
    await page.evaluate(() => window.tensionmap.map.jumpTo({ center: [-0.77, 52.03], zoom: 12.25 }));
    await settled(page);
    const link = page.url();
    const q = new URL(link).searchParams;
    assert.equal(q.get('metric'), 'rate');
    const other = watch(await context.newPage());
    await other.goto(link);
    await ready(other);
    const got = await other.evaluate(() => {
      const m = window.tensionmap.map, c = m.getCenter();
      return {
        zoom: m.getZoom(), lat: c.lat, lon: c.lng,
        religion: document.querySelector('input[name=strand][value=religion]').checked,
        metric: document.querySelector('input[name=metric]:checked').value,
        from: document.getElementById('f-from').value, to: document.getElementById('f-to').value,
        legend: document.getElementById('legend').dataset.metric,
      };
    });
    assert.ok(Math.abs(got.zoom - 12.25) < 0.01, `zoom ${got.zoom}`);
    assert.ok(Math.abs(got.lat - 52.03) < 1e-4 && Math.abs(got.lon + 0.77) < 1e-4, `centre ${got.lat}, ${got.lon}`);
    assert.deepEqual([got.religion, got.metric, got.legend, got.from, got.to], [true, 'rate', 'rate', q.get('from'), q.get('to')]);
    await other.close();
  });

  await step('   a tile the server is still drawing (503, Retry-After) is asked for again and drawn', async () => {
    // The hotspot tile at the town centre is answered once as a server still drawing
    // it answers; the requests after it reach the server.
    const [lon, lat, z] = [-0.76, 52.04, 14];
    const n = 2 ** z;
    const [x, y] = [Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.asinh(Math.tan((lat * Math.PI) / 180)) / Math.PI) / 2) * n)];
    const target = `/tiles/hotspots/${z}/${x}/${y}.mvt`;
    const answers = [];
    const pattern = /\/tiles\/hotspots\/\d+\/\d+\/\d+\.mvt/;
    await page.route(pattern, async (route) => {
      if (new URL(route.request().url()).pathname !== target) return route.continue();
      if (answers.length === 0) {
        answers.push(503);
        return route.fulfill({ status: 503, headers: { 'Retry-After': '1', 'Content-Type': 'application/json' },
          body: '{"error":"unavailable","message":"the tile is still being drawn; try again shortly"}' });
      }
      const r = await route.fetch();
      answers.push(r.status());
      return route.fulfill({ response: r });
    });
    try {
      await page.goto(`${BASE}/map?from=${FROM}&to=${TO}&metric=count&z=14.3&lat=${lat}&lon=${lon}`);
      await ready(page);
      assert.deepEqual(answers, [503, 200], `the tile ${target} was answered ${answers.join(', ')}; want 503, then 200 when asked again`);
      const inTile = await page.evaluate(([z, x, y]) => {
        const n = 2 ** z;
        const lon = (i) => (i / n) * 360 - 180;
        const lat = (j) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * j) / n))) * 180) / Math.PI;
        // Well inside the tile, past its neighbours' buffers: only the tile itself
        // carries a hexagon there.
        const k = (2 * 64) / 4096;
        const [w, e, nth, s] = [lon(x + k), lon(x + 1 - k), lat(y + k), lat(y + 1 - k)];
        const m = window.tensionmap.map;
        return m.querySourceFeatures('hotspots', { sourceLayer: 'hotspots' }).filter((f) => {
          const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
          return ring.every(([p, q]) => p >= w && p <= e && q >= s && q <= nth);
        }).length;
      }, [z, x, y]);
      assert.ok(inTile > 0, `no hexagon drawn in the tile ${z}/${x}/${y} after it was asked for again`);
      const line = await page.locator('#map-status').textContent();
      assert.ok(!/could not be loaded/.test(line), `the status line reports a failure: ${line}`);
    } finally {
      await page.unroute(pattern);
      // The browser logs the refusal made up here; it is no script error of the page.
      for (let i = pageErrors.length - 1; i >= 0; i--) {
        if (pageErrors[i].includes(target) && pageErrors[i].includes('503')) pageErrors.splice(i, 1);
      }
    }
  });

  // ---- 4. The panel equals the API ------------------------------------------

  await step('4. clicking a hexagon opens its figures, equal to the API\'s', async () => {
    await page.goto(`${BASE}/map?from=${FROM}&to=${TO}&strand=religion&metric=count&z=11.5&lat=52.04&lon=-0.76`);
    await ready(page);
    const hexes = await clickable(page, (await hexagons(page)).filter((h) => h.count > 0).sort((a, b) => b.count - a.count));
    assert.ok(hexes.length > 0, 'a hexagon with a count to click');
    const hex = hexes[0];
    await page.mouse.click(hex.x, hex.y);
    await page.waitForFunction((cell) => {
      const d = document.getElementById('details');
      return !d.hidden && d.dataset.state === 'ready' && d.dataset.id === cell;
    }, hex.cell);
    assert.equal(pageQuery(page).get('cell'), hex.cell, 'the URL holds the selected hexagon');
    const api = await fetchJSON(page, `/api/v1/cells/${hex.cell}?${apiFilter(page)}`);
    const c = countsOf(api);
    assert.equal(await panelFigure(page, '[data-field=count]'), c.count, 'reports');
    assert.equal(await panelFigure(page, '[data-field=crimes]'), c.crimes, 'hate crimes');
    assert.equal(await panelFigure(page, '[data-field=incidents]'), c.incidents, 'hate incidents');
    assert.equal(c.count, hex.count, 'the tile\'s count equals the API\'s');
    const strands = Object.keys(c.by_strand || {});
    assert.ok(strands.length > 0, 'the API gives counts by strand');
    for (const s of strands) assert.equal(await panelFigure(page, `[data-strand="${s}"]`), c.by_strand[s], `strand ${s}`);
    const weeks = weeksOf(api.weekly);
    assert.ok(weeks.length > 0, 'the API gives a weekly series');
    const rows = page.locator('#details tr[data-week-end]');
    assert.equal(await rows.count(), weeks.length, 'one row a week');
    for (let i = 0; i < weeks.length; i++) {
      const row = rows.nth(i);
      assert.equal(await row.getAttribute('data-week-end'), weeks[i].week_end ?? weeks[i].end);
      assert.equal(shown(await row.locator('[data-field=observed]').textContent()), weeks[i].observed ?? null, `week ${i} observed`);
    }
    assert.equal(await page.locator('#weekly-chart canvas').count() > 0, true, 'the weekly chart is drawn');
  });

  // ---- 6. Screenshot --------------------------------------------------------

  await step('6. a screenshot of the map with its legend and panel', async () => {
    fs.mkdirSync(OUT, { recursive: true });
    await settled(page);
    await page.screenshot({ path: path.join(OUT, 'map.png') });
    assert.ok(fs.statSync(path.join(OUT, 'map.png')).size > 20_000, 'the screenshot has content');
  });

  // ---- 5. Strategic users never receive a small count -----------------------

  const COUNT_KEYS = new Set(['count', 'crimes', 'incidents', 'observed']);
  const BREAKDOWNS = new Set(['by_strand', 'by_source']);
  const small = [];
  const seen = { tiles: 0, features: 0, withheld: 0, api: 0, apiWithheld: 0, forbidden: [], cancelled: 0 };
  const pending = [];

  function checkValue(where, key, v) {
    if (typeof v === 'number' && v >= 1 && v <= 2) small.push(`${where}: ${key} = ${v}`);
  }

  // walk checks every count in a JSON answer; where names the answer and the path.
  function walk(where, v) {
    if (Array.isArray(v)) { v.forEach((x, i) => walk(`${where}[${i}]`, x)); return; }
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (BREAKDOWNS.has(k) && x && typeof x === 'object') {
        for (const [s, n] of Object.entries(x)) {
          checkValue(where, `${k}.${s}`, n);
          if (n === null) seen.apiWithheld++;
        }
      } else if (COUNT_KEYS.has(k) && (typeof x === 'number' || x === null)) {
        checkValue(where, k, x);
        if (x === null) seen.apiWithheld++;
      } else walk(`${where}.${k}`, x);
    }
  }

  async function inspect(r) {
    const u = new URL(r.url());
    if (u.origin !== BASE) return;
    if (r.status() === 403) seen.forbidden.push(u.pathname);
    if (u.pathname.startsWith('/tiles/') && u.pathname.endsWith('.mvt')) {
      if (r.status() !== 200) return;
      let body = await r.body();
      if (body[0] === 0x1f && body[1] === 0x8b) body = zlib.gunzipSync(body);
      const vt = new VectorTile(new PbfReader(body));
      seen.tiles++;
      for (const [name, layer] of Object.entries(vt.layers)) {
        for (let i = 0; i < layer.length; i++) {
          const props = layer.feature(i).properties;
          seen.features++;
          if (props.suppressed === 1) seen.withheld++;
          for (const k of COUNT_KEYS) checkValue(`${u.pathname}${u.search} ${name}#${i}`, k, props[k]);
        }
      }
    } else if (u.pathname.startsWith('/api/') && (r.headers()['content-type'] || '').includes('json') && r.status() === 200) {
      seen.api++;
      walk(`${u.pathname}${u.search} `, await r.json());
    }
  }

  await step('5. as a strategic user, no tile or API answer carries a count of 1 or 2', async () => {
    await context.clearCookies();
    // A tile the map cancelled once its headers had come (it moved on) never reached the
    // page, and the browser keeps no body of it to read.
    onResponse = (r) => pending.push(inspect(r).catch((e) => {
      if (/\/tiles\/.*\.mvt/.test(r.url()) && /No data found for resource/.test(e.message)) seen.cancelled++;
      else small.push(`could not read ${r.url()}: ${e.message}`);
    }));
    const sp = watch(await context.newPage());
    await signIn(sp, STRATEGIC, `/map?from=${FROM}&to=${TO}&z=11.5&lat=52.04&lon=-0.76`);
    const layers = await sp.evaluate(() => [...document.querySelectorAll('input[name=layer]')].map((i) => i.value));
    assert.deepEqual(layers.sort(), ['alerts', 'areas', 'hex'], 'a strategic user is offered no incident or near-repeat layer');
    await sp.waitForFunction(() => document.querySelectorAll('#alert-list button').length > 0);

    // Several filter combinations, each drawn in full.
    await sp.getByRole('checkbox', { name: 'Religion' }).check();
    await settled(sp);
    await sp.getByLabel('Crimes or incidents').selectOption('incident');
    await settled(sp);
    await sp.getByRole('checkbox', { name: 'Religion' }).uncheck();
    await sp.getByRole('checkbox', { name: 'Third party' }).check();
    await settled(sp);
    await sp.getByRole('checkbox', { name: 'Third party' }).uncheck();
    await sp.getByLabel('Crimes or incidents').selectOption('');
    await sp.getByRole('button', { name: 'Last 28 days' }).click();
    await settled(sp);
    // The period label names the published period the server counted, not the days asked.
    const period = async (what) => {
      await sp.waitForFunction(() => document.getElementById('f-week-out').textContent.startsWith('Counts for '), null, { timeout: 60000 });
      const q = pageQuery(sp);
      const got = await sp.evaluate(() => {
        const c = document.getElementById('f-counted');
        return { label: document.getElementById('f-week-out').textContent, note: c.textContent, hidden: c.hidden, from: c.dataset.from, to: c.dataset.to };
      });
      const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
      const end = new Date(q.get('to') + 'T00:00:00Z');
      const month = `${months[end.getUTCMonth()]} ${end.getUTCFullYear()}`;
      assert.equal(got.label, `Counts for ${month}`, `${what}: the label names the calendar month counted`);
      assert.equal(got.from, `${q.get('to').slice(0, 7)}-01`, `${what}: the period counted starts on the month's first day`);
      if (got.from !== q.get('from') || got.to !== q.get('to')) {
        assert.ok(!got.hidden && got.note.includes('calendar months, quarters and years') && got.note.includes(month), `${what}: the note says why: ${got.note}`);
      }
      const ask = await fetchJSON(sp, `/api/v1/cells?bbox=0,0,0.000001,0.000001&from=${q.get('from')}&to=${q.get('to')}`);
      assert.deepEqual([got.from, got.to], [ask.filter.from, ask.filter.to], `${what}: the label is the period the server answered`);
    };
    await period('the last 28 days');
    await sp.locator('#f-week').focus();
    await sp.keyboard.press('ArrowLeft');
    await sp.waitForFunction(() => new URL(location.href).searchParams.has('week'));
    await settled(sp);
    await period('one week on the slider');
    await sp.evaluate(() => window.tensionmap.map.jumpTo({ center: [-0.76, 52.04], zoom: 13.5 }));
    await settled(sp);
    await sp.getByRole('button', { name: 'Last year' }).click();
    await settled(sp);

    // A hexagon's panel, an area's panel and an alert's.
    const hexes = await clickable(sp, await hexagons(sp));
    assert.ok(hexes.length > 0, 'hexagons to click as a strategic user');
    await sp.mouse.click(hexes[0].x, hexes[0].y);
    await sp.waitForFunction(() => document.getElementById('details').dataset.state === 'ready');
    const summary = await sp.evaluate(() => document.querySelector('#details-body p.note').textContent);
    assert.ok(/^Counts for \d{4} ·/.test(summary), `the hexagon's panel names the year counted for the last year asked: ${summary}`);
    await sp.getByRole('checkbox', { name: 'Hexagons' }).uncheck();
    await sp.evaluate(() => window.tensionmap.map.jumpTo({ center: [-0.76, 52.04], zoom: 12 }));
    await settled(sp);
    const spot = await spotOn(sp, 'area-fill');
    assert.ok(spot, 'an area to click');
    await sp.mouse.click(spot.x, spot.y);
    await sp.waitForFunction(() => document.getElementById('details').dataset.kind === 'area' && document.getElementById('details').dataset.state === 'ready');
    await sp.getByRole('checkbox', { name: 'Hexagons' }).check();
    const at = () => sp.evaluate(() => { const m = window.tensionmap.map, c = m.getCenter(); return [c.lng, c.lat, m.getZoom()]; });
    const was = await at();
    await sp.locator('#alert-list button').first().click();
    await sp.waitForFunction(() => document.getElementById('details').dataset.kind === 'alert' && document.getElementById('details').dataset.state === 'ready');
    await sp.waitForFunction(() => !window.tensionmap.map.isMoving());
    await settled(sp);
    const now = await at();
    assert.ok(now.some((v, i) => Math.abs(v - was[i]) > 1e-4), 'choosing an alert in the list moves the map to it');
    await sp.screenshot({ path: path.join(OUT, 'map-strategic.png') });

    onResponse = null;
    await Promise.all(pending);
    console.log(`     checked ${seen.tiles} tiles (${seen.features} features, ${seen.withheld} withheld) and ${seen.api} API answers (${seen.apiWithheld} withheld counts)`);
    assert.deepEqual(small, [], 'counts of 1 or 2 reached a strategic user');
    assert.ok(seen.tiles >= 10, `only ${seen.tiles} tiles were seen: the page's tile requests were not recorded`);
    assert.ok(seen.withheld > 0 || seen.apiWithheld > 0, 'no count was withheld in the whole session: the check proved nothing');
    assert.ok(seen.api >= 5, `only ${seen.api} API answers were seen`);
    assert.deepEqual(seen.forbidden, [], 'the page asked for something a strategic user may not read');
    await sp.close();
  });

  // ---- 7. A basemap -------------------------------------------------------

  await step('7. with a basemap configured, the data are drawn over it', async () => {
    const bp = watch(await context.newPage());
    const link = `/map?from=${FROM}&to=${TO}&z=11.5&lat=52.04&lon=-0.76`;
    await bp.goto(BASEMAP_BASE + link);
    if (new URL(bp.url()).pathname === '/signin') {
      await bp.close();
      await signIn(watch(await context.newPage()), POLICE, link);
    } else {
      await ready(bp);
    }
    const p = context.pages().find((x) => x.url().startsWith(BASEMAP_BASE + '/map'));
    const layers = await p.evaluate(() => window.tensionmap.map.getStyle().layers.map((l) => l.id));
    assert.equal(layers[0], 'basemap-background', `the basemap's layers come first: ${layers.slice(0, 3)}`);
    assert.ok(layers.indexOf('hex-fill') > 0, 'the hexagons are drawn over the basemap');
    const hexes = (await hexagons(p)).filter((h) => h.count > 0);
    assert.ok(hexes.length >= 10, `${hexes.length} hexagons with a count over the basemap`);
    const note = await p.locator('#map-status').textContent();
    assert.doesNotMatch(note, /basemap could not be loaded/);
    await p.close();
  });

  await step('8. every page fits a 1280 px wide window: wide tables scroll inside themselves', async () => {
    await context.clearCookies();
    const ap = watch(await context.newPage());
    await ap.setViewportSize({ width: 1280, height: 900 });
    await ap.goto(`${BASE}/`);
    await ap.getByLabel('Username').fill(ADMIN);
    await ap.getByLabel('Password').fill(PASSWORD);
    await Promise.all([ap.waitForURL((u) => u.pathname === '/'), ap.getByRole('button', { name: 'Sign in' }).click()]);
    const assessments = (await fetchJSON(ap, '/api/v1/assessments')).assessments || [];
    const events = (await fetchJSON(ap, '/api/v1/trigger-events')).events || [];
    const pages = ['/', '/map', '/assessments', '/events', '/review', '/admin/users', '/admin/tokens', '/admin/audit'];
    if (assessments.length) pages.push(`/assessments/${assessments[0].id}`);
    if (events.length) pages.push(`/events/${events[0].id}`);
    const wide = [];
    for (const p of pages) {
      await ap.goto(BASE + p);
      if (p === '/map') await ready(ap);
      const w = await ap.evaluate(() => document.documentElement.scrollWidth);
      if (w > 1280) wide.push(`${p}: ${w} px`);
    }
    assert.deepEqual(wide, [], 'pages wider than the window');
    console.log(`     ${pages.length} pages at most 1280 px wide`);
    await ap.close();
  });

  await step('   no script errors and no refused resources (CSP) in any page', async () => {
    assert.deepEqual(pageErrors, []);
  });

}

try {
  await run();
} catch (e) {
  if (!failed) console.log(`FAIL map.test: ${e && e.stack || e}`);
  process.exitCode = 1;
} finally {
  await context.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
}
console.log(`map.test: ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

// The strategic review in headless Chromium against a running tensionmap server:
// a strategic user and a council officer sign in through the form and open the
// review from the navigation; its charts and both maps are inline SVG, shown, of a
// real size and drawn; its tables show the API's figures; a strategic user sees no
// count of 1 or 2 in any cell or bar label; and the page prints on A4 with both maps
// on it and no navigation or forms. Writes review.png and review.pdf to TM_OUTPUT.
//
// Environment: BASE_URL (the server), TM_COUNCIL_USER, TM_STRATEGIC_USER,
// TM_PASSWORD, TM_FROM and TM_TO (the last complete quarter with data), TM_OUTPUT
// (a directory), TM_CHROMIUM, TM_PDFINFO, TM_PDFTOTEXT, TM_PDFTOPPM. The Go test
// (web/workflow_browser_test.go) sets them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  env, Runner, launch, signIn, fetchJSON, printButtonPrints, svgFigure, assertSVG, printLayout, screenLayout,
  PDF, assertA4, pageWith, A4_CONTENT,
} from './pages.mjs';

const BASE = env('BASE_URL').replace(/\/$/, '');
const COUNCIL = env('TM_COUNCIL_USER');
const STRATEGIC = env('TM_STRATEGIC_USER');
const PASSWORD = env('TM_PASSWORD');
const FROM = env('TM_FROM');
const TO = env('TM_TO');
const OUT = env('TM_OUTPUT');
const TOOLS = { pdfinfo: env('TM_PDFINFO'), pdftotext: env('TM_PDFTOTEXT'), pdftoppm: env('TM_PDFTOPPM') };
const CHROMIUM = env('TM_CHROMIUM', '/usr/bin/chromium');

// The review's figures, by their SVG's id prefix (aria-labelledby names its title).
const CHARTS = {
  months: { sel: 'svg.chart-line[aria-labelledby^="months-"]', what: 'the monthly chart', min: { drawn: { path: 8 } } },
  yoy: { sel: 'svg.chart-bar[aria-labelledby^="yoy-"]', what: 'the year-on-year chart', min: { drawn: { rect: 14 } } },
  gimap: { sel: 'svg.chart-map[aria-labelledby^="gimap-"]', what: 'the hot spot map', min: { shapes: 5 } },
  emmap: { sel: 'svg.chart-map[aria-labelledby^="emmap-"]', what: 'the emerging hot spot map', min: { shapes: 3 } },
};
const MAP_TITLES = { gimap: 'Hot and cold spots of the period', emmap: 'Emerging hot spots' };

const runner = new Runner('review.test');
const { context, errors, close } = await launch(CHROMIUM);
const step = (name, fn) => runner.step(name, fn);
fs.mkdirSync(OUT, { recursive: true });

// numbers reads the figures the page shows in its number cells: each cell's text
// and the whole numbers in it (not percentages, rates or decimals), visible cells
// only.
async function numberCells(page) {
  return page.evaluate(() => [...document.querySelectorAll('main td.num')]
    .filter((td) => td.getClientRects().length > 0 && getComputedStyle(td).visibility !== 'hidden')
    .map((td) => {
      const text = td.textContent.trim();
      const ints = [...text.matchAll(/(?<![\d.,])[+-]?\d+(?![\d.,%])/g)].map((m) => Math.abs(Number(m[0])));
      const table = td.closest('table');
      return { text, ints, table: (table.querySelector('caption') || table.closest('div:not(.table-scroll), section').querySelector('h3, h2') || {}).textContent };
    }));
}

// rowFigures reads a figures table's rows: label, this period, a year earlier.
async function rowFigures(page, caption) {
  return page.evaluate((caption) => {
    const t = [...document.querySelectorAll('table.figures-table')].find((x) => x.caption && x.caption.textContent === caption);
    if (!t) return null;
    return [...t.tBodies[0].rows].map((r) => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim(), r.cells[2].textContent.trim()]);
  }, caption);
}

// shown writes an API count as the page does.
const shown = (n) => (n === null ? 'w/h' : String(n));

// openReview signs in and opens the review from the navigation, as the page the
// person lands on after signing in offers it.
async function openReview(user) {
  await context.clearCookies();
  const page = await context.newPage();
  await signIn(page, BASE, user, PASSWORD, '/');
  await Promise.all([page.waitForURL((u) => u.pathname === '/review'),
    page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Strategic review' }).click()]);
  return page;
}

// checkReview checks what both roles see: the quarter, the charts and maps, the
// tables equal to the API's answer.
async function checkReview(page, who) {
  assert.equal(await page.locator('#rv-preset').inputValue(), 'quarter', 'the review opens on the last complete quarter');
  assert.equal(await page.locator('#rv-from').inputValue(), FROM);
  assert.equal(await page.locator('#rv-to').inputValue(), TO);
  const h1 = (await page.locator('main h1').textContent()).trim();
  const day = (s) => new Date(s + 'T00:00:00Z').toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  assert.equal(h1, `${day(FROM)} to ${day(TO)}`);

  // Every chart on the page, then the four the review has in particular.
  const all = await page.locator('main svg.chart').count();
  assert.ok(all >= Object.keys(CHARTS).length, `${who}: ${all} charts on the page`);
  for (let i = 0; i < all; i++) {
    await page.locator('main svg.chart').nth(i).scrollIntoViewIfNeeded();
    assertSVG(await svgFigure(page, 'main svg.chart', i), `${who}: chart ${i + 1} of ${all}`);
  }
  const figs = {};
  for (const [k, c] of Object.entries(CHARTS)) {
    await page.locator(c.sel).scrollIntoViewIfNeeded();
    figs[k] = await svgFigure(page, c.sel);
    // A strategic user's emerging patterns come from the published (noised, withheld)
    // weekly counts, so how many hexagons show one depends on the disclosure key: the
    // map is drawn, but none need be filled (web's TestInferenceEmergingFromPublishedWeeks
    // checks the categories themselves).
    const min = k === 'emmap' && who === 'strategic' ? { ...c.min, shapes: 0 } : c.min;
    assertSVG(figs[k], `${who}: ${c.what}`, min);
    assert.ok(await page.locator(c.sel).isVisible(), `${who}: ${c.what} is not visible`);
  }
  for (const [k, t] of Object.entries(MAP_TITLES)) assert.ok(figs[k].title.startsWith(t), `${who}: the map's title is "${figs[k].title}"`);

  const api = (await fetchJSON(page, `/api/v1/review?from=${FROM}&to=${TO}`)).review;
  const totals = await rowFigures(page, 'Reports this period and a year earlier');
  assert.deepEqual(totals, api.totals.map((f) => [f.label, shown(f.count), shown(f.previous)]), `${who}: the totals table`);
  assert.ok(api.totals[0].count > 0, `${who}: reports in the period`);
  const strands = await rowFigures(page, 'Reports by strand');
  assert.deepEqual(strands, api.strands.map((f) => [f.label, shown(f.count), shown(f.previous)]), `${who}: the strands table`);
  const sources = await rowFigures(page, 'Reports by source');
  assert.deepEqual(sources.map((r) => [r[0], r[1]]), api.sources.map((f) => [f.label, shown(f.count)]), `${who}: the sources table`);
  const areaRows = await page.locator('h3:has-text("Highest rates per 1,000 residents") + .table-scroll table tbody tr').count();
  assert.equal(areaRows, api.highest_rates.length, `${who}: the areas with the highest rates`);
  assert.ok(areaRows > 0, `${who}: areas with rates`);
  return { figs, api };
}

await runner.run(async () => {
  let strategic;

  await step('1. a strategic user signs in and opens the review of the last complete quarter from the navigation', async () => {
    strategic = await openReview(STRATEGIC);
  });

  await step('2. its two charts and two maps are inline SVG, shown, of a real size and drawn; its tables equal the API', async () => {
    const { figs } = await checkReview(strategic, 'strategic');
    // The withheld bars are said so in the bar chart's labels.
    assert.ok(figs.yoy.texts.includes('w/h') || figs.yoy.texts.some((t) => /withheld/i.test(t)), `the bar chart says what is withheld: ${figs.yoy.texts}`);
  });

  await step('3. as a strategic user, no visible cell or bar label shows a count of 1 or 2; small counts read "w/h"', async () => {
    const cells = await numberCells(strategic);
    assert.ok(cells.length >= 40, `only ${cells.length} number cells`);
    const small = cells.filter((c) => c.ints.some((n) => n === 1 || n === 2));
    assert.deepEqual(small, [], 'cells with a count of 1 or 2');
    assert.ok(cells.some((c) => c.text === 'w/h'), 'no count is withheld on the page: the check proved nothing');
    const yoy = await svgFigure(strategic, CHARTS.yoy.sel);
    const labels = yoy.texts.filter((t) => /^\d+$/.test(t)).map(Number);
    assert.deepEqual(labels.filter((n) => n === 1 || n === 2), [], 'bar labels of 1 or 2');
    for (const n of labels) assert.equal(n % 5, 0, `a bar label of ${n} is not rounded to a multiple of 5`);
    // Nor in the paragraph on outcomes.
    const outcomes = await strategic.locator('#outcomes-h + p').textContent();
    for (const m of outcomes.matchAll(/(?<![\d.,])\d+(?![\d.,%])/g)) assert.ok(!['1', '2'].includes(m[0]), `the outcomes say ${m[0]}: ${outcomes}`);
  });

  await step('4. a screenshot of the review; the Print button prints', async () => {
    await strategic.screenshot({ path: path.join(OUT, 'review.png'), fullPage: true });
    assert.ok(fs.statSync(path.join(OUT, 'review.png')).size > 50_000, 'the screenshot has content');
    await printButtonPrints(strategic);
  });

  await step('5. in print on A4 both maps and both charts are laid out, shown and sized; navigation and forms are not', async () => {
    const { figures, shownUI } = await printLayout(strategic, Object.values(CHARTS).map((c) => c.sel));
    for (const [k, c] of Object.entries(CHARTS)) {
      const f = figures[c.sel];
      const min = k === 'emmap' ? { ...c.min, shapes: 0 } : c.min; // the strategic user's patterns: see step 2
      assertSVG(f, `${c.what} in print`, { ...min, width: A4_CONTENT.width * 0.8 });
      assert.ok(f.left >= -1 && f.right <= A4_CONTENT.width + 1, `${c.what} runs off the page: ${f.left}..${f.right} of ${A4_CONTENT.width} px`);
      assert.ok(f.height <= A4_CONTENT.height, `${c.what} (${f.height} px) is taller than a page (${A4_CONTENT.height} px)`);
      if (k in MAP_TITLES) assert.ok(f.height >= 400, `${c.what} is only ${f.height} px high in print`);
    }
    assert.deepEqual(shownUI, [], 'navigation, forms and buttons are not printed');
  });

  await step('6. the PDF is A4, holds both maps with their titles, legends and hexagons, and no navigation or forms', async () => {
    const file = path.join(OUT, 'review.pdf');
    const print = await printLayout(strategic, [CHARTS.gimap.sel, CHARTS.emmap.sel]);
    await strategic.pdf({ path: file, format: 'A4' });
    await screenLayout(strategic);
    const pdf = new PDF(file, TOOLS);
    const n = assertA4(pdf);
    const pages = pdf.pages();
    const all = pages.join(' ');
    for (const absent of ['Sign out', 'Exports', 'Choosing a preset', 'areas.csv', 'the last complete quarter']) {
      assert.ok(!all.includes(absent), `the PDF shows "${absent}"`);
    }
    for (const t of ['Hate crime strategic review', 'The picture', 'Over time', 'Where']) assert.ok(all.toLowerCase().includes(t.toLowerCase()), `the PDF lacks "${t}"`);
    const found = [];
    for (const [k, legend] of [['gimap', 'Hot spot, 99% confidence'], ['emmap', 'Emerging hot spot pattern']]) {
      // The map's title and its legend on one page: the map is not cut in two.
      const at = pageWith(pages, MAP_TITLES[k], legend);
      assert.ok(at > 0, `no page holds "${MAP_TITLES[k]}" with its legend "${legend}":\n${pages.join('\n---\n')}`);
      const fills = print.figures[CHARTS[k].sel].fills;
      const counts = pdf.pixels(at, 60, fills);
      const total = counts.reduce((p, q) => p + q, 0);
      // The strategic emerging map may have no hexagon with a pattern (see step 2).
      const want = print.figures[CHARTS[k].sel].shapes > 0 ? 300 : 0;
      assert.ok(total >= want, `page ${at} shows ${total} pixels of the map's hexagon colours ${fills} (${counts})`);
      found.push(`${k} on page ${at} (${total} hexagon pixels)`);
    }
    // Each area table prints on the page of its heading.
    for (const heading of ['Highest rates per 1,000 residents', 'Largest rises on a year earlier']) {
      const first = (await strategic.locator(`h3:has-text("${heading}") + .table-scroll table tbody tr td`).first().textContent()).replace(/\s+/g, ' ').trim();
      assert.ok(pageWith(pages, heading, first) > 0, `"${heading}" prints on another page than its table's first row "${first}"`);
    }
    console.log(`     review.pdf: ${n} A4 pages; ${found.join(', ')}`);
  });

  await step('7. a council officer sees the same charts and maps, with exact counts', async () => {
    const council = await openReview(COUNCIL);
    await checkReview(council, 'council');
    const cells = await numberCells(council);
    assert.ok(!cells.some((c) => c.text === 'w/h'), 'nothing is withheld from a council officer');
    // The small counts the strategic user did not see are there.
    assert.ok(cells.some((c) => c.ints.some((n) => n === 1 || n === 2)), 'the period has counts of 1 or 2 (so the strategic check meant something)');
    await council.close();
  });

  await step('   no script errors and no refused resources (CSP) in any page', async () => {
    assert.deepEqual(errors, []);
  });
}, close);

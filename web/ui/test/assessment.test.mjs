// From an alert on the map to an open impact assessment with an action, in
// headless Chromium against a running tensionmap server, as a council officer does
// it: sign in through the form, choose an alert beside the map, open an impact
// assessment from its panel, fill in the draft and save it, add an action, open the
// assessment; then the page, the API and the alert agree. The alert that already
// had an assessment links to it instead. Last, an assessment page prints on A4 with
// its map and without its forms. Writes PDFs and screenshots to TM_OUTPUT.
//
// Environment: BASE_URL (the server), TM_COUNCIL_USER, TM_PASSWORD,
// TM_SMALL_ALERT (an alert without an assessment), TM_BIG_ALERT and
// TM_BIG_ASSESSMENT (an alert and the draft the engine opened for it), TM_OUTPUT
// (a directory), TM_CHROMIUM, TM_PDFINFO, TM_PDFTOTEXT, TM_PDFTOPPM. The Go test
// (web/workflow_browser_test.go) sets them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  env, Runner, launch, signIn, fetchJSON, message, printButtonPrints, svgFigure, assertSVG, printLayout, screenLayout,
  PDF, assertA4, pageWith, A4_CONTENT,
} from './pages.mjs';

const BASE = env('BASE_URL').replace(/\/$/, '');
const COUNCIL = env('TM_COUNCIL_USER');
const PASSWORD = env('TM_PASSWORD');
const SMALL = Number(env('TM_SMALL_ALERT'));
const BIG = Number(env('TM_BIG_ALERT'));
const BIG_ASSESSMENT = Number(env('TM_BIG_ASSESSMENT'));
const OUT = env('TM_OUTPUT');
const TOOLS = { pdfinfo: env('TM_PDFINFO'), pdftotext: env('TM_PDFTOTEXT'), pdftoppm: env('TM_PDFTOPPM') };
const CHROMIUM = env('TM_CHROMIUM', '/usr/bin/chromium');

// What the officer writes.
const SITUATION = 'Two reports in a day near the station. Residents say the mood is uneasy after a rally at the weekend.';
const INTEL = { grade: 'experienced', text: 'Shopkeepers on the high street report verbal abuse of staff since Saturday.', source: 'Neighbourhood team' };
const ACTION = { description: 'Reassurance patrols around the station at school closing time', owner: 'Neighbourhood policing team', due: '2026-07-14' };
const LEVEL = 'high';

const runner = new Runner('assessment.test');
const { context, errors, close } = await launch(CHROMIUM);
const step = (name, fn) => runner.step(name, fn);

fs.mkdirSync(OUT, { recursive: true });
const page = context.pages()[0] || await context.newPage();

// chooseAlert picks an alert in the list beside the map and waits for its panel.
async function chooseAlert(id, method) {
  const button = page.locator(`#alert-list button[data-alert-id="${id}"]`);
  await button.waitFor();
  assert.match(await button.textContent(), method, `the list names alert ${id}'s method`);
  await button.click();
  await page.waitForFunction((id) => {
    const d = document.getElementById('details');
    return !d.hidden && d.dataset.kind === 'alert' && d.dataset.id === String(id) && d.dataset.state === 'ready';
  }, id);
  return page.locator('#details');
}

// visibleText is an element's text as shown, spaces folded.
async function visibleText(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

await runner.run(async () => {
  let id = 0; // the new assessment

  await step('1. a council officer signs in through the form and sees the open alerts beside the map', async () => {
    await signIn(page, BASE, COUNCIL, PASSWORD, '/map');
    await page.locator('#alert-list button').first().waitFor();
    const ids = await page.locator('#alert-list button').evaluateAll((bs) => bs.map((b) => Number(b.dataset.alertId)));
    assert.deepEqual(ids.sort(), [BIG, SMALL].sort(), 'the two alerts of the engine run are listed');
  });

  await step('2. choosing the EARS alert opens its panel with "Open an impact assessment"', async () => {
    const panel = await chooseAlert(SMALL, /EARS/);
    assert.equal(await panel.locator('[data-field=method]').textContent(), 'EARS C2');
    // The window says its days and how many; the expected count, the baseline it comes from.
    assert.match(await panel.locator('[data-field=window]').textContent(), /^1 day, \d{1,2} [A-Z][a-z]{2} \d{4}$/);
    assert.match(await panel.locator('[data-field=expected]').textContent(), /\(the seven days ending three days before, .+\)$/);
    assert.doesNotMatch(await panel.locator('[data-field=p_value]').textContent(), /^0(\.0*)?$/, 'a p-value never reads 0');
    assert.equal(await panel.locator('a.assessment-link').count(), 0, 'no assessment to link to yet');
    await panel.getByRole('button', { name: 'Open an impact assessment' }).waitFor({ state: 'visible' });
  });

  await step('3. one click on it makes a draft from the alert and shows it', async () => {
    await Promise.all([
      page.waitForURL((u) => /^\/assessments\/\d+$/.test(u.pathname)),
      page.locator('#details').getByRole('button', { name: 'Open an impact assessment' }).click(),
    ]);
    id = Number(new URL(page.url()).pathname.split('/').pop());
    assert.ok(id > 0 && id !== BIG_ASSESSMENT, `a new assessment, got ${page.url()}`);
    assert.equal(new URL(page.url()).searchParams.get('done'), 'created');
    assert.match(await message(page), /created as a draft/);
    assert.equal((await page.locator('.record-head .status').textContent()).trim(), 'draft');
    assert.match(await visibleText(page.locator('table.facts').first()), new RegExp(`alert ${SMALL}`), 'the draft names its alert');
    assert.match(await visibleText(page.locator('table.facts').first()), /DEMOW01/, 'the draft takes the alert\'s ward');
  });

  await step('4. the situation, a tension level and a piece of intelligence are saved (the second click)', async () => {
    await page.getByLabel('Situation and the mood of the community').fill(SITUATION);
    await page.getByLabel('Tension level').selectOption(LEVEL);
    await page.getByLabel('Grade 0', { exact: true }).selectOption(INTEL.grade);
    await page.getByLabel('Intelligence 0', { exact: true }).fill(INTEL.text);
    await page.getByLabel('Source 0', { exact: true }).fill(INTEL.source);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'saved'), page.getByRole('button', { name: 'Save', exact: true }).click()]);
    assert.equal(await message(page), 'Saved.');
    assert.equal(await page.getByLabel('Situation and the mood of the community').inputValue(), SITUATION, 'the form shows what was saved');
  });

  await step('5. an action with an owner and a due date is added', async () => {
    await page.getByLabel('What is to be done').fill(ACTION.description);
    await page.getByLabel('Owner (a partner or a person)').fill(ACTION.owner);
    await page.getByLabel('Due', { exact: true }).fill(ACTION.due);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'action'), page.getByRole('button', { name: 'Add action' }).click()]);
    assert.equal(await message(page), 'Action added.');
  });

  await step('6. the assessment is opened', async () => {
    await Promise.all([page.waitForURL((u) => u.searchParams.get('done') === 'status'), page.getByRole('button', { name: 'Open the assessment' }).click()]);
    assert.equal(await message(page), 'Status changed.');
    assert.equal((await page.locator('.record-head .status').textContent()).trim(), 'open');
  });

  await step('7. the page shows the saved text, the intelligence, the action and the history', async () => {
    await page.goto(`${BASE}/assessments/${id}`);
    const record = page.locator('article.record');
    assert.equal((await record.locator('.record-head .level').textContent()).trim(), LEVEL);
    const situation = record.locator('h2:text-is("Situation") + p');
    assert.equal((await situation.textContent()).trim(), SITUATION);
    const intel = await visibleText(record.locator('h2:text-is("Intelligence") + .table-scroll table tbody tr').first());
    for (const t of [INTEL.grade, INTEL.text, INTEL.source]) assert.ok(intel.includes(t), `the intelligence row "${intel}" lacks "${t}"`);
    const rows = record.locator('table.actions tbody tr');
    assert.equal(await rows.count(), 1, 'one action');
    const action = await visibleText(rows.first());
    for (const t of [ACTION.description, ACTION.owner, '14 July 2026', 'not yet']) assert.ok(action.includes(t), `the action row "${action}" lacks "${t}"`);
    assert.equal(await rows.first().getByRole('button', { name: 'Mark done' }).count(), 1, 'the action can be marked done');
    const history = await visibleText(page.locator('.history-list'));
    for (const t of ['Created the assessment as a draft from alert', 'Changed the tension level', 'Added the action', 'Opened the assessment.']) {
      assert.ok(history.includes(t), `the history "${history}" lacks "${t}"`);
    }
    for (const raw of ['alert id', 'trigger kind', 'action added']) assert.ok(!history.includes(raw), `the history "${history}" shows the raw "${raw}"`);
    assert.ok(await page.locator('.map-figure svg.chart-map').isVisible(), 'the assessment\'s map is shown');
  });

  await step('8. the API gives the same fields, the action and the history', async () => {
    const a = (await fetchJSON(page, `/api/v1/assessments/${id}`)).assessment;
    assert.equal(a.id, id);
    assert.equal(a.status, 'open');
    assert.equal(a.alert_id, SMALL);
    assert.equal(a.summary, SITUATION);
    assert.equal(a.tension_level, LEVEL);
    assert.deepEqual(a.intelligence.map((x) => ({ grade: x.grade, text: x.text, source: x.source })), [INTEL]);
    assert.deepEqual(a.areas, ['DEMOW01']);
    assert.ok(a.opened_at, 'opened_at is set');
    assert.equal(a.action_list.length, 1);
    const x = a.action_list[0];
    assert.deepEqual({ description: x.description, owner: x.owner, due: x.due, done: x.done }, { ...ACTION, done: false });
    assert.equal(a.actions, 1);
    const history = a.history.map((h) => h.action);
    for (const want of ['created', 'edited', 'action_added', 'opened']) assert.ok(history.includes(want), `history ${history} lacks ${want}`);
    const order = ['created', 'edited', 'action_added', 'opened'].map((w) => history.indexOf(w));
    assert.deepEqual([...order].sort((p, q) => p - q), order, `the history is in the order things were done: ${history}`);
    for (const h of a.history) assert.equal(h.actor, `user:${COUNCIL}`, `history entry ${h.action} by ${h.actor}`);
    const edited = a.history.find((h) => h.action === 'edited');
    for (const k of ['summary', 'tension_level', 'intelligence']) assert.ok(k in (edited.changes || {}), `the edit records ${k}: ${JSON.stringify(edited.changes)}`);
  });

  await step('9. the alert follows: assessment_opened, pointing at the assessment', async () => {
    const al = (await fetchJSON(page, `/api/v1/alerts/${SMALL}`)).alert;
    assert.equal(al.status, 'assessment_opened');
    assert.equal(al.assessment_id, id);
  });

  await step('10. back on the map, both alerts link to their assessments instead of offering a new one', async () => {
    await Promise.all([page.waitForURL((u) => u.pathname === '/map'), page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Map', exact: true }).click()]);
    let panel = await chooseAlert(SMALL, /EARS/);
    assert.equal(await panel.locator('form.assess').count(), 0, 'no second assessment is offered');
    assert.equal(await panel.locator('a.assessment-link').getAttribute('href'), `/assessments/${id}`);
    assert.equal((await panel.locator('[data-field=status]').textContent()).trim(), 'Assessment opened');

    panel = await chooseAlert(BIG, /scan/i);
    assert.equal(await panel.locator('form.assess').count(), 0, 'the critical alert offers no new assessment');
    const link = panel.locator('a.assessment-link');
    assert.equal(await link.getAttribute('href'), `/assessments/${BIG_ASSESSMENT}`);
    assert.equal((await link.textContent()).trim(), `Impact assessment ${BIG_ASSESSMENT}`);
    await Promise.all([page.waitForURL((u) => u.pathname === `/assessments/${BIG_ASSESSMENT}`), link.click()]);
    assert.equal((await page.locator('.record-head .status').textContent()).trim(), 'draft');
    assert.match(await page.locator('.record-head .kicker').textContent(), new RegExp(`Impact Assessment ${BIG_ASSESSMENT}$`, 'i'));
    await page.screenshot({ path: path.join(OUT, 'assessment.png'), fullPage: true });
  });

  // printCheck prints an assessment page and reads the PDF back.
  async function printCheck(assessment, file) {
    await page.goto(`${BASE}/assessments/${assessment}`);
    const a = (await fetchJSON(page, `/api/v1/assessments/${assessment}`)).assessment;
    await printButtonPrints(page);
    const screen = await svgFigure(page, '.map-figure svg');
    assertSVG(screen, 'the map on screen', { shapes: 1 });
    // The evidence chart: observed against expected, each period a bar.
    const chart = await svgFigure(page, '.evidence-figure svg');
    assertSVG(chart, 'the evidence chart on screen', { elements: 3 });
    assert.ok(chart.right <= (await page.evaluate(() => document.documentElement.clientWidth)), 'the evidence chart fits the window');
    const { figures, shownUI } = await printLayout(page, ['.map-figure svg', '.evidence-figure svg']);
    const map = figures['.map-figure svg'];
    const printed = figures['.evidence-figure svg'];
    assertSVG(printed, 'the evidence chart in print', { width: A4_CONTENT.width * 0.6, elements: 3 });
    assert.ok(printed.right <= A4_CONTENT.width + 1, `the evidence chart runs off the page: right edge at ${printed.right} of ${A4_CONTENT.width} px`);
    assertSVG(map, 'the map in print', { width: A4_CONTENT.width * 0.6, shapes: 1 });
    assert.ok(map.right <= A4_CONTENT.width + 1, `the map runs off the page: right edge at ${map.right} of ${A4_CONTENT.width} px`);
    assert.ok(map.height <= A4_CONTENT.height, `the map (${map.height} px) is taller than a page (${A4_CONTENT.height} px)`);
    assert.deepEqual(shownUI, [], 'navigation, forms and buttons are not printed');
    await page.pdf({ path: file, format: 'A4' });
    await screenLayout(page);

    const pdf = new PDF(file, TOOLS);
    const n = assertA4(pdf);
    const pages = pdf.pages();
    const all = pages.join(' ');
    assert.ok(all.includes(a.title), `the PDF lacks the title "${a.title}"`);
    for (const absent of ['Sign out', 'Add an action', 'Edit the assessment', 'Open the assessment', 'Mark done', 'Link a trigger event']) {
      assert.ok(!all.includes(absent), `the PDF shows "${absent}"`);
    }
    // The map, its legend and its caption on one page, its hexagons or areas drawn.
    const mapPage = pageWith(pages, 'Tension of open alerts', 'tension level by colour');
    assert.ok(mapPage > 0, `no page holds the map's legend and caption:\n${pages.join('\n---\n')}`);
    const counts = pdf.pixels(mapPage, 60, map.fills);
    const total = counts.reduce((p, q) => p + q, 0);
    assert.ok(total >= 100, `page ${mapPage} shows ${total} pixels of the map's fills ${map.fills} (${counts})`);
    console.log(`     ${path.basename(file)}: ${n} A4 page(s), the map on page ${mapPage} with ${total} pixels of its fills`);
    return { pdf, pages, a };
  }

  await step('11. the engine\'s assessment, with its alert\'s hexagon, prints on A4 with its map and without forms', async () => {
    const { a } = await printCheck(BIG_ASSESSMENT, path.join(OUT, 'assessment.pdf'));
    assert.ok(a.cells.length > 0, 'the engine\'s assessment has cells');
  });

  await step('    the opened assessment prints its situation, intelligence and action, without its buttons', async () => {
    const { pages } = await printCheck(id, path.join(OUT, 'assessment-opened.pdf'));
    const all = pages.join(' ');
    for (const t of [SITUATION, INTEL.text, ACTION.description, ACTION.owner, '14 July 2026']) assert.ok(all.includes(t), `the PDF lacks "${t}"`);
  });

  await step('    no script errors and no refused resources (CSP) in any page', async () => {
    assert.deepEqual(errors, []);
  });
}, close);

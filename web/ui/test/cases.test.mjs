// From a report on the map to a closed case with a survey, in headless Chromium
// against a running tensionmap server, as a police case officer does it: sign in
// through the form, show the incident points around a report, choose it on the
// map, open a case for its victim from the panel, record a contact, close the
// case and record the complainant's survey; the page and the API then agree.
//
// Environment: BASE_URL (the server), TM_POLICE_USER, TM_PASSWORD, TM_INCIDENT
// (the report's record id), TM_REF (its reference), TM_LON, TM_LAT, TM_DAY (its
// place and day), TM_OUTPUT (a directory), TM_CHROMIUM. The Go test
// (web/workflow_browser_test.go) sets them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { env, Runner, launch, signIn, fetchJSON } from './pages.mjs';

const BASE = env('BASE_URL').replace(/\/$/, '');
const POLICE = env('TM_POLICE_USER');
const PASSWORD = env('TM_PASSWORD');
const INCIDENT = env('TM_INCIDENT');
const REF = env('TM_REF');
const LON = Number(env('TM_LON'));
const LAT = Number(env('TM_LAT'));
const DAY = env('TM_DAY');
const OUT = env('TM_OUTPUT');
const CHROMIUM = env('TM_CHROMIUM', '/usr/bin/chromium');

const CASE_REF = 'HC-' + REF;
const NOTE = 'Visited at home; frightened to go out after dark';

const runner = new Runner('cases.test');
const { context, errors, close } = await launch(CHROMIUM);
const step = (name, fn) => runner.step(name, fn);
fs.mkdirSync(OUT, { recursive: true });
const page = context.pages()[0] || await context.newPage();

const text = async (sel) => (await page.locator(sel).innerText()).replace(/\s+/g, ' ').trim();

let caseID = 0;

await runner.run(async () => {
  await step('a police officer signs in and sees the incident points around the report', async () => {
    const q = new URLSearchParams({ layers: 'incidents', z: '17', lat: String(LAT), lon: String(LON), from: DAY, to: DAY });
    await signIn(page, BASE, POLICE, PASSWORD, `/map?${q}`);
    await page.waitForFunction(() => window.tensionmap && window.tensionmap.map);
    await page.waitForFunction(([lon, lat]) => {
      const m = window.tensionmap.map;
      const p = m.project([lon, lat]);
      return m.queryRenderedFeatures([[p.x - 3, p.y - 3], [p.x + 3, p.y + 3]], { layers: ['incident-point'] }).length > 0;
    }, [LON, LAT]);
  });

  await step('choosing the report on the map shows its record with a link to open a case', async () => {
    const pt = await page.evaluate(([lon, lat]) => { const p = window.tensionmap.map.project([lon, lat]); return { x: p.x, y: p.y }; }, [LON, LAT]);
    const box = await page.locator('#map canvas, canvas.maplibregl-canvas').first().boundingBox();
    await page.mouse.click(box.x + pt.x, box.y + pt.y);
    await page.waitForFunction(() => {
      const d = document.getElementById('details');
      return d && !d.hidden && d.dataset.kind === 'incident' && d.dataset.state === 'ready';
    });
    assert.equal(await page.locator('#details').getAttribute('data-id'), INCIDENT, 'the panel shows the report chosen');
    await Promise.all([page.waitForURL((u) => u.pathname === '/cases/new'),
      page.getByRole('link', { name: 'Open a case for the victim of this report' }).click()]);
  });

  await step('the new case follows the report and opens', async () => {
    assert.match(await page.locator('#new-case').innerText(), new RegExp(`Follows report\\s+${REF}`), 'the form names the report');
    assert.match(await page.getByLabel("Complainant's pseudonym (victim key)").inputValue(), /^[0-9a-f]{32}$/, 'the victim key is the report\'s');
    await page.getByLabel('Case reference').fill(CASE_REF);
    await page.getByLabel('Risk', { exact: true }).selectOption('medium');
    await Promise.all([page.waitForURL(/\/cases\/\d+\?done=created/), page.getByRole('button', { name: 'Open the case' }).click()]);
    caseID = Number(new URL(page.url()).pathname.split('/').pop());
    assert.match(await text('h1'), new RegExp(`Case ${CASE_REF}`));
    assert.match(await text('#case-due'), /First contact due by/, 'the first contact is owed');
  });

  await step('a contact is recorded', async () => {
    const form = page.locator('#contact-form');
    await form.getByLabel('How').selectOption('visit');
    await form.getByLabel('Note').fill(NOTE);
    await Promise.all([page.waitForURL(/done=contact/), form.getByRole('button', { name: 'Record the contact' }).click()]);
    assert.match(await text('#contacts'), new RegExp(NOTE.replace(/[;]/g, '.')), 'the contact and its note are listed');
    assert.doesNotMatch(await text('#case-due'), /First contact/, 'the first contact is no longer owed');
    assert.match(await text('#case-due'), /Next contact due by/);
  });

  await step('the case is closed, then the survey recorded', async () => {
    const close = page.locator('#close-form');
    await close.getByLabel('Outcome').selectOption('resolved');
    await Promise.all([page.waitForURL(/done=close/), close.getByRole('button', { name: 'Close the case' }).click()]);
    assert.match(await text('#case-status'), /closed .*: resolved/);
    assert.match(await text('#case-due'), /Satisfaction survey due by/, 'the survey is owed after closure');
    const survey = page.locator('#survey-form');
    await survey.getByLabel('satisfied with the outcome').check();
    await survey.getByLabel('satisfied with the handling').check();
    await Promise.all([page.waitForURL(/done=survey/), survey.getByRole('button', { name: 'Record the survey' }).click()]);
    assert.match(await text('#case-survey'), /satisfied with the outcome, satisfied with the handling/);
    assert.match(await text('#case-due'), /Nothing/);
    await page.screenshot({ path: path.join(OUT, 'case.png'), fullPage: true });
  });

  await step('the API agrees with the page', async () => {
    const j = await fetchJSON(page, `${BASE}/api/v1/cases/${caseID}`);
    const c = j.case;
    assert.equal(c.ref, CASE_REF);
    assert.equal(c.partner, 'police');
    assert.deepEqual(c.reports, [{ source: 'police', ref: REF }]);
    assert.equal(c.contacts.length, 1);
    assert.equal(c.contacts[0].note, NOTE);
    assert.equal(c.closure.outcome, 'resolved');
    assert.equal(c.survey.satisfied_outcome, true);
    assert.equal(c.survey.satisfied_handling, true);
    assert.deepEqual(c.history.map((h) => h.action), ['opened', 'contact_added', 'closed', 'survey_recorded']);
  });

  await step('no script errors and no refused resources (CSP) in any page', async () => {
    assert.deepEqual(errors, []);
  });
}, close);

// Unit tests of the map's pure parts: the state in the URL and the colour classes.
// Run with: node --test test/
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  addDays, daysBetween, defaults, filterQuery, isDay, layersFor, parse, presetRange, serialize, tileQuery, tileURL,
  weekEnd, weekIndex,
} from '../src/state.js';
import { areasAttribution, classBreaks, classLabels, fillColor, legend, pick, VIRIDIS, SUPPRESSED } from '../src/style.js';
import { expectedText, methodLabel, normaliseCell, normaliseArea, normaliseWeeks, windowText } from '../src/panel.js';
import { PROTOCOL, retryAfter, tileLoader, viaRetry } from '../src/tilefetch.js';

const cfg = {
  role: 'police', today: '2026-06-30', strands: ['race', 'religion', 'sexual_orientation'], sources: ['police', 'third_party'],
  levels: ['lsoa', 'ward'],
};

test('days', () => {
  assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  assert.equal(addDays('2024-02-28', 1), '2024-02-29');
  assert.equal(daysBetween('2026-06-24', '2026-06-30'), 6);
  assert.ok(isDay('2024-02-29'));
  for (const bad of ['2023-02-29', '2026-13-01', '26-06-30', '2026-06-30T00:00', '', null]) assert.ok(!isDay(bad), String(bad));
  assert.deepEqual(presetRange(7, '2026-06-30'), { from: '2026-06-24', to: '2026-06-30' });
  assert.deepEqual(presetRange(365, '2026-06-30'), { from: '2025-07-01', to: '2026-06-30' });
});

test('week slider steps', () => {
  assert.equal(weekEnd(103, '2026-06-30'), '2026-06-30');
  assert.equal(weekEnd(102, '2026-06-30'), '2026-06-23');
  assert.equal(weekIndex('2026-06-23', '2026-06-30'), 102);
  assert.equal(weekIndex('2026-06-22', '2026-06-30'), -1, 'not a step');
  assert.equal(weekIndex('2026-07-07', '2026-06-30'), -1, 'after today');
  assert.equal(weekIndex(weekEnd(0, '2026-06-30'), '2026-06-30'), 0);
});

test('defaults: the last 28 days, counts, the first level, the layers a role may see', () => {
  const s = defaults(cfg);
  assert.equal(s.from, '2026-06-03');
  assert.equal(s.to, '2026-06-30');
  assert.equal(s.metric, 'count');
  assert.equal(s.level, 'lsoa');
  assert.deepEqual(s.layers, ['hex', 'areas', 'alerts']);
  assert.deepEqual(layersFor('strategic'), ['hex', 'areas', 'alerts']);
  assert.deepEqual(layersFor('council'), ['hex', 'areas', 'alerts', 'nearrepeat']);
  assert.deepEqual(layersFor('police'), ['hex', 'areas', 'alerts', 'nearrepeat', 'incidents']);
});

test('a link round-trips every setting', () => {
  const s = defaults(cfg);
  Object.assign(s, {
    view: { z: 12.5, lat: 52.04123, lon: -0.76321 }, from: '2026-06-24', to: '2026-06-30', preset: 0, week: '2026-06-30',
    strands: ['religion', 'race'], kind: 'incident', sources: ['third_party'], metric: 'rate', level: 'ward',
    layers: ['hex', 'nearrepeat', 'incidents'], cell: '88195d2b1dfffff',
  });
  const q = serialize(s);
  assert.match(q, /strand=religion,race/);
  assert.deepEqual(parse('?' + q, cfg), s);
});

test('parse drops what this page does not offer', () => {
  const s = parse('?strand=race,astrology&source=mi5&kind=both&metric=colour&level=county&layers=hex,incidents,bogus&z=99&lat=1&lon=1', { ...cfg, role: 'strategic' });
  assert.deepEqual(s.strands, ['race']);
  assert.deepEqual(s.sources, []);
  assert.equal(s.kind, '');
  assert.equal(s.metric, 'count');
  assert.equal(s.level, 'lsoa');
  assert.deepEqual(s.layers, ['hex'], 'strategic users have no incident layer');
  assert.equal(s.view, null, 'zoom out of range');
  const bad = parse('?from=2026-06-30&to=2026-06-01', cfg);
  assert.equal(bad.from, '2026-06-03', 'a period that ends before it starts is ignored');
  assert.equal(parse('?cell=not-a-cell', cfg).cell, '');
});

test('presets and weeks from a link', () => {
  let s = parse('?preset=90', cfg);
  assert.deepEqual([s.from, s.to, s.preset], ['2026-04-02', '2026-06-30', 90]);
  s = parse('?week=2026-05-31', cfg);
  assert.deepEqual([s.from, s.to, s.week, s.preset], ['2026-05-25', '2026-05-31', '2026-05-31', 0]);
  s = parse('?from=2026-04-02&to=2026-06-30&preset=90', { ...cfg, today: '2026-07-10' });
  assert.deepEqual([s.from, s.to, s.preset], ['2026-04-02', '2026-06-30', 0], 'an old link keeps its days, not its preset');
});

test('tile URLs carry each layer its own parameters', () => {
  const s = { ...defaults(cfg), strands: ['religion'], kind: 'crime', sources: ['police', 'third_party'] };
  assert.equal(filterQuery(s), 'from=2026-06-03&to=2026-06-30&strand=religion&kind=crime&source=police,third_party');
  assert.equal(tileQuery('areas', s), filterQuery(s) + '&level=lsoa');
  assert.equal(tileQuery('alerts', s), 'status=new,acknowledged,assessment_opened');
  assert.equal(tileQuery('near_repeat', s), '');
  assert.equal(tileURL('http://x', 'near_repeat', s), 'http://x/tiles/near_repeat/{z}/{x}/{y}.mvt');
  assert.equal(tileURL('http://x', 'hotspots', s), 'http://x/tiles/hotspots/{z}/{x}/{y}.mvt?' + filterQuery(s));
});

test('class breaks', () => {
  assert.deepEqual(classBreaks([], 6, true), []);
  assert.deepEqual(classBreaks([0, 0], 6, true), []);
  assert.deepEqual(classBreaks([3, 1, 2, 2], 6, true), [2, 3], 'few distinct values: one class each');
  const many = Array.from({ length: 100 }, (_, i) => i + 1);
  const b = classBreaks(many, 5, true);
  assert.equal(b.length, 4);
  for (let i = 1; i < b.length; i++) assert.ok(b[i] > b[i - 1], 'ascending');
  const rates = classBreaks([0.123, 0.5, 1.7, 2.2, 3.9, 8.1, 12.5], 4, false);
  assert.ok(rates.every((x, i) => i === 0 || x > rates[i - 1]));
  // Natural breaks: a hot spot makes a class of its own instead of sharing the top
  // one with the many middling counts (regression: "5 or more" covered the whole centre).
  const town = [...Array(60).fill(1), ...Array(40).fill(2), ...Array(30).fill(3), ...Array(20).fill(4), ...Array(15).fill(5),
    ...Array(10).fill(6), 7, 8, 8, 9, 11, 12, 14, 30, 34];
  const nb = classBreaks(town, 6, true);
  assert.equal(nb.length, 5, `six classes: ${nb}`);
  assert.ok(nb[nb.length - 1] > 14 && nb[nb.length - 1] <= 30, `the hot spot's class starts above the rest: ${nb}`);
  assert.deepEqual(classLabels(1, nb, true, 34).length, 6);
  assert.match(classLabels(1, nb, true, 34).at(-1), /^\d+ or more$/);
  const r = classBreaks([0.21, 0.22, 0.3, 0.9, 1.1, 1.3, 2.5, 2.7, 6.1, 6.3, 15.2], 5, false);
  assert.equal(r.length, 4, `five rate classes: ${r}`);
  assert.ok(r.every((b) => Number(b.toPrecision(2)) === b), `rate breaks are round numbers: ${r}`);
  assert.ok(r[0] > 0.3 && r[0] <= 0.9 && r[r.length - 1] > 6.3 && r[r.length - 1] <= 15.2, `rate breaks fall between the groups: ${r}`);
  const big = Array.from({ length: 5000 }, (_, i) => (i % 97) + 1);
  assert.equal(classBreaks(big, 6, true).length, 5, 'thousands of values are thinned, not refused');
  assert.deepEqual(classLabels(1, [2, 5], true), ['1', '2–4', '5 or more']);
  assert.deepEqual(classLabels(0.5, [1.5], false), ['0.50 to under 1.50', '1.50 or more']);
  assert.deepEqual(classLabels(1, [], true, 1), ['1'], 'one value');
  assert.deepEqual(classLabels(1, [], true, 4), ['1 or more']);
});

test('colours: suppressed is its own colour, every class has one', () => {
  assert.deepEqual(pick(VIRIDIS, 6), VIRIDIS);
  assert.equal(pick(VIRIDIS, 2)[0], VIRIDIS[0]);
  const e = fillColor('count', { count: { min: 1, breaks: [2, 5] } });
  assert.equal(e[0], 'case');
  assert.equal(e[2], SUPPRESSED);
  assert.ok(!VIRIDIS.includes(SUPPRESSED));
  const l = legend('count', { count: { min: 1, breaks: [2, 5] } }, { exact: false });
  assert.deepEqual(l.items.map((i) => i.label), ['1', '2–4', '5 or more', 'suppressed (a small count is withheld)']);
  assert.ok(l.notes.some((n) => /multiples of 5/.test(n)));
  assert.ok(legend('z', {}, { res: 7, hotspotRes: 8 }).notes[0].includes('resolution-8'));
  assert.equal(legend('category', {}, {}).items.length, 10);
  assert.deepEqual(legend('tension', {}, {}).items.map((i) => i.label), ['Low', 'Medium', 'High', 'Critical', 'No open alert']);
  assert.equal(fillColor('tension', {})[0], 'match');
});

test('API answers in either shape', () => {
  const flat = normaliseCell({ cell: 'c', res: 8, count: 7, crimes: 3, incidents: 4, by_strand: { race: 7 }, rate_per_1000: 1.2,
    weekly: [{ week_end: '2026-06-30', observed: 2, expected: 1.5 }] });
  const nested = normaliseCell({ cell: 'c', res: 8, counts: { count: 7, crimes: 3, incidents: 4, by_strand: { race: 7 } }, rate_per_1000: 1.2,
    weekly: { weeks: [{ start: '2026-06-24', end: '2026-06-30', observed: 2, expected: 1.5 }] } });
  for (const d of [flat, nested]) {
    assert.equal(d.count, 7);
    assert.equal(d.byStrand.race, 7);
    assert.deepEqual(d.weeks.map((w) => [w.end, w.observed, w.expected]), [['2026-06-30', 2, 1.5]]);
  }
  const withheld = normaliseCell({ cell: 'c', counts: { count: null, suppressed: true } });
  assert.equal(withheld.count, null);
  assert.ok(withheld.suppressed);
  const a = normaliseArea({ area: { code: 'W1', name: 'Ward 1', level: 'ward', count: 5, population: 1000, rate_per_1000: 5 }, weekly: { weeks: [] } });
  assert.deepEqual([a.id, a.count, a.rate, a.weeks.length], ['W1', 5, 5, 0]);
  assert.deepEqual(normaliseWeeks(undefined), []);
});

test('alert texts: methods by name, windows as dates, expected counts with their baseline', () => {
  for (const [m, name, want] of [
    ['farrington', undefined, 'Farrington-flexible (baseline exceedance)'],
    ['ears', undefined, 'EARS C2'],
    ['ears', 'EARS C1', 'EARS C1'],
    ['scan', 'space-time permutation scan', 'Space-time permutation scan'],
    ['uplift', undefined, 'Trigger-event uplift'],
    ['widespread', undefined, 'Widespread rise'],
    ['knox_table', undefined, 'Knox table'],
  ]) assert.equal(methodLabel(m, name), want, `${m} ${name}`);
  for (const [a, want] of [
    [{ window_text: '7 days, 1–7 Jul 2016', window_from: '2016-07-01', window_to: '2016-07-07' }, '7 days, 1–7 Jul 2016'],
    [{ window_from: '2016-07-01', window_to: '2016-07-07' }, '1 Jul 2016 to 7 Jul 2016'],
    [{ window_from: '2016-07-07', window_to: '2016-07-07' }, '7 Jul 2016'],
  ]) assert.equal(windowText(a), want);
  for (const [a, want] of [
    [{ expected: 12.43, baseline_text: 'the same weeks of the five years before' }, '12.4 (the same weeks of the five years before)'],
    [{ expected: 0.0000000123, baseline_text: 'the same weeks of the five years before' }, '1.2e-8 (the same weeks of the five years before)'],
    [{ expected: 0.43 }, '0.43'],
    [{ expected: 1234.5, baseline_text: '' }, '1,234.5'],
    [{ expected: null }, '–'],
  ]) assert.equal(expectedText(a), want, JSON.stringify(a));
});

test('basemap style: the Protomaps layers under the data, all from the service, no labels', async () => {
  const { basemapStyle, baseStyle, dataLayers } = await import('../src/style.js');
  const { validateStyleMin } = await import('@maplibre/maplibre-gl-style-spec');
  const s = basemapStyle('http://tensionmap.example');
  assert.deepEqual(validateStyleMin(s).map((e) => e.message), [], 'the style is valid for MapLibre');
  assert.equal(s.sources.basemap.url, 'http://tensionmap.example/basemap.json');
  assert.equal(s.glyphs, undefined, 'no glyphs: a closed network cannot fetch fonts');
  assert.equal(s.sprite, undefined);
  const schema = ['earth', 'landcover', 'landuse', 'water', 'roads', 'buildings', 'boundaries', 'pois', 'places', 'transit'];
  for (const l of s.layers.slice(1)) {
    assert.equal(l.source, 'basemap', l.id);
    assert.ok(schema.includes(l['source-layer']), `${l.id} reads ${l['source-layer']}, not a Protomaps layer`);
    assert.notEqual(l.type, 'symbol', `${l.id} would need glyphs`);
    assert.ok(l.id.startsWith('basemap-'), l.id);
  }
  for (const need of ['earth', 'water', 'roads', 'landuse']) assert.ok(s.layers.some((l) => l['source-layer'] === need), need);
  // The data layers' ids never clash with the basemap's, and the plain style has no source.
  const ids = new Set(s.layers.map((l) => l.id));
  for (const l of dataLayers('count', {})) assert.ok(!ids.has(l.id), l.id);
  // Over the service's own basemap its roads are drawn again above the hexagons,
  // which thin out towards street level; over none, nothing reads the basemap.
  const over = dataLayers('count', {}, { basemap: true });
  for (const l of over) assert.ok(!ids.has(l.id), l.id);
  const at = (id) => over.findIndex((l) => l.id === id);
  assert.ok(at('hex-fill') < at('roads-over') && at('roads-over') < at('area-line'));
  assert.equal(over[at('roads-over')]['source-layer'], 'roads');
  assert.ok(Array.isArray(over[at('hex-fill')].paint['fill-opacity']));
  assert.ok(!dataLayers('count', {}).some((l) => l.source === 'basemap'));
  assert.equal(dataLayers('count', {})[1].paint['fill-opacity'], 0.78);
  assert.deepEqual(baseStyle().sources, {});
  assert.equal(JSON.stringify(s).match(/https?:\/\/(?!tensionmap\.example)/g), null, 'nothing from another origin');
});

test('the areas\' credit: one line a sentence, escaped, the licence a link', () => {
  assert.deepEqual(areasAttribution(''), []);
  assert.deepEqual(areasAttribution(undefined), []);
  const lines = areasAttribution('Contains public sector information licensed under the Open Government Licence v3.0. ' +
    'Source: Office for National Statistics licensed under the Open Government Licence v.3.0. ' +
    'Contains OS data © Crown copyright and database right 2011.');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^Contains public sector information licensed under the <a href="https:\/\/www\.nationalarchives\.gov\.uk\/doc\/open-government-licence\/version\/3\/" target="_blank" rel="noopener">Open Government Licence v3\.0<\/a>$/);
  assert.match(lines[1], /Office for National Statistics licensed under the <a [^>]+>Open Government Licence v\.3\.0<\/a>$/);
  assert.equal(lines[2], 'Contains OS data © Crown copyright and database right 2011');
  // A credit is data, never markup.
  assert.deepEqual(areasAttribution('Boundaries <img src=x onerror=alert(1)> & "co"'), ['Boundaries &lt;img src=x onerror=alert(1)&gt; &amp; &quot;co&quot;']);
});

test('Retry-After: seconds or a date, within bounds', () => {
  assert.equal(retryAfter('3'), 3);
  assert.equal(retryAfter(null), 2);
  assert.equal(retryAfter('soon'), 2);
  assert.equal(retryAfter('0'), 0.5);
  assert.equal(retryAfter('3600'), 30);
  const now = Date.parse('2026-06-30T10:00:00Z');
  assert.equal(retryAfter('Tue, 30 Jun 2026 10:00:04 GMT', now), 4);
});

test('a tile answered 503 is asked for again after Retry-After, then given', async () => {
  const answers = [
    { status: 503, headers: { 'Retry-After': '0' } },
    { status: 200, headers: { 'Cache-Control': 'private, max-age=60' }, body: new Uint8Array([1, 2, 3]) },
  ];
  const asked = [];
  const fetchFn = async (url, init) => {
    asked.push(url);
    assert.ok(init.signal, 'the request can be cancelled');
    const a = answers.shift();
    return new Response(a.body || null, { status: a.status, headers: a.headers });
  };
  const load = tileLoader({ makeError: (s) => Object.assign(new Error(String(s)), { status: s }), fetchFn });
  const url = 'http://localhost/tiles/hotspots/12/1/2.mvt?from=2026-06-01';
  assert.equal(viaRetry(url), `${PROTOCOL}://${url}`);
  const got = await load({ url: viaRetry(url) }, new AbortController());
  assert.deepEqual(asked, [url, url]);
  assert.deepEqual([...new Uint8Array(got.data)], [1, 2, 3]);
  assert.equal(got.cacheControl, 'private, max-age=60');
});

test('a tile refused for good fails with its status; a stale one is reported', async () => {
  const fail = tileLoader({ makeError: (s) => Object.assign(new Error(String(s)), { status: s }),
    fetchFn: async () => new Response(null, { status: 403 }) });
  await assert.rejects(fail({ url: viaRetry('http://localhost/tiles/incidents/1/1/1.mvt') }, new AbortController()), (e) => e.status === 403);
  const stale = [];
  const load = tileLoader({ makeError: () => new Error('x'), onStale: (u) => stale.push(u),
    fetchFn: async () => new Response(new Uint8Array([9]), { status: 200, headers: { 'Tensionmap-Stale': 'true' } }) });
  await load({ url: viaRetry('http://localhost/tiles/areas/1/1/1.mvt') }, new AbortController());
  assert.deepEqual(stale, ['http://localhost/tiles/areas/1/1/1.mvt']);
});

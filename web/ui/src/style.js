// Colours, class breaks, MapLibre expressions and legends for each metric, and the
// map's own style when no basemap is configured. Pure functions, tested in Node.
//
// Palettes are colour-blind safe: viridis (counts) and plasma (rates) are
// perceptually uniform with monotonic lightness; the Gi* scale diverges from blue to
// orange; categories use Okabe and Ito's palette. A withheld count is drawn in a
// light neutral grey that none of the palettes uses.

export const VIRIDIS = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#fde725'];
export const PLASMA = ['#0d0887', '#6a00a8', '#b12a90', '#e16462', '#fca636', '#f0f921'];
export const SUPPRESSED = '#d4d4d4';
export const NONE = 'rgba(0,0,0,0)';
export const OUTLINE = 'rgba(60,60,60,0.55)';

// CONFIDENCE colours Gi* hot and cold spots by their confidence (FDR-adjusted).
export const CONFIDENCE = [
  { value: 99, color: '#a63603', label: 'Hot spot, 99% confidence' },
  { value: 95, color: '#e6550d', label: 'Hot spot, 95% confidence' },
  { value: 90, color: '#fdae6b', label: 'Hot spot, 90% confidence' },
  { value: 0, color: '#efefef', label: 'Not significant' },
  { value: -90, color: '#9ecae1', label: 'Cold spot, 90% confidence' },
  { value: -95, color: '#4292c6', label: 'Cold spot, 95% confidence' },
  { value: -99, color: '#08519c', label: 'Cold spot, 99% confidence' },
];

// CATEGORIES are the emerging hot spot patterns (tension/emerging.go). Cold spots of
// any pattern share one colour: they are rare in hate crime data and the panel names
// the exact pattern.
export const CATEGORIES = [
  { value: 'new_hot_spot', color: '#D55E00', label: 'New hot spot' },
  { value: 'consecutive_hot_spot', color: '#E69F00', label: 'Consecutive hot spot' },
  { value: 'intensifying_hot_spot', color: '#CC79A7', label: 'Intensifying hot spot' },
  { value: 'persistent_hot_spot', color: '#000000', label: 'Persistent hot spot' },
  { value: 'diminishing_hot_spot', color: '#F0E442', label: 'Diminishing hot spot' },
  { value: 'sporadic_hot_spot', color: '#009E73', label: 'Sporadic hot spot' },
  { value: 'oscillating_hot_spot', color: '#56B4E9', label: 'Oscillating hot spot' },
  { value: 'historical_hot_spot', color: '#a6761d', label: 'Historical hot spot' },
];
export const COLD_CATEGORY = { color: '#0072B2', label: 'Cold spot (any pattern)' };
export const COLD_CATEGORIES = ['new', 'consecutive', 'intensifying', 'persistent', 'diminishing', 'sporadic', 'oscillating', 'historical']
  .map((p) => p + '_cold_spot');

// TENSION colours alerts by tension level, widening the outline as it rises.
export const TENSION = [
  { value: 'low', color: '#56B4E9', width: 2 },
  { value: 'medium', color: '#E69F00', width: 2.5 },
  { value: 'high', color: '#D55E00', width: 3.5 },
  { value: 'critical', color: '#B4005A', width: 4.5 },
];

export const NEAR_REPEAT = '#7b3294';

// humanise turns a configured name such as sexual_orientation into words.
export function humanise(s) {
  const t = String(s).replaceAll('_', ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

// levelLabel names an area level: the census geographies' acronyms in capitals.
export function levelLabel(level) {
  if (!level) return 'Area';
  return ['oa', 'lsoa', 'msoa', 'lad', 'ltla', 'utla', 'csp'].includes(level.toLowerCase()) ? level.toUpperCase() : humanise(level);
}

// pick returns n colours spread over a palette, darkest first.
export function pick(palette, n) {
  if (n <= 1) return [palette[Math.floor(palette.length / 2)]];
  const out = [];
  for (let i = 0; i < n; i++) out.push(palette[Math.round((i * (palette.length - 1)) / (n - 1))]);
  return out;
}

// MAX_POINTS bounds the work of natural breaks: beyond it the values are thinned to
// as many quantiles, each carrying the weight of the values it stands for.
const MAX_POINTS = 400;

// naturalBreaks splits sorted distinct values xs (with weights ws) into k classes of
// least within-class squared deviation (Fisher–Jenks, exact by dynamic
// programming) and returns the index of the first value of each class after the
// first.
export function naturalBreaks(xs, ws, k) {
  const d = xs.length;
  if (k >= d) return xs.map((_, i) => i).slice(1);
  const W = new Float64Array(d + 1), S = new Float64Array(d + 1), Q = new Float64Array(d + 1);
  for (let i = 0; i < d; i++) {
    W[i + 1] = W[i] + ws[i];
    S[i + 1] = S[i] + ws[i] * xs[i];
    Q[i + 1] = Q[i] + ws[i] * xs[i] * xs[i];
  }
  // ssd(i, j): squared deviation of values i..j (inclusive) about their mean.
  const ssd = (i, j) => {
    const w = W[j + 1] - W[i], s = S[j + 1] - S[i];
    return Q[j + 1] - Q[i] - (s * s) / w;
  };
  let cost = new Float64Array(d);
  for (let j = 0; j < d; j++) cost[j] = ssd(0, j);
  const back = [];
  for (let c = 1; c < k; c++) {
    const next = new Float64Array(d).fill(Infinity);
    const from = new Int32Array(d);
    for (let j = c; j < d; j++) {
      for (let i = c; i <= j; i++) {
        const v = cost[i - 1] + ssd(i, j);
        if (v < next[j]) { next[j] = v; from[j] = i; }
      }
    }
    back.push(from);
    cost = next;
  }
  const starts = [];
  let j = d - 1;
  for (let c = k - 1; c >= 1; c--) {
    const i = back[c - 1][j];
    starts.unshift(i);
    j = i - 1;
  }
  return starts;
}

// between returns the roundest number in (lo, hi]: the fewest significant figures
// that still fall between the two.
function between(lo, hi) {
  for (let p = 1; p <= 6; p++) {
    const step = Math.pow(10, Math.floor(Math.log10(hi)) - p + 1);
    const v = Number((Math.floor(hi / step) * step).toPrecision(p + 1));
    if (v > lo && v <= hi) return v;
  }
  return hi;
}

// classBreaks returns at most n−1 ascending thresholds splitting the positive values
// into n classes by natural breaks (Fisher–Jenks), so that a few high values make a
// class of their own instead of sharing the top one with the many middling ones.
// Each threshold starts a class: values below the first fall in the first class.
// Counts (integer) break at the lowest value of each class; rates at the roundest
// number between one class's highest and the next one's lowest.
export function classBreaks(values, n, integer) {
  const v = values.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  if (v.length === 0) return [];
  let xs = [], ws = [];
  for (const x of v) {
    if (xs.length && xs[xs.length - 1] === x) ws[ws.length - 1]++;
    else { xs.push(x); ws.push(1); }
  }
  if (xs.length > MAX_POINTS) {
    const tx = [], tw = [];
    const per = v.length / MAX_POINTS;
    for (let i = 0; i < MAX_POINTS; i++) {
      const a = Math.floor(i * per), b = Math.floor((i + 1) * per);
      tx.push(v[Math.floor((a + b - 1) / 2)]);
      tw.push(b - a);
    }
    xs = [];
    ws = [];
    tx.forEach((x, i) => {
      if (xs.length && xs[xs.length - 1] === x) ws[ws.length - 1] += tw[i];
      else { xs.push(x); ws.push(tw[i]); }
    });
  }
  const starts = naturalBreaks(xs, ws, Math.min(n, xs.length));
  const out = [];
  for (const i of starts) {
    const b = integer ? xs[i] : between(xs[i - 1], xs[i]);
    if (out.length === 0 || b > out[out.length - 1]) out.push(b);
  }
  return out;
}

function fmt(v, integer) {
  if (integer) return String(v);
  return v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

// classLabels names the classes a set of breaks makes: "1–4", "5–9", "10 or more".
export function classLabels(min, breaks, integer, max) {
  if (breaks.length === 0 && max === min) return [fmt(min, integer)];
  const lo = [min, ...breaks];
  return lo.map((l, i) => {
    const hi = breaks[i];
    if (hi === undefined) return i === 0 && !integer ? `${fmt(l, false)} or more` : `${fmt(l, integer)} or more`;
    if (integer) return hi - 1 > l ? `${l}–${hi - 1}` : `${l}`;
    return `${fmt(l, false)} to under ${fmt(hi, false)}`;
  });
}

function step(prop, colors, breaks) {
  if (breaks.length === 0) return colors[0];
  const e = ['step', ['to-number', ['get', prop]], colors[0]];
  breaks.forEach((b, i) => e.push(b, colors[i + 1]));
  return e;
}

// metricProp is the tile property a sequential metric reads.
export const metricProp = { count: 'count', rate: 'rate' };

// fillColor returns the fill-color expression of a metric. classes carries the
// breaks of count and rate (from classBreaks over the features in view).
export function fillColor(metric, classes) {
  switch (metric) {
    case 'rate':
    case 'count': {
      const prop = metricProp[metric];
      const c = classes[metric] || { breaks: [] };
      const colors = pick(metric === 'count' ? VIRIDIS : PLASMA, c.breaks.length + 1);
      return ['case',
        ['==', ['to-number', ['coalesce', ['get', 'suppressed'], 0]], 1], SUPPRESSED,
        ['has', prop], step(prop, colors, c.breaks),
        NONE];
    }
    case 'z':
      return ['case',
        ['!', ['has', 'z']], NONE,
        ['match', ['to-number', ['coalesce', ['get', 'confidence'], 0]],
          ...CONFIDENCE.filter((c) => c.value !== 0).flatMap((c) => [c.value, c.color]),
          CONFIDENCE.find((c) => c.value === 0).color]];
    case 'category':
      return ['match', ['coalesce', ['get', 'category'], ''],
        ...CATEGORIES.flatMap((c) => [c.value, c.color]),
        COLD_CATEGORIES, COLD_CATEGORY.color,
        NONE];
    case 'tension':
      return ['match', ['coalesce', ['get', 'tension'], ''], ...TENSION.flatMap((t) => [t.value, t.color]), NONE];
    default:
      return NONE;
  }
}

// legend describes the legend of a metric: a title, a note and swatches
// {color, label, kind} where kind 'outline' is an unfilled hexagon.
export function legend(metric, classes, ctx = {}) {
  const res = ctx.res ? ` (H3 resolution ${ctx.res})` : '';
  switch (metric) {
    case 'count':
    case 'rate': {
      const c = classes[metric] || { breaks: [], min: 0 };
      const integer = metric === 'count';
      const colors = pick(metric === 'count' ? VIRIDIS : PLASMA, c.breaks.length + 1);
      const items = c.min > 0 ? classLabels(c.min, c.breaks, integer, c.max).map((label, i) => ({ color: colors[i], label })) : [];
      const title = metric === 'count' ? 'Reports per hexagon' + res : 'Reports per 1,000 residents' + res;
      const notes = [];
      if (items.length === 0) notes.push(metric === 'rate' ? 'No rates in view: a hexagon needs a population estimate.' : 'No reports in view for this period and these filters.');
      if (metric === 'rate') items.push({ color: NONE, label: 'no population estimate', kind: 'outline' });
      if (!ctx.exact) {
        items.push({ color: SUPPRESSED, label: 'suppressed (a small count is withheld)' });
        notes.push('Counts are rounded to multiples of 5.');
      }
      return { title, items, notes };
    }
    case 'z': {
      const notes = ['Getis-Ord Gi* from the latest engine run, over the last four weeks; the period filter does not change it.'];
      if (ctx.res && ctx.hotspotRes && ctx.res !== ctx.hotspotRes) notes.unshift(`Computed for resolution-${ctx.hotspotRes} hexagons only: zoom to ${ctx.hotspotZooms || '11–12'}.`);
      return { title: 'Hot and cold spots (Gi* z)', items: CONFIDENCE.map((c) => ({ color: c.color, label: c.label })), notes };
    }
    case 'category': {
      const notes = [ctx.exact === false
        ? 'Emerging hot spot analysis over the last 52 calendar weeks (Monday to Sunday), from each hexagon\'s published weekly counts as its panel gives them; the period filter does not change it.'
        : 'Emerging hot spot analysis of the latest engine run over the last year; the period filter does not change it.'];
      if (ctx.res && ctx.hotspotRes && ctx.res !== ctx.hotspotRes) notes.unshift(`Computed for resolution-${ctx.hotspotRes} hexagons only: zoom to ${ctx.hotspotZooms || '11–12'}.`);
      return {
        title: 'Emerging hot spot pattern',
        items: [...CATEGORIES.map((c) => ({ color: c.color, label: c.label })), { color: COLD_CATEGORY.color, label: COLD_CATEGORY.label },
          { color: NONE, label: 'No pattern', kind: 'outline' }],
        notes,
      };
    }
    case 'tension':
      return {
        title: 'Tension of open alerts',
        items: [...TENSION.map((t) => ({ color: t.color, label: humanise(t.value) })), { color: NONE, label: 'No open alert', kind: 'outline' }],
        notes: ['Each hexagon inside an open alert, by the highest tension level among them; the filters do not change it.'],
      };
    default:
      return { title: '', items: [], notes: [] };
  }
}

// baseStyle is the map's style when no basemap is configured: a plain background
// the data layers are drawn on. It needs nothing from outside the service.
export function baseStyle() {
  return {
    version: 8,
    name: 'tensionmap plain',
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#f4f3ef' } }],
  };
}

// BASEMAP_LAYERS are the layers the bundled basemap style draws from a Protomaps
// build (its layers earth, landuse, water, roads, buildings, boundaries): quiet
// greys and pale colours beneath the hexagons, so that hot spots stay legible. It
// draws no labels: a closed network cannot fetch glyphs from a font server.
export const BASEMAP_SOURCE = 'basemap';
const PARKS = ['park', 'forest', 'wood', 'nature_reserve', 'protected_area', 'national_park', 'grass', 'grassland',
  'cemetery', 'golf_course', 'recreation_ground', 'garden', 'playground', 'allotments', 'village_green', 'meadow', 'scrub'];
// roadWidth is a road's width in pixels by zoom, by its kind: zoom must stay the
// top-level input of an interpolation, so the kinds are matched at each stop.
function roadWidth(widths) {
  const at = (f) => ['match', ['get', 'kind'], 'highway', widths.highway * f, 'major_road', widths.major_road * f, widths.minor_road * f];
  return ['interpolate', ['exponential', 1.6], ['zoom'], 10, at(0.33), 12, at(1), 16, at(7)];
}
const ROADS = { highway: 1.8, major_road: 1.4, minor_road: 0.6 };

export function basemapLayers(source = BASEMAP_SOURCE) {
  const base = { source };
  return [
    { ...base, id: 'basemap-earth', type: 'fill', 'source-layer': 'earth', paint: { 'fill-color': '#efeee9' } },
    { ...base, id: 'basemap-park', type: 'fill', 'source-layer': 'landuse', filter: ['in', ['get', 'kind'], ['literal', PARKS]],
      paint: { 'fill-color': '#e1e8da' } },
    { ...base, id: 'basemap-water', type: 'fill', 'source-layer': 'water', filter: ['==', ['geometry-type'], 'Polygon'],
      paint: { 'fill-color': '#d3e0e8' } },
    { ...base, id: 'basemap-waterway', type: 'line', 'source-layer': 'water', filter: ['==', ['geometry-type'], 'LineString'],
      paint: { 'line-color': '#d3e0e8', 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.5, 16, 3] } },
    { ...base, id: 'basemap-buildings', type: 'fill', 'source-layer': 'buildings', minzoom: 14,
      paint: { 'fill-color': '#e2dfd9', 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 14, 0, 15, 1] } },
    { ...base, id: 'basemap-rail', type: 'line', 'source-layer': 'roads', filter: ['==', ['get', 'kind'], 'rail'], minzoom: 11,
      paint: { 'line-color': '#c9c5bd', 'line-width': 1, 'line-dasharray': [3, 2] } },
    { ...base, id: 'basemap-path', type: 'line', 'source-layer': 'roads', filter: ['==', ['get', 'kind'], 'path'], minzoom: 14,
      paint: { 'line-color': '#d2cec6', 'line-width': 0.8, 'line-dasharray': [2, 1.5] } },
    { ...base, id: 'basemap-road-casing', type: 'line', 'source-layer': 'roads',
      filter: ['in', ['get', 'kind'], ['literal', ['highway', 'major_road', 'minor_road']]],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#d8d4cc', 'line-gap-width': roadWidth(ROADS), 'line-width': ['interpolate', ['linear'], ['zoom'], 12, 0, 13, 0.6] } },
    { ...base, id: 'basemap-road', type: 'line', 'source-layer': 'roads',
      filter: ['in', ['get', 'kind'], ['literal', ['highway', 'major_road', 'minor_road', 'other']]],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': ['match', ['get', 'kind'], 'highway', '#fbf6ea', '#ffffff'],
        'line-width': roadWidth(ROADS) } },
    { ...base, id: 'basemap-boundary', type: 'line', 'source-layer': 'boundaries',
      paint: { 'line-color': '#b7b1a7', 'line-width': 0.8, 'line-dasharray': [3, 2] } },
  ];
}

// basemapStyle is the map's style over the service's own basemap archive
// (/basemap.json, a Protomaps build in PMTiles): everything comes from the
// service's origin, so it works on a closed network. The TileJSON carries the
// data's attribution (OpenStreetMap contributors).
export function basemapStyle(origin) {
  return {
    version: 8,
    name: 'tensionmap basemap',
    sources: { [BASEMAP_SOURCE]: { type: 'vector', url: `${origin}/basemap.json` } },
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#f4f3ef' } }, ...basemapLayers()],
  };
}

// dataLayers returns the map's layers over its sources (named like the tile layers),
// bottom to top.
// Over a basemap the hexagons thin out as the map nears street level, and the
// basemap's roads are drawn again over them (the reference overlay of thematic
// maps), so that a patrol can see which streets a hot spot covers.
export function dataLayers(metric, classes, { basemap = false } = {}) {
  const hexOpacity = basemap ? ['interpolate', ['linear'], ['zoom'], 11, 0.78, 14, 0.55] : 0.78;
  const over = basemap ? [
    { source: BASEMAP_SOURCE, id: 'roads-over', type: 'line', 'source-layer': 'roads', minzoom: 11,
      filter: ['in', ['get', 'kind'], ['literal', ['highway', 'major_road', 'minor_road']]],
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: { 'line-color': '#ffffff', 'line-opacity': ['interpolate', ['linear'], ['zoom'], 11, 0.35, 14, 0.75],
        'line-width': roadWidth({ highway: 1.2, major_road: 0.9, minor_road: 0.45 }) } },
  ] : [];
  return [
    { id: 'area-fill', type: 'fill', source: 'areas', 'source-layer': 'areas',
      paint: { 'fill-color': '#000', 'fill-opacity': 0 } },
    { id: 'hex-fill', type: 'fill', source: 'hotspots', 'source-layer': 'hotspots',
      paint: { 'fill-color': fillColor(metric, classes), 'fill-opacity': hexOpacity, 'fill-antialias': true } },
    ...over,
    { id: 'hex-line', type: 'line', source: 'hotspots', 'source-layer': 'hotspots',
      paint: { 'line-color': OUTLINE, 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.2, 14, 0.8] } },
    { id: 'area-line', type: 'line', source: 'areas', 'source-layer': 'areas',
      paint: { 'line-color': '#2b2b2b', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.6, 14, 1.6], 'line-opacity': 0.8 } },
    { id: 'nr-fill', type: 'fill', source: 'near_repeat', 'source-layer': 'near_repeat',
      paint: { 'fill-color': NEAR_REPEAT, 'fill-opacity': 0.22 } },
    { id: 'nr-line', type: 'line', source: 'near_repeat', 'source-layer': 'near_repeat',
      paint: { 'line-color': NEAR_REPEAT, 'line-width': 1.5, 'line-dasharray': [2, 1.5] } },
    { id: 'alert-casing', type: 'line', source: 'alerts', 'source-layer': 'alerts',
      paint: { 'line-color': '#ffffff', 'line-width': ['+', 2, tensionWidth()], 'line-opacity': 0.9 } },
    { id: 'alert-line', type: 'line', source: 'alerts', 'source-layer': 'alerts',
      paint: { 'line-color': tensionColor(), 'line-width': tensionWidth() } },
    { id: 'incident-point', type: 'circle', source: 'incidents', 'source-layer': 'incidents', minzoom: 13,
      paint: {
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 13, 3, 17, 6],
        'circle-color': ['match', ['get', 'kind'], 'crime', '#1b1b1b', '#ffffff'],
        'circle-stroke-color': '#1b1b1b', 'circle-stroke-width': 1.2,
      } },
    { id: 'selected-line', type: 'line', source: 'hotspots', 'source-layer': 'hotspots', filter: ['==', ['get', 'cell'], ''],
      paint: { 'line-color': '#000000', 'line-width': 3 } },
    { id: 'selected-area', type: 'line', source: 'areas', 'source-layer': 'areas', filter: ['==', ['get', 'code'], ''],
      paint: { 'line-color': '#000000', 'line-width': 3.5 } },
  ];
}

export function tensionColor() {
  return ['match', ['get', 'tension_level'], ...TENSION.flatMap((t) => [t.value, t.color]), '#555555'];
}

export function tensionWidth() {
  return ['match', ['get', 'tension_level'], ...TENSION.flatMap((t) => [t.value, t.width]), 2];
}

// layerGroups maps each switchable layer to its map layers.
export const layerGroups = {
  hex: ['hex-fill', 'hex-line', 'selected-line'],
  areas: ['area-fill', 'area-line', 'selected-area'],
  alerts: ['alert-casing', 'alert-line'],
  nearrepeat: ['nr-fill', 'nr-line'],
  incidents: ['incident-point'],
};

// sourceOfGroup names the tile layer behind each switchable layer.
export const sourceOfGroup = { hex: 'hotspots', areas: 'areas', alerts: 'alerts', nearrepeat: 'near_repeat', incidents: 'incidents' };

// The credit the areas' licence asks for comes with them (tensionmap areas import
// --attribution; the demo's Milton Keynes stores the Open Government Licence's
// statements). It is plain text: escaped here, with the licence's name made a link.
const OGL_URL = 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/';

function escapeHTML(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export function areasAttribution(text) {
  if (!text) return [];
  return text.split(/(?<=\.)\s+(?=[A-Z])/).map((sentence) => escapeHTML(sentence.trim().replace(/\.$/, '')).replace(
    /Open Government Licence v\.?3\.0/g,
    (m) => `<a href="${OGL_URL}" target="_blank" rel="noopener">${m}</a>`)).filter(Boolean);
}

// The map's state: the view, the filters, the metric, the layers and the selection,
// read from and written to the page's query string so that a shared link
// reproduces the view. Pure functions, tested in Node (test/unit.test.mjs).

export const METRICS = ['count', 'rate', 'z', 'category', 'tension'];
export const PRESETS = [7, 28, 90, 365];
export const KINDS = ['crime', 'incident'];

// LAYERS are the switchable layers, in the order the controls list them; role
// gates who may switch a layer on (the server refuses the others' tiles).
export const LAYERS = [
  { id: 'hex', label: 'Hexagons' },
  { id: 'areas', label: 'Area boundaries' },
  { id: 'alerts', label: 'Alerts' },
  { id: 'nearrepeat', label: 'Near-repeat risk zones', roles: ['police', 'council', 'admin'] },
  { id: 'incidents', label: 'Incident points (zoom in)', roles: ['police', 'admin'] },
];

export const DEFAULT_LAYERS = ['hex', 'areas', 'alerts'];
export const DEFAULT_DAYS = 28;
// WEEKS is how many weeks the week slider steps through, back from today.
export const WEEKS = 104;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

// isDay reports whether s is a real calendar day written YYYY-MM-DD.
export function isDay(s) {
  if (typeof s !== 'string' || !DAY.test(s)) return false;
  const d = new Date(s + 'T00:00:00Z');
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

// addDays returns the day n days after day (before, when n is negative).
export function addDays(day, n) {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// daysBetween returns to − from in days.
export function daysBetween(from, to) {
  return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / 86400000);
}

// todayUTC is the browser's day, used only when the page does not say the server's.
export function todayUTC(now = new Date()) {
  return now.toISOString().slice(0, 10);
}

// presetRange returns the period of the last n days ending on today.
export function presetRange(n, today) {
  return { from: addDays(today, -(n - 1)), to: today };
}

// weekEnd returns the last day of the week slider's step i, where the last step
// (weeks−1) ends today.
export function weekEnd(i, today, weeks = WEEKS) {
  return addDays(today, -7 * (weeks - 1 - i));
}

// weekIndex returns the slider step whose week ends on day, or -1.
export function weekIndex(day, today, weeks = WEEKS) {
  const d = daysBetween(day, today);
  if (d < 0 || d % 7 !== 0) return -1;
  const i = weeks - 1 - d / 7;
  return i >= 0 ? i : -1;
}

function list(v) {
  return (v || '').split(',').map((s) => s.trim()).filter(Boolean);
}

function num(v, lo, hi) {
  if (v === null || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= lo && n <= hi ? n : null;
}

// layersFor returns the layers a role may switch on.
export function layersFor(role) {
  return LAYERS.filter((l) => !l.roles || l.roles.includes(role)).map((l) => l.id);
}

// defaults returns the state of a page opened without parameters.
export function defaults(cfg) {
  const { from, to } = presetRange(DEFAULT_DAYS, cfg.today);
  const allowed = layersFor(cfg.role);
  return {
    view: null,
    from, to, preset: DEFAULT_DAYS, week: '',
    strands: [], kind: '', sources: [],
    metric: 'count',
    level: (cfg.levels && cfg.levels[0]) || '',
    layers: DEFAULT_LAYERS.filter((l) => allowed.includes(l)),
    cell: '', area: '', alert: '',
  };
}

// parse reads the state from a query string, keeping what is valid for this page's
// configuration (strands, sources, levels, role) and taking defaults for the rest.
export function parse(search, cfg) {
  const q = new URLSearchParams(search);
  const s = defaults(cfg);
  const z = num(q.get('z'), 0, 22), lat = num(q.get('lat'), -85, 85), lon = num(q.get('lon'), -180, 180);
  if (z !== null && lat !== null && lon !== null) s.view = { z, lat, lon };

  const preset = Number(q.get('preset'));
  const from = q.get('from'), to = q.get('to'), week = q.get('week');
  if (isDay(from) && isDay(to) && from <= to) {
    s.from = from; s.to = to; s.preset = 0; s.week = '';
    if (PRESETS.includes(preset) && presetRange(preset, cfg.today).from === from && to === cfg.today) s.preset = preset;
    if (isDay(week) && week === to && daysBetween(from, to) === 6) s.week = week;
  } else if (isDay(week)) {
    s.from = addDays(week, -6); s.to = week; s.preset = 0; s.week = week;
  } else if (PRESETS.includes(preset)) {
    Object.assign(s, presetRange(preset, cfg.today), { preset });
  }

  s.strands = list(q.get('strand')).filter((x) => (cfg.strands || []).includes(x));
  const kind = q.get('kind');
  if (KINDS.includes(kind)) s.kind = kind;
  s.sources = list(q.get('source')).filter((x) => (cfg.sources || []).includes(x));
  if (METRICS.includes(q.get('metric'))) s.metric = q.get('metric');
  if ((cfg.levels || []).includes(q.get('level'))) s.level = q.get('level');
  if (q.has('layers')) {
    const allowed = layersFor(cfg.role);
    s.layers = list(q.get('layers')).filter((l) => allowed.includes(l));
  }
  const cell = q.get('cell'), area = q.get('area');
  if (cell && /^[0-9a-f]{15}$/.test(cell)) s.cell = cell;
  else if (area && area.length <= 100) s.area = area;
  const alert = q.get('alert');
  if (!s.cell && !s.area && alert && /^[1-9][0-9]{0,17}$/.test(alert)) s.alert = alert;
  return s;
}

// serialize writes the state as a query string (without the '?'), in a fixed order.
// The period is always written as days, so that a link shows the same period
// whenever it is opened.
export function serialize(s) {
  const q = new URLSearchParams();
  if (s.view) {
    q.set('z', s.view.z.toFixed(2));
    q.set('lat', s.view.lat.toFixed(5));
    q.set('lon', s.view.lon.toFixed(5));
  }
  q.set('from', s.from);
  q.set('to', s.to);
  if (s.preset) q.set('preset', String(s.preset));
  if (s.week) q.set('week', s.week);
  if (s.strands.length) q.set('strand', s.strands.join(','));
  if (s.kind) q.set('kind', s.kind);
  if (s.sources.length) q.set('source', s.sources.join(','));
  q.set('metric', s.metric);
  q.set('layers', s.layers.join(','));
  if (s.level) q.set('level', s.level);
  if (s.cell) q.set('cell', s.cell);
  else if (s.area) q.set('area', s.area);
  else if (s.alert) q.set('alert', s.alert);
  return q.toString().replaceAll('%2C', ',');
}

// filterQuery is the count filter of the state as tile and API query parameters.
export function filterQuery(s) {
  const q = new URLSearchParams();
  q.set('from', s.from);
  q.set('to', s.to);
  if (s.strands.length) q.set('strand', s.strands.join(','));
  if (s.kind) q.set('kind', s.kind);
  if (s.sources.length) q.set('source', s.sources.join(','));
  return q.toString().replaceAll('%2C', ',');
}

// OPEN_ALERTS are the alert statuses the map shows.
export const OPEN_ALERTS = 'new,acknowledged,assessment_opened';

// tileQuery is the query string of a layer's tiles: each layer takes its own
// parameters and the server refuses any other.
export function tileQuery(layer, s) {
  switch (layer) {
    case 'hotspots':
    case 'incidents':
      return filterQuery(s);
    case 'areas':
      return filterQuery(s) + (s.level ? '&level=' + encodeURIComponent(s.level) : '');
    case 'alerts':
      return 'status=' + OPEN_ALERTS;
    default:
      return '';
  }
}

// tileURL is a layer's tile URL template for MapLibre.
export function tileURL(origin, layer, s) {
  const q = tileQuery(layer, s);
  return `${origin}/tiles/${layer}/{z}/{x}/{y}.mvt${q ? '?' + q : ''}`;
}

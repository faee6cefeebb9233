// The map page: MapLibre GL JS over the service's vector tiles, the filters and
// layers in the query string, the alerts beside the map and a hexagon's or an
// area's figures in the side panel.
import * as maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import 'uplot/dist/uPlot.min.css';
import './map.css';

import {
  LAYERS, PRESETS, WEEKS, OPEN_ALERTS, addDays, daysBetween, filterQuery, isDay, layersFor, parse, presetRange,
  serialize, tileURL, todayUTC, weekEnd, weekIndex,
} from './state.js';
import {
  BASEMAP_SOURCE, CATEGORIES, TENSION, NEAR_REPEAT, areasAttribution, baseStyle, basemapStyle, classBreaks, dataLayers, fillColor, humanise, layerGroups, legend,
  levelLabel, sourceOfGroup,
} from './style.js';
import { Panel, normaliseArea, normaliseCell, methodLabel, windowText, expectedText } from './panel.js';
import { h, clear, number, dayLabel } from './dom.js';
import { PROTOCOL, tileLoader, viaRetry } from './tilefetch.js';

const app = document.getElementById('tm-map');
const cfg = readConfig(app);
const origin = window.location.origin;
const state = parse(window.location.search, cfg);

// The tile layers this account may read, and the switchable layers over them.
const tileLayers = ['hotspots', 'areas', 'alerts'];
if (cfg.nearRepeat) tileLayers.push('near_repeat');
if (cfg.incidents) tileLayers.push('incidents');
const allowedGroups = layersFor(cfg.role).filter((g) => tileLayers.includes(sourceOfGroup[g]));

// Default TileJSON when the server's cannot be read.
const TILEJSON = { minzoom: 8, maxzoom: 16, bounds: null, zoom_resolutions: { 8: 6, 9: 6, 10: 7, 11: 8, 12: 8, 13: 9, 14: 10, 15: 10, 16: 10 } };
const HOTSPOT_RES = 8;
// CLASSES is the number of colour classes of counts and rates (fewer when fewer
// distinct values are in view).
const CLASSES = 6;

let map;
let tilejson = { ...TILEJSON };
let classes = { count: { min: 0, breaks: [] }, rate: { min: 0, breaks: [] } };
let classKey = '';
let panelSeq = 0;
let loadedData = false;
let statusNote = ''; // a lasting remark for the status line
const tileURLs = {};
// Layers with a tile given at its previous figures, to be fetched again shortly.
const staleLayers = new Set();
let staleTimer = null;
const panel = new Panel(document.getElementById('details'), document.getElementById('details-body'), document.getElementById('details-h'), () => {
  state.cell = '';
  state.area = '';
  state.alert = '';
  highlight();
  writeURL();
}, Boolean(cfg.alertActions));

// readConfig takes the page's settings from its JSON block or its data attributes.
function readConfig(el) {
  let c = {};
  const block = document.getElementById('tm-config');
  if (block) {
    try { c = JSON.parse(block.textContent) || {}; } catch { c = {}; }
  }
  const ds = el.dataset;
  const arr = (v) => {
    try { const x = JSON.parse(v || 'null'); return Array.isArray(x) ? x : []; } catch { return []; }
  };
  c.role = c.role || ds.role || '';
  c.name = c.name || ds.name || '';
  c.version = ds.version || c.version || '';
  c.basemapStyle = c.basemapStyle || ds.basemap || '';
  c.basemap = c.basemap === true; // the service serves its own basemap archive
  c.strands = Array.isArray(c.strands) ? c.strands : arr(ds.strands);
  c.sources = Array.isArray(c.sources) ? c.sources : arr(ds.sources);
  c.levels = Array.isArray(c.levels) ? c.levels : arr(ds.levels);
  c.firstDay = c.firstDay || ds.firstDay || '';
  c.lastDay = c.lastDay || ds.lastDay || '';
  if (c.exactCounts === undefined) c.exactCounts = c.role !== 'strategic';
  if (c.incidents === undefined) c.incidents = ['police', 'admin'].includes(c.role);
  if (c.nearRepeat === undefined) c.nearRepeat = ['police', 'council', 'admin'].includes(c.role);
  if (c.alertActions === undefined) c.alertActions = ['police', 'council', 'admin'].includes(c.role);
  // Presets end on the last day with reports (the server's today when it says so),
  // so that the demo's data, or a feed that stopped, still shows.
  c.today = isDay(c.lastDay) ? c.lastDay : isDay(c.today) ? c.today : todayUTC();
  c.weeks = WEEKS;
  if (isDay(c.firstDay) && c.firstDay <= c.today) c.weeks = Math.max(1, Math.min(260, Math.floor(daysBetween(c.firstDay, c.today) / 7) + 1));
  return c;
}

// ---- The URL ---------------------------------------------------------------

function writeURL() {
  const q = serialize(state);
  if (window.location.search !== '?' + q) window.history.replaceState(null, '', window.location.pathname + '?' + q);
}

// ---- Controls --------------------------------------------------------------

const form = document.getElementById('tm-filters');
const el = {
  from: document.getElementById('f-from'),
  to: document.getElementById('f-to'),
  week: document.getElementById('f-week'),
  weekOut: document.getElementById('f-week-out'),
  counted: document.getElementById('f-counted'),
  anchor: document.getElementById('f-anchor'),
  kind: document.getElementById('f-kind'),
  level: document.getElementById('f-level'),
  levelField: document.getElementById('f-level-field'),
  legend: document.getElementById('legend'),
  status: document.getElementById('map-status'),
  alerts: document.getElementById('alert-list'),
  alertsNote: document.getElementById('alerts-note'),
  banner: document.getElementById('alert-banner'),
};

function checkbox(name, value, label) {
  return h('label', {}, h('input', { type: 'checkbox', name, value }), ' ', label);
}

function buildControls() {
  form.addEventListener('submit', (e) => e.preventDefault());
  const strands = form.querySelector('#f-strands .choices');
  for (const s of cfg.strands) strands.append(checkbox('strand', s, humanise(s)));
  const sources = form.querySelector('#f-sources .choices');
  for (const s of cfg.sources) sources.append(checkbox('source', s, humanise(s)));
  const layers = form.querySelector('#f-layers .choices');
  for (const l of LAYERS) if (allowedGroups.includes(l.id)) layers.append(checkbox('layer', l.id, l.label));
  for (const lv of cfg.levels) el.level.append(h('option', { value: lv }, levelLabel(lv)));
  if (!cfg.basemap && !cfg.basemapStyle) {
    form.querySelector('#f-layers').append(h('p', { class: 'note', id: 'basemap-note' },
      'No basemap: the data are drawn on a plain background. An administrator can add streets and parks that need no internet ' +
      'by pointing TENSIONMAP_BASEMAP_PMTILES at a PMTiles extract of the area (see "A basemap" in the README).'));
  }
  el.levelField.hidden = cfg.levels.length < 2;

  el.anchor.textContent = `Ending on ${dayLabel(cfg.today)}${cfg.lastDay ? ', the day of the latest report' : ''}.`;
  el.from.min = el.to.min = cfg.firstDay || '';
  el.from.max = el.to.max = cfg.today;
  el.week.max = String(cfg.weeks - 1);

  for (const b of form.querySelectorAll('.presets button')) {
    b.addEventListener('click', () => {
      const days = Number(b.dataset.days);
      Object.assign(state, presetRange(days, cfg.today), { preset: days, week: '' });
      apply();
    });
  }
  const dateChange = () => {
    const f = el.from.value, t = el.to.value;
    if (!isDay(f) || !isDay(t) || f > t) {
      el.to.setCustomValidity(isDay(f) && isDay(t) ? 'The end comes before the start.' : '');
      el.to.reportValidity();
      return;
    }
    el.to.setCustomValidity('');
    Object.assign(state, { from: f, to: t, preset: 0, week: daysBetween(f, t) === 6 && weekIndex(t, cfg.today, cfg.weeks) >= 0 ? t : '' });
    apply();
  };
  el.from.addEventListener('change', dateChange);
  el.to.addEventListener('change', dateChange);

  let weekTimer = 0;
  el.week.addEventListener('input', () => {
    const end = weekEnd(Number(el.week.value), cfg.today, cfg.weeks);
    el.weekOut.textContent = cfg.exactCounts ? `7 days to ${dayLabel(end)}` : `Asking for 7 days to ${dayLabel(end)}…`;
    clearTimeout(weekTimer);
    weekTimer = setTimeout(() => {
      Object.assign(state, { from: addDays(end, -6), to: end, preset: 0, week: end });
      apply();
    }, 250);
  });

  form.addEventListener('change', (e) => {
    const t = e.target;
    if (t.name === 'strand') state.strands = checked('strand');
    else if (t.name === 'source') state.sources = checked('source');
    else if (t.name === 'kind') state.kind = t.value;
    else if (t.name === 'metric') state.metric = t.value;
    else if (t.name === 'layer') state.layers = checked('layer');
    else if (t.name === 'level') state.level = t.value;
    else return;
    apply();
  });

  document.getElementById('centre-details').addEventListener('click', () => {
    if (!map) return;
    const p = map.project(map.getCenter());
    if (!selectAt(p, true)) status('Nothing to show at the centre of the map: move the map over a hexagon or an area.');
  });
}

function checked(name) {
  return [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
}

// syncControls shows the state in the controls.
function syncControls() {
  el.from.value = state.from;
  el.to.value = state.to;
  for (const b of form.querySelectorAll('.presets button')) b.setAttribute('aria-pressed', String(Number(b.dataset.days) === state.preset));
  const wi = weekIndex(state.to, cfg.today, cfg.weeks);
  el.week.value = String(wi >= 0 ? wi : cfg.weeks - 1);
  showPeriod();
  for (const i of form.querySelectorAll('input[name=strand]')) i.checked = state.strands.includes(i.value);
  for (const i of form.querySelectorAll('input[name=source]')) i.checked = state.sources.includes(i.value);
  for (const i of form.querySelectorAll('input[name=layer]')) i.checked = state.layers.includes(i.value);
  for (const i of form.querySelectorAll('input[name=metric]')) i.checked = i.value === state.metric;
  el.kind.value = state.kind;
  el.level.value = state.level;
  el.level.disabled = !state.layers.includes('areas');
}

// askedText writes the period the controls ask for.
function askedText() {
  return state.week ? `7 days to ${dayLabel(state.week)}` : `${dayLabel(state.from)} to ${dayLabel(state.to)} (${daysBetween(state.from, state.to) + 1} days)`;
}

// counted is the period the server counted for the period asked (asked: the query
// it answered), as it said: a role that may not see small counts is answered for the
// published period (a calendar month, quarter or year) holding the days asked.
let counted = null;
let countedSeq = 0;

// showPeriod writes the period under the slider: as asked for roles that see exact
// counts; for the others, the period the counts are for, once the server said it.
function showPeriod() {
  if (cfg.exactCounts) {
    el.week.setAttribute('aria-valuetext', askedText());
    el.weekOut.textContent = askedText();
    el.counted.hidden = true;
    return;
  }
  const q = filterQuery(state);
  if (!counted || counted.asked !== q) {
    el.weekOut.textContent = `Asking for ${askedText()}…`;
    el.week.setAttribute('aria-valuetext', askedText());
    el.counted.hidden = true;
    loadCounted(q);
    return;
  }
  const label = `Counts for ${counted.text}`;
  el.weekOut.textContent = label;
  el.week.setAttribute('aria-valuetext', label);
  el.counted.textContent = counted.changed
    ? `You asked for ${askedText()}. Counts for your role are published for calendar months, quarters and years only, so the map shows ${counted.text}${counted.from ? ` (${dayLabel(counted.from)} to ${dayLabel(counted.to)})` : ''}.`
    : '';
  el.counted.hidden = !counted.changed;
  el.counted.dataset.from = counted.from;
  el.counted.dataset.to = counted.to;
}

// loadCounted asks the server which period it counts for the filters q: a cell
// listing over a box with nothing in it says it at no cost.
async function loadCounted(q) {
  const seq = ++countedSeq;
  const rs = Object.values(tilejson.zoom_resolutions).map(Number).filter(Number.isFinite);
  const res = rs.length ? `res=${Math.min(...rs)}&` : '';
  const ask = (r) => getJSON(`/api/v1/cells?${r}bbox=0,0,0.000001,0.000001&${q}`);
  try {
    // A resolution the server does not keep is refused: then its finest.
    const j = await ask(res).catch((e) => (e.status === 400 && res ? ask('') : Promise.reject(e)));
    if (seq !== countedSeq) return;
    const f = j.filter || {};
    counted = { asked: q, from: f.from || '', to: f.to || '', text: j.period_text || (f.from ? `${dayLabel(f.from)} to ${dayLabel(f.to)}` : 'all time'), changed: Boolean(j.period_note) };
    showPeriod();
  } catch (e) {
    if (seq !== countedSeq) return;
    el.weekOut.textContent = `${askedText()}: the period counted could not be read (${e.message})`;
  }
}

// answered is the state as the server answered a place's figures: the period it
// counted, which for a role that may not see small counts is a published one.
function answered(j) {
  if (cfg.exactCounts || !j || !j.filter) return state;
  return { ...state, from: j.filter.from || '', to: j.filter.to || '', periodText: j.period_text || '' };
}

// apply makes the map, the URL, the controls and the panel follow the state.
function apply() {
  writeURL();
  syncControls();
  if (!map || !loadedData) return;
  updateSources();
  updateLayers();
  updateLegend();
  reloadSelection();
}

// ---- Map -------------------------------------------------------------------

async function getJSON(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (r.status === 401) {
    signedOut();
    throw new Error('signed out');
  }
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try { const j = await r.json(); msg = j.message || j.error || msg; } catch { /* not JSON */ }
    const err = new Error(msg);
    err.status = r.status;
    throw err;
  }
  return r.json();
}

function signedOut() {
  const next = encodeURIComponent(window.location.pathname + window.location.search);
  status('');
  el.status.append('Your session has ended. ', h('a', { href: `/signin?next=${next}` }, 'Sign in again'), '.');
}

function status(text) {
  el.status.textContent = text;
}

async function loadTileJSON() {
  try {
    const j = await getJSON('/tiles/hotspots.json');
    tilejson = {
      minzoom: Number.isFinite(j.minzoom) ? j.minzoom : TILEJSON.minzoom,
      maxzoom: Number.isFinite(j.maxzoom) ? j.maxzoom : TILEJSON.maxzoom,
      bounds: Array.isArray(j.bounds) && j.bounds.length === 4 && j.bounds[0] > -180 ? j.bounds : null,
      zoom_resolutions: j.zoom_resolutions && typeof j.zoom_resolutions === 'object' ? j.zoom_resolutions : TILEJSON.zoom_resolutions,
      attribution: typeof j.attribution === 'string' ? j.attribution : '',
    };
  } catch (e) {
    tilejson = { ...TILEJSON };
  }
}

// resAt returns the H3 resolution the hexagon tiles carry at a zoom.
function resAt(zoom) {
  const z = Math.min(tilejson.maxzoom, Math.max(tilejson.minzoom, Math.floor(zoom)));
  const r = tilejson.zoom_resolutions[String(z)];
  return Number.isFinite(Number(r)) ? Number(r) : null;
}

function hotspotZooms() {
  const zs = Object.entries(tilejson.zoom_resolutions).filter(([, r]) => Number(r) === HOTSPOT_RES).map(([z]) => Number(z)).sort((a, b) => a - b);
  if (!zs.length) return '';
  return zs.length === 1 ? `zoom ${zs[0]}` : `zoom ${zs[0]}–${zs[zs.length - 1]}`;
}

function createMap() {
  maplibregl.setWorkerUrl(new URL('./maplibre-gl-worker.mjs', import.meta.url).href + (cfg.version ? '?v=' + encodeURIComponent(cfg.version) : ''));
  const opts = {
    container: 'map',
    style: cfg.basemapStyle || (cfg.basemap ? basemapStyle(origin) : baseStyle()),
    minZoom: 5,
    maxZoom: 18,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    attributionControl: { compact: true, customAttribution: areasAttribution(tilejson.attribution) },
    locale: { 'Map.Title': 'Map of hate crime and hate incident reports. Arrow keys move the map, plus and minus zoom.' },
  };
  if (state.view) {
    opts.center = [state.view.lon, state.view.lat];
    opts.zoom = state.view.z;
  } else if (tilejson.bounds) {
    opts.bounds = [[tilejson.bounds[0], tilejson.bounds[1]], [tilejson.bounds[2], tilejson.bounds[3]]];
    opts.fitBoundsOptions = { padding: studyPadding() };
    firstView = true;
  } else {
    opts.center = [-1.5, 52.6];
    opts.zoom = 6;
  }
  maplibregl.addProtocol(PROTOCOL, tileLoader({ makeError: tileError, onStale: staleTile }));
  map = new maplibregl.Map(opts);
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');

  let basemapFailed = false;
  map.on('error', (e) => {
    const err = e && e.error;
    if (err && err.status === 401) return signedOut();
    if (!loadedData && cfg.basemapStyle && !basemapFailed && !map.isStyleLoaded()) {
      // The basemap could not be read: draw the data on the plain background.
      basemapFailed = true;
      map.setStyle(baseStyle(), { diff: false });
      statusNote = 'The basemap could not be loaded: the data are drawn on a plain background.';
      status(statusNote);
      return;
    }
    if (e && e.sourceId === 'basemap') {
      statusNote = 'Some of the basemap could not be loaded: the data are drawn over what could.';
      status(statusNote);
      return;
    }
    if (err && err.status) status(`Some map tiles could not be loaded (${err.status}).`);
  });
  map.on('style.load', addData);
  map.on('movestart', (e) => { if (e.originalEvent) firstView = false; });
  map.on('moveend', () => {
    const c = map.getCenter();
    state.view = { z: map.getZoom(), lat: c.lat, lon: c.lng };
    writeURL();
  });
  map.on('zoomend', updateLegend);
  map.on('dataloading', (e) => { if (e.dataType === 'source' && loadedData) status('Loading…'); });
  map.on('idle', onIdle);
  map.on('click', (e) => selectAt(e.point, false));
  map.on('mousemove', (e) => {
    const hit = hitLayers().length && map.queryRenderedFeatures(e.point, { layers: hitLayers() }).length;
    map.getCanvas().style.cursor = hit ? 'pointer' : '';
  });
}

// addData adds the sources and layers over whatever style is loaded (the plain one
// or a basemap).
function addData() {
  if (map.getSource('hotspots')) return;
  for (const layer of tileLayers) {
    tileURLs[layer] = tileURL(origin, layer, state);
    const src = { type: 'vector', tiles: [viaRetry(tileURLs[layer])], minzoom: tilejson.minzoom, maxzoom: tilejson.maxzoom };
    if (tilejson.bounds) src.bounds = tilejson.bounds;
    if (layer === 'hotspots' || layer === 'near_repeat') src.promoteId = { [layer]: 'cell' };
    if (layer === 'areas') src.promoteId = { areas: 'code' };
    map.addSource(layer, src);
  }
  const ownBasemap = !!map.getSource(BASEMAP_SOURCE) && !cfg.basemapStyle;
  for (const l of dataLayers(state.metric, classes, { basemap: ownBasemap })) {
    if (!tileLayers.includes(l.source) && !(ownBasemap && l.source === BASEMAP_SOURCE)) continue;
    map.addLayer(l);
  }
  loadedData = true;
  updateLayers();
  updateLegend();
  highlight();
  reloadSelection();
}

function updateSources() {
  for (const layer of tileLayers) {
    const url = tileURL(origin, layer, state);
    if (url === tileURLs[layer]) continue;
    tileURLs[layer] = url;
    map.getSource(layer).setTiles([viaRetry(url)]);
  }
}

// tileError is the error MapLibre reports for a tile the server refused.
function tileError(status, statusText, url) {
  if (maplibregl.AJAXError) return new maplibregl.AJAXError(status, statusText, url, new Blob());
  return Object.assign(new Error(`${status} ${statusText}`), { status, statusText, url });
}

// staleTile notes a tile given with its previous figures while the new ones are
// drawn: its layer is fetched again in a few seconds, and the status line says so
// meanwhile.
function staleTile(url) {
  const m = /\/tiles\/([a-z_]+)\//.exec(url);
  if (!m || !tileLayers.includes(m[1])) return;
  staleLayers.add(m[1]);
  if (staleTimer) return;
  staleTimer = setTimeout(() => {
    staleTimer = null;
    const layers = [...staleLayers];
    staleLayers.clear();
    for (const layer of layers) if (map.getSource(layer)) map.getSource(layer).setTiles([viaRetry(tileURLs[layer])]);
  }, 3000);
}

function updateLayers() {
  for (const [group, ids] of Object.entries(layerGroups)) {
    const on = state.layers.includes(group) && allowedGroups.includes(group);
    for (const id of ids) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  }
  map.setPaintProperty('hex-fill', 'fill-color', fillColor(state.metric, classes));
}

function hitLayers() {
  const out = [];
  if (state.layers.includes('incidents') && allowedGroups.includes('incidents')) out.push('incident-point');
  if (state.layers.includes('alerts')) out.push('alert-line');
  if (state.layers.includes('hex')) out.push('hex-fill');
  if (state.layers.includes('areas')) out.push('area-fill');
  return out.filter((id) => map.getLayer(id));
}

// onIdle recomputes the colour classes of counts and rates from the hexagons in
// view whenever they change (another filter, another resolution, the map moved),
// and says what is shown. The classes come from the values the tiles carry, so a
// strategic user's come from the published (rounded, suppressed) counts only.
function onIdle() {
  if (!loadedData) return;
  const res = resAt(map.getZoom());
  const feats = map.getLayer('hex-fill') && state.layers.includes('hex') ? map.queryRenderedFeatures({ layers: ['hex-fill'] }) : [];
  const seen = new Map();
  for (const f of feats) seen.set(f.properties.cell, f.properties);
  const b = map.getBounds();
  const key = `${filterQuery(state)}|${res}|${seen.size}|${[b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(4)).join(',')}`;
  if (key !== classKey) {
    classKey = key;
    const counts = [], rates = [];
    for (const p of seen.values()) {
      if (p.count !== undefined && p.count !== null) counts.push(Number(p.count));
      if (p.rate !== undefined && p.rate !== null) rates.push(Number(p.rate));
    }
    const next = {
      count: { min: Math.min(...counts.filter((c) => c > 0), Infinity), max: Math.max(...counts, 0), breaks: classBreaks(counts, CLASSES, true) },
      rate: { min: Math.min(...rates.filter((c) => c > 0), Infinity), max: Math.max(...rates, 0), breaks: classBreaks(rates, CLASSES, false) },
    };
    for (const k of ['count', 'rate']) if (!Number.isFinite(next[k].min)) next[k].min = 0;
    if (JSON.stringify(next) !== JSON.stringify(classes)) {
      classes = next;
      map.setPaintProperty('hex-fill', 'fill-color', fillColor(state.metric, classes));
      updateLegend();
    }
  }
  const n = map.getLayer('hex-fill') ? map.queryRenderedFeatures({ layers: ['hex-fill'] }).length : 0;
  const drawn = state.layers.includes('hex') ? `${number(n)} hexagon${n === 1 ? '' : 's'} drawn${res !== null ? ` at H3 resolution ${res}` : ''}.` : '';
  const updating = staleTimer ? 'Some figures are from before the latest reports and are being brought up to date.' : '';
  status([drawn, updating, statusNote].filter(Boolean).join(' '));
  app.dataset.ready = 'true';
}

function swatch(color, outline) {
  const s = h('span', { class: 'swatch' + (outline ? ' outline' : ''), 'aria-hidden': 'true' });
  if (!outline) s.style.background = color;
  return s;
}

function lineKey(color, label, dashed) {
  const s = h('span', { class: 'line' + (dashed ? ' dash' : ''), 'aria-hidden': 'true' });
  s.style.color = color;
  return h('li', {}, s, label);
}

function updateLegend() {
  if (!map) return;
  const res = resAt(map.getZoom());
  const lg = legend(state.metric, classes, { res, hotspotRes: HOTSPOT_RES, hotspotZooms: hotspotZooms(), exact: cfg.exactCounts });
  clear(el.legend);
  el.legend.dataset.metric = state.metric;
  el.legend.dataset.classes = ['count', 'rate'].includes(state.metric) && state.layers.includes('hex') ? String(classes[state.metric].min > 0 ? classes[state.metric].breaks.length + 1 : 0) : '';
  if (state.layers.includes('hex')) {
    el.legend.append(h('h2', {}, lg.title),
      h('ul', {}, lg.items.map((i) => h('li', {}, swatch(i.color, i.kind === 'outline'), i.label))),
      ...lg.notes.map((n) => h('p', {}, n)));
  }
  const lines = [];
  if (state.layers.includes('alerts')) {
    lines.push(h('li', { class: 'tension' }, 'Alerts by tension:', ...TENSION.map((t) => {
      const s = h('span', { class: 'line', 'aria-hidden': 'true' });
      s.style.color = t.color;
      return h('span', { class: 'key' }, s, t.value);
    })));
  }
  if (state.layers.includes('nearrepeat') && allowedGroups.includes('nearrepeat')) lines.push(lineKey(NEAR_REPEAT, 'Near-repeat risk zone', true));
  if (state.layers.includes('areas')) lines.push(lineKey('#2b2b2b', `${levelLabel(state.level)} boundary`));
  if (state.layers.includes('incidents') && allowedGroups.includes('incidents')) {
    lines.push(h('li', {}, h('span', { class: 'dot crime', 'aria-hidden': 'true' }), 'Hate crime (points from zoom 13)'));
    lines.push(h('li', {}, h('span', { class: 'dot incident', 'aria-hidden': 'true' }), 'Hate incident'));
  }
  if (lines.length) el.legend.append(h('ul', { class: 'lines' }, lines));
  el.legend.hidden = !el.legend.firstChild;
}

// ---- Selection and the panel ---------------------------------------------

// selectAt opens what lies at a point: an alert's outline, a hexagon or an area.
function selectAt(point, focus) {
  const layers = hitLayers();
  if (!layers.length) return false;
  const box = [[point.x - 3, point.y - 3], [point.x + 3, point.y + 3]];
  if (layers.includes('alert-line')) {
    const a = map.queryRenderedFeatures(box, { layers: ['alert-line'] })[0];
    if (a) { selectAlert(Number(a.properties.id), focus); return true; }
  }
  if (layers.includes('incident-point')) {
    const f = map.queryRenderedFeatures(box, { layers: ['incident-point'] })[0];
    if (f) { showIncident(f.properties, focus); return true; }
  }
  if (layers.includes('hex-fill')) {
    const f = map.queryRenderedFeatures(point, { layers: ['hex-fill'] })[0];
    if (f && f.properties.cell) { selectCell(String(f.properties.cell), f.properties, focus); return true; }
  }
  if (layers.includes('area-fill')) {
    const f = map.queryRenderedFeatures(point, { layers: ['area-fill'] })[0];
    if (f && f.properties.code) { selectArea(String(f.properties.code), focus); return true; }
  }
  return false;
}

function highlight() {
  if (!map || !loadedData) return;
  map.setFilter('selected-line', ['==', ['get', 'cell'], state.cell || '']);
  map.setFilter('selected-area', ['==', ['get', 'code'], state.area || '']);
}

const ctx = () => ({ state, strands: cfg.strands, sources: cfg.sources, exact: cfg.exactCounts });

async function selectCell(cell, props, focus) {
  state.cell = cell;
  state.area = '';
  state.alert = '';
  writeURL();
  highlight();
  panel.open('Hexagon');
  if (focus) panel.title.focus();
  const seq = ++panelSeq;
  try {
    const j = await getJSON(`/api/v1/cells/${encodeURIComponent(cell)}?${filterQuery(state)}`);
    if (seq !== panelSeq) return;
    panel.showPlace(normaliseCell(j), { ...ctx(), props, state: answered(j) });
  } catch (e) {
    if (seq === panelSeq) panel.fail(`The hexagon's figures could not be read: ${e.message}`);
  }
}

async function selectArea(code, focus) {
  state.area = code;
  state.cell = '';
  state.alert = '';
  writeURL();
  highlight();
  panel.open('Area');
  if (focus) panel.title.focus();
  const seq = ++panelSeq;
  try {
    const j = await getJSON(`/api/v1/areas/${encodeURIComponent(code)}?${filterQuery(state)}`);
    if (seq !== panelSeq) return;
    const d = normaliseArea(j);
    panel.title.textContent = d.name || d.id;
    panel.showPlace(d, { ...ctx(), state: answered(j) });
  } catch (e) {
    if (seq === panelSeq) panel.fail(`The area's figures could not be read: ${e.message}`);
  }
}

async function selectAlert(id, focus) {
  state.cell = '';
  state.area = '';
  state.alert = String(id);
  writeURL();
  highlight();
  panel.open(`Alert ${id}`);
  if (focus) panel.title.focus();
  const seq = ++panelSeq;
  try {
    const j = await getJSON(`/api/v1/alerts/${id}`);
    if (seq !== panelSeq) return;
    panel.showAlert(j.alert || j);
  } catch (e) {
    if (seq === panelSeq) panel.fail(`The alert could not be read: ${e.message}`);
  }
}

function showIncident(p, focus) {
  ++panelSeq;
  state.cell = '';
  state.area = '';
  state.alert = '';
  writeURL();
  highlight();
  panel.open(p.kind === 'crime' ? 'Hate crime' : 'Hate incident');
  if (focus) panel.title.focus();
  panel.showIncident(p);
}

// reloadSelection reads the selected place's figures again for the current filter.
function reloadSelection() {
  if (state.cell) selectCell(state.cell, null, false);
  else if (state.area) selectArea(state.area, false);
}

// ---- Alerts ----------------------------------------------------------------

async function loadAlerts() {
  let list;
  try {
    list = (await getJSON(`/api/v1/alerts?status=${OPEN_ALERTS}&limit=200`)).alerts || [];
  } catch (e) {
    el.alertsNote.textContent = `The alerts could not be read: ${e.message}`;
    return;
  }
  showBanner(list);
  refitFirstView();
  clear(el.alerts);
  el.alertsNote.textContent = list.length ? `${list.length} open. Choose one to go to it.` : 'No open alerts.';
  for (const a of list) {
    const obs = a.observed === null || a.observed === undefined ? 'suppressed' : number(a.observed);
    const where = a.areas && a.areas.length ? a.areas.slice(0, 3).join(', ') + (a.areas.length > 3 ? '…' : '')
      : a.cells && a.cells.length ? `${a.cells.length} hexagon${a.cells.length === 1 ? '' : 's'}` : 'everywhere';
    const b = h('button', { type: 'button', class: `level-${a.tension_level}`, dataset: { alertId: String(a.id) } },
      h('span', { class: 'level' }, a.tension_level), ` · ${methodLabel(a.method, a.method_name).replace(/ \(.*/, '')}`,
      h('span', { class: 'meta' }, `${windowText(a)} · ${where}`),
      h('span', { class: 'meta' }, `observed ${obs}, expected ${expectedText({ expected: a.expected })}${a.strands && a.strands.length ? ' · ' + a.strands.map(humanise).join(', ') : ''}`));
    b.addEventListener('click', () => goToAlert(a));
    el.alerts.append(h('li', {}, b));
  }
  // A link to an alert (?alert=ID) opens it: an open one is also fitted into view;
  // another (dismissed, say) opens in the panel alone.
  const wanted = state.alert && list.find((a) => String(a.id) === state.alert);
  if (wanted) goToAlert(wanted, false);
  else if (state.alert) selectAlert(Number(state.alert), false);
}

// studyPadding is the room the first view leaves around the study area: the legend
// at the bottom left, the zoom buttons at the top right, the scale and the credit at
// the bottom, and the banner of citywide alerts over the top when it shows.
function studyPadding() {
  const box = document.getElementById('map').getBoundingClientRect();
  let top = 40;
  if (!el.banner.hidden) top = Math.max(top, el.banner.getBoundingClientRect().bottom - box.top + 16);
  let bottom = 50;
  const credit = document.querySelector('#map .maplibregl-ctrl-attrib.maplibregl-compact-show');
  if (credit) bottom = Math.max(bottom, box.bottom - credit.getBoundingClientRect().top + 12);
  const wide = box.width > 800;
  // Never more padding than leaves half the map for the area.
  const spare = box.height / 2;
  const scale = top + bottom > spare ? spare / (top + bottom) : 1;
  return { top: top * scale, bottom: bottom * scale, right: 50, left: wide ? 290 : 20 };
}

// firstView is true while the map shows the study area as it first opened: a banner
// that appears then refits it below the banner; any move of the user's ends it.
let firstView = false;

function refitFirstView() {
  if (!firstView || !tilejson.bounds) return;
  const b = tilejson.bounds;
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: studyPadding(), animate: false });
}

// goToAlert opens an alert's panel and fits the map to it. The panel opens first,
// so that the map fits the alert into the room it leaves.
function goToAlert(a, focus = true) {
  firstView = false;
  selectAlert(a.id, focus);
  requestAnimationFrame(() => { map.resize(); flyToAlert(a); });
}

// isWide tells an alert over the whole partnership (a rise after a trigger event
// names no place) or over many areas at once (a widespread rise).
function isWide(a) {
  return a.method === 'widespread' || (!(a.areas && a.areas.length) && !(a.cells && a.cells.length));
}

// showBanner names the citywide and widespread open alerts over the map, each with
// a link to it: they concern everyone looking at the map, wherever it is.
function showBanner(list) {
  const wide = list.filter(isWide);
  clear(el.banner);
  el.banner.hidden = wide.length === 0;
  if (!wide.length) return;
  const shown = wide.slice(0, 3);
  const spread = wide.filter((a) => a.method === 'widespread').length;
  let heading;
  if (spread === 0) heading = wide.length === 1 ? 'An alert covers the whole area' : `${wide.length} alerts cover the whole area`;
  else if (spread === wide.length) heading = wide.length === 1 ? 'An alert spans many areas at once' : `${wide.length} alerts span many areas at once`;
  else heading = `${wide.length} alerts cover the whole area or many areas at once`;
  el.banner.append(h('h2', {}, heading));
  el.banner.append(h('ul', {}, shown.map((a) => {
    const where = a.method === 'widespread' ? `A rise across ${a.areas.length} area${a.areas.length === 1 ? '' : 's'} at once` : 'Citywide';
    const obs = a.observed === null || a.observed === undefined ? 'a withheld number of' : number(a.observed);
    const strands = a.strands && a.strands.length ? a.strands.map((x) => humanise(x).toLowerCase()).join(' and ') + ' ' : '';
    const link = h('a', { href: `${window.location.pathname}?${serialize({ ...state, cell: '', area: '', alert: String(a.id) })}`, dataset: { alertId: String(a.id) } }, 'See the alert');
    link.addEventListener('click', (e) => { e.preventDefault(); goToAlert(a); });
    return h('li', { class: `level-${a.tension_level}`, dataset: { alertId: String(a.id) } },
      h('strong', {}, a.method === 'widespread' ? `${where}, ${a.tension_level} tension. `
        : `${where}: ${methodLabel(a.method, a.method_name).replace(/ \(.*/, '').toLowerCase()}, ${a.tension_level} tension. `),
      `${alertWhen(a)}: ${obs} ${strands}reports where ${expectedText({ expected: a.expected })} were expected. `,
      link);
  })));
  if (wide.length > shown.length) el.banner.append(h('p', {}, `And ${wide.length - shown.length} more among the open alerts.`));
}

// alertWhen says what an alert is about and when, briefly: "After National:
// referendum result (national), 6 days, 27 Nov – 2 Dec 2026".
function alertWhen(a) {
  const after = /^(After .+?), the \d+ days? /.exec(a.detail || '');
  return [after && after[1], windowText(a)].filter(Boolean).join(', ');
}

function extend(box, coords) {
  if (typeof coords[0] === 'number') {
    box[0] = Math.min(box[0], coords[0]); box[1] = Math.min(box[1], coords[1]);
    box[2] = Math.max(box[2], coords[0]); box[3] = Math.max(box[3], coords[1]);
    return;
  }
  for (const c of coords) extend(box, c);
}

function featuresBox(features) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  for (const f of features) extend(box, f.geometry.coordinates);
  return Number.isFinite(box[0]) ? box : null;
}

// flyToAlert moves the map to an alert: its box when the API gives one, else its
// outline or areas among the tiles loaded, else its hexagons' centres.
async function flyToAlert(a) {
  let box = Array.isArray(a.bbox) && a.bbox.length === 4 ? a.bbox : null;
  if (!box) box = featuresBox(map.querySourceFeatures('alerts', { sourceLayer: 'alerts', filter: ['==', ['to-number', ['get', 'id']], a.id] }));
  if (!box && a.areas && a.areas.length) box = featuresBox(map.querySourceFeatures('areas', { sourceLayer: 'areas', filter: ['in', ['get', 'code'], ['literal', a.areas]] }));
  if (!box && a.cells && a.cells.length) {
    const pts = await Promise.all(a.cells.slice(0, 12).map((c) => getJSON(`/api/v1/cells/${c}?${filterQuery(state)}`).catch(() => null)));
    const ok = pts.filter((p) => p && Number.isFinite(p.lat));
    if (ok.length) box = featuresBox(ok.map((p) => ({ geometry: { coordinates: [p.lon, p.lat] } })));
  }
  if (!box) {
    status('This alert is not among the map’s tiles in view: zoom out to find it.');
    return;
  }
  map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 80, maxZoom: 13.5, duration: 800 });
}

// ---- Start -----------------------------------------------------------------

async function start() {
  buildControls();
  syncControls();
  writeURL();
  await loadTileJSON();
  createMap();
  loadAlerts();
  window.tensionmap = {
    map, state, cfg, hexLayer: 'hex-fill', areaLayer: 'area-fill',
    // settled resolves when the map has drawn everything it asked for.
    settled: () => new Promise((resolve) => { map.once('idle', resolve); map.triggerRepaint(); }),
    tileURL: (layer) => tileURLs[layer],
    classes: () => classes,
    categories: CATEGORIES,
    presets: PRESETS,
  };
}

start();

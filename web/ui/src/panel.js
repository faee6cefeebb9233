// The side panel: a hexagon's, an area's or an alert's figures as the API gives
// them, by strand, and a chart of observed against expected with the same figures
// in a table.
import uPlot from 'uplot';
import { h, clear, number, dayLabel } from './dom.js';
import { humanise, levelLabel, CATEGORIES, CONFIDENCE, COLD_CATEGORIES } from './style.js';

const WITHHELD = 'suppressed';

// shown writes a count from the API: null is a withheld count.
function shown(v) {
  if (v === null || v === undefined) return WITHHELD;
  return number(v);
}

// normaliseWeeks accepts the weekly series as an array of weeks or as {weeks: […]},
// each week with week_end or end.
export function normaliseWeeks(w) {
  const arr = Array.isArray(w) ? w : (w && Array.isArray(w.weeks) ? w.weeks : []);
  return arr.map((x) => ({
    end: x.week_end ?? x.end ?? x.day ?? '',
    start: x.week_start ?? x.start ?? '',
    observed: x.observed ?? null,
    expected: x.expected ?? null,
  }));
}

// normaliseCell reads /api/v1/cells/{cell}: its counts either at the top or under
// "counts".
export function normaliseCell(j) {
  const c = j.counts && typeof j.counts === 'object' ? j.counts : j;
  return {
    kind: 'cell', id: j.cell, res: j.res, lat: j.lat, lon: j.lon,
    count: c.count ?? null, suppressed: !!c.suppressed, crimes: c.crimes ?? null, incidents: c.incidents ?? null,
    byStrand: c.by_strand || {}, rate: j.rate_per_1000 ?? c.rate_per_1000 ?? null,
    population: j.population_estimate ?? j.population ?? null,
    hotspot: j.hotspot || null,
    weeks: normaliseWeeks(j.weekly),
  };
}

// normaliseArea reads /api/v1/areas/{code}.
export function normaliseArea(j) {
  const a = j.area || j;
  return {
    kind: 'area', id: a.code, name: a.name, level: a.level,
    count: a.count ?? null, suppressed: !!a.suppressed, crimes: a.crimes ?? null, incidents: a.incidents ?? null,
    byStrand: a.by_strand || {}, bySource: a.by_source || null, rate: a.rate_per_1000 ?? null, population: a.population ?? null,
    weeks: normaliseWeeks(j.weekly ?? a.weekly),
  };
}

function row(label, value, field, extra = {}) {
  return h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'num', dataset: { field, ...extra } }, value));
}

function breakdown(title, values, keys, attr) {
  const rows = keys.map((k) => h('tr', {}, h('th', { scope: 'row' }, humanise(k)),
    h('td', { class: 'num', dataset: { [attr]: k } }, shown(values[k]))));
  return [h('h3', {}, title), h('table', { class: 'figures' }, h('tbody', {}, rows))];
}

function categoryLabel(c) {
  const hit = CATEGORIES.find((x) => x.value === c);
  if (hit) return hit.label;
  if (COLD_CATEGORIES.includes(c)) return humanise(c);
  return c ? humanise(c) : '–';
}

function confidenceLabel(c) {
  const hit = CONFIDENCE.find((x) => x.value === Number(c));
  return hit ? hit.label : String(c);
}

// filterSummary describes the filter the figures are for.
export function filterSummary(s) {
  const parts = [s.periodText ? `Counts for ${s.periodText}` : s.from ? `${dayLabel(s.from)} to ${dayLabel(s.to)}` : 'All time'];
  parts.push(s.strands.length ? s.strands.map(humanise).join(', ') : 'all strands');
  parts.push(s.kind === 'crime' ? 'hate crimes' : s.kind === 'incident' ? 'hate incidents' : 'crimes and incidents');
  parts.push(s.sources.length ? 'from ' + s.sources.map(humanise).join(', ') : 'all sources');
  return parts.join(' · ');
}

// Panel owns the details element and its chart.
export class Panel {
  constructor(root, body, title, onClose, canAssess = false) {
    this.canAssess = canAssess; // whether the caller may turn an alert into an impact assessment
    this.root = root;
    this.body = body;
    this.title = title;
    this.chart = null;
    this.onClose = onClose;
    root.querySelector('[data-action=close]').addEventListener('click', () => this.close());
    root.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.close(); });
  }

  open(titleText) {
    this.destroyChart();
    this.title.textContent = titleText;
    clear(this.body);
    this.root.hidden = false;
    this.root.dataset.state = 'loading';
    this.body.append(h('p', { class: 'note' }, 'Loading…'));
  }

  close() {
    if (this.root.hidden) return;
    this.destroyChart();
    this.root.hidden = true;
    delete this.root.dataset.kind;
    delete this.root.dataset.id;
    this.onClose && this.onClose();
  }

  fail(message) {
    clear(this.body);
    this.root.dataset.state = 'error';
    this.body.append(h('p', { class: 'problem', role: 'alert' }, message));
  }

  destroyChart() {
    if (this.chart) {
      this.chart.destroy();
      this.chart = null;
    }
  }

  // showPlace fills the panel with a hexagon's or an area's figures. d comes from
  // normaliseCell or normaliseArea; props are the clicked tile feature's.
  showPlace(d, ctx) {
    clear(this.body);
    this.root.dataset.kind = d.kind;
    this.root.dataset.id = d.id;
    const out = [];
    out.push(h('p', { class: 'note' }, filterSummary(ctx.state)));
    if (d.kind === 'cell') {
      out.push(h('p', { class: 'note' }, `H3 cell ${d.id}, resolution ${d.res}`));
    } else {
      out.push(h('p', { class: 'note' }, `${levelLabel(d.level)} ${d.id}`));
    }
    const facts = [
      row('Reports', shown(d.count), 'count'),
      row('Hate crimes', shown(d.crimes), 'crimes'),
      row('Hate incidents', shown(d.incidents), 'incidents'),
      row('Per 1,000 residents', d.rate === null ? '–' : number(d.rate, 2), 'rate'),
    ];
    if (d.population !== null && d.population !== undefined) {
      facts.push(row(d.kind === 'cell' ? 'Residents (estimate)' : 'Residents', number(d.population), 'population'));
    }
    out.push(h('table', { class: 'figures' }, h('tbody', {}, facts)));
    if (!ctx.exact) {
      out.push(h('p', { class: 'note' }, d.count === null
        ? 'The count here is small and is withheld; other figures are rounded to multiples of 5.'
        : 'Figures are rounded to multiples of 5; small ones are withheld.'));
    }
    out.push(...this.weekly(d.weeks));
    out.push(...breakdown('By strand', d.byStrand, ctx.strands.length ? ctx.strands : Object.keys(d.byStrand), 'strand'));
    if (d.bySource) out.push(...breakdown('By source', d.bySource, ctx.sources.length ? ctx.sources : Object.keys(d.bySource), 'source'));
    if (ctx.props && ctx.props.tension) {
      out.push(h('p', {}, `Inside an open alert: ${ctx.props.tension} tension. The alerts are listed beside the map.`));
    }
    const hs = d.hotspot || (ctx.props && ctx.props.z !== undefined ? ctx.props : null);
    if (hs) {
      out.push(h('h3', {}, 'Hot spot analysis'));
      out.push(h('table', { class: 'figures' }, h('tbody', {},
        row('Gi* z', hs.z === undefined || hs.z === null ? '–' : Number(hs.z).toFixed(2), 'z'),
        row('Confidence', confidenceLabel(hs.confidence ?? 0), 'confidence'),
        row('Pattern', categoryLabel(hs.category), 'category'))));
    }
    this.body.append(...out);
    this.root.dataset.state = 'ready';
    this.drawWeekly(d.weeks);
  }

  weekly(weeks) {
    if (!weeks.length) return [h('p', { class: 'note' }, 'No weekly series.')];
    const rows = weeks.map((w) => h('tr', { dataset: { weekEnd: w.end } },
      h('th', { scope: 'row' }, dayLabel(w.end)),
      h('td', { class: 'num', dataset: { field: 'observed' } }, shown(w.observed)),
      h('td', { class: 'num', dataset: { field: 'expected' } }, w.expected === null ? '–' : number(w.expected, 2))));
    return [
      h('h3', { id: 'weekly-h' }, 'Week by week: observed against expected'),
      h('p', { class: 'note' }, 'Expected: the mean of the 12 weeks before each week.'),
      h('div', { class: 'chart', id: 'weekly-chart', role: 'img', 'aria-label': 'Chart of reports each week against the expected number; the figures are in the table below.' }),
      h('details', { class: 'weeks' }, h('summary', {}, 'The figures, week by week'),
        h('table', { class: 'figures', 'aria-labelledby': 'weekly-h' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Week ending'), h('th', { scope: 'col' }, 'Observed'), h('th', { scope: 'col' }, 'Expected'))),
          h('tbody', {}, rows))),
    ];
  }

  drawWeekly(weeks) {
    const el = this.body.querySelector('#weekly-chart');
    if (!el || !weeks.length) return;
    const xs = weeks.map((w) => Date.parse(w.end + 'T00:00:00Z') / 1000);
    this.draw(el, [xs, weeks.map((w) => w.observed), weeks.map((w) => w.expected)], [
      { label: 'Observed', stroke: '#0072B2', fill: 'rgba(0,114,178,0.55)', paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false } },
      { label: 'Expected', stroke: '#D55E00', width: 2, dash: [6, 4], points: { show: false } },
    ]);
  }

  draw(el, data, series) {
    this.destroyChart();
    const width = Math.max(240, Math.floor(el.getBoundingClientRect().width || 300));
    // A point under the cursor with no value is withheld; with no cursor, say nothing.
    const fmtCount = (u, v, si, idx) => {
      if (idx === null || idx === undefined) return '–';
      return v === null || v === undefined ? WITHHELD : number(v, Number.isInteger(v) ? 0 : 2);
    };
    this.chart = new uPlot({
      width, height: 190,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, Math.ceil((max || 0) * 1.15))] } },
      axes: [
        { stroke: '#444', grid: { show: false }, values: (u, ticks) => ticks.map((t) => dayLabel(new Date(t * 1000).toISOString()).replace(/ \d{4}$/, '')) },
        { stroke: '#444', grid: { stroke: '#e6e6e6' }, size: 40 },
      ],
      series: [{ label: 'Week ending', value: (u, v) => (v ? dayLabel(new Date(v * 1000).toISOString()) : '–') },
        ...series.map((s) => ({ ...s, value: fmtCount }))],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    }, data, el);
  }

  // showIncident shows an incident point's record as its tile carries it.
  showIncident(p) {
    clear(this.body);
    this.root.dataset.kind = 'incident';
    this.root.dataset.id = String(p.id);
    this.body.append(h('table', { class: 'figures' }, h('tbody', {},
      row('Record', String(p.id), 'id'),
      row('Day', dayLabel(p.day), 'day'),
      row('Kind', p.kind === 'crime' ? 'Hate crime' : 'Hate incident', 'kind'),
      row('Strands', String(p.strands || '').split(',').filter(Boolean).map(humanise).join(', ') || '–', 'strands'))),
    h('p', { class: 'note' }, 'Reading incident records is written to the audit log.'),
    ...(this.canAssess ? [h('p', {}, h('a', { href: `/assessments/new?${new URLSearchParams({ incident: String(p.id), kind: p.kind || '', from: p.day || '', strand: p.strands || '' })}` }, 'Open an impact assessment of this incident')),
      h('p', {}, h('a', { href: `/cases/new?${new URLSearchParams({ incident: String(p.id) })}`, class: 'open-case' }, 'Open a case for the victim of this report'))] : []));
    this.root.dataset.state = 'ready';
  }

  // showAlert fills the panel with an alert and its evidence.
  showAlert(a) {
    clear(this.body);
    this.root.dataset.kind = 'alert';
    this.root.dataset.id = String(a.id);
    const facts = [
      row('Tension level', humanise(a.tension_level || ''), 'tension_level'),
      row('Status', humanise(a.status || ''), 'status'),
      row('Method', methodLabel(a.method, a.method_name), 'method'),
      row('Window', windowText(a), 'window'),
      row('Observed', shown(a.observed), 'observed'),
      row('Expected', expectedText(a), 'expected'),
    ];
    if (a.baseline_from) facts.push(row('Baseline', `${dayLabel(a.baseline_from)} to ${dayLabel(a.baseline_to)}`, 'baseline'));
    if (a.breadth) facts.push(row('Breadth', `${number(a.breadth * 100)}% of the areas`, 'breadth'));
    if (a.ratio !== null && a.ratio !== undefined) facts.push(row('Ratio', number(a.ratio, 2), 'ratio'));
    // The server writes the p-value with two significant figures (tension.FormatP).
    if (a.p_value !== null && a.p_value !== undefined) facts.push(row('p-value', a.p_text || String(a.p_value), 'p_value'));
    if (a.recurrence_days !== null && a.recurrence_days !== undefined) facts.push(row('Recurrence', `once in ${number(a.recurrence_days)} days`, 'recurrence'));
    facts.push(row('Strands', a.strands && a.strands.length ? a.strands.map(humanise).join(', ') : 'all', 'strands'));
    if (a.areas && a.areas.length) facts.push(row(a.area_level ? `Areas (${levelLabel(a.area_level)})` : 'Areas', a.areas.join(', '), 'areas'));
    if (a.cells && a.cells.length) facts.push(row('Hexagons', String(a.cells.length), 'cells'));
    if (!(a.areas && a.areas.length) && !(a.cells && a.cells.length)) facts.push(row('Where', 'Everywhere: a rise across the whole area', 'where'));
    if (a.event_id) facts.push(h('tr', { dataset: { field: 'event' } }, h('th', { scope: 'row' }, 'Trigger event'), h('td', {}, h('a', { href: `/events/${a.event_id}` }, `Event ${a.event_id}: what was measured after it`))));
    const out = [h('p', { class: 'note' }, a.detail || ''), h('table', { class: 'figures' }, h('tbody', {}, facts))];
    if (a.assessment_id) {
      out.push(h('p', {}, h('a', { href: `/assessments/${a.assessment_id}`, class: 'assessment-link' }, `Impact assessment ${a.assessment_id}`), ' responds to this alert.'));
    } else if (this.canAssess) {
      // A plain form: the server makes the draft from the alert and opens it.
      out.push(h('form', { method: 'post', action: '/assessments', class: 'assess' },
        h('input', { type: 'hidden', name: 'alert_id', value: String(a.id) }),
        h('button', { type: 'submit' }, 'Open an impact assessment')));
    }
    const series = a.series || [];
    if (series.length) {
      out.push(h('h3', {}, 'Evidence: observed against expected'));
      out.push(h('div', { class: 'chart', id: 'alert-chart', role: 'img', 'aria-label': 'Chart of the alert’s evidence; the figures are in the table below.' }));
      out.push(h('details', { class: 'weeks' }, h('summary', {}, 'The figures'),
        h('table', { class: 'figures' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, 'Observed'), h('th', { scope: 'col' }, 'Expected'), h('th', { scope: 'col' }, 'Threshold'))),
          h('tbody', {}, series.map((p) => h('tr', { dataset: { day: p.day } },
            h('th', { scope: 'row' }, dayLabel(p.day) + (p.alarm ? ' (alarm)' : '')),
            h('td', { class: 'num', dataset: { field: 'observed' } }, shown(p.observed)),
            h('td', { class: 'num' }, p.expected === null || p.expected === undefined ? '–' : number(p.expected, 2)),
            h('td', { class: 'num' }, p.upper === null || p.upper === undefined ? '–' : number(p.upper, 2))))))));
    }
    this.body.append(...out);
    this.root.dataset.state = 'ready';
    const el = this.body.querySelector('#alert-chart');
    if (el) {
      const xs = series.map((p) => Date.parse(p.day + 'T00:00:00Z') / 1000);
      this.draw(el, [xs, series.map((p) => p.observed ?? null), series.map((p) => p.expected ?? null), series.map((p) => p.upper ?? null)], [
        { label: 'Observed', stroke: '#0072B2', fill: 'rgba(0,114,178,0.55)', paths: uPlot.paths.bars({ size: [0.7, 40] }), points: { show: false } },
        { label: 'Expected', stroke: '#D55E00', width: 2, dash: [6, 4], points: { show: false } },
        { label: 'Threshold', stroke: '#555', width: 1.5, dash: [2, 3], points: { show: false } },
      ]);
    }
  }
}

// methodLabel names an alert's method: the name the server gives (method_name), else
// the same names as tension.Finding.MethodName, first letter in capitals.
export function methodLabel(m, name) {
  const n = name || { farrington: 'Farrington-flexible (baseline exceedance)', ears: 'EARS C2', scan: 'space-time permutation scan',
    uplift: 'trigger-event uplift', widespread: 'widespread rise' }[m] || String(m || '').replaceAll('_', ' ');
  return n.charAt(0).toUpperCase() + n.slice(1);
}

// windowText says an alert's window as dates and the days it covers: the server's
// window_text ("7 days, 1–7 Jul 2016"), else the dates.
export function windowText(a) {
  if (a.window_text) return a.window_text;
  return a.window_from === a.window_to ? dayLabel(a.window_from) : `${dayLabel(a.window_from)} to ${dayLabel(a.window_to)}`;
}

// expectedText writes an alert's expected count with the baseline it comes from:
// "12.4 (the same weeks of the five years before)".
export function expectedText(a) {
  if (a.expected === null || a.expected === undefined) return '–';
  const v = Number(a.expected);
  const n = v >= 1 || v === 0 ? number(v, 1) : String(Number(v.toPrecision(2)));
  return a.baseline_text ? `${n} (${a.baseline_text})` : n;
}

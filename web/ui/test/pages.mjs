// Shared helpers of the browser tests of the server-rendered pages (the impact
// assessment workflow and the strategic review): Chromium, signing in, steps with
// their times, checks of the inline SVG charts and maps, and the print check (a PDF
// of the page read back with poppler's pdfinfo, pdftotext and pdftoppm).
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// env reads a setting the Go test passes; a missing one stops the script.
export function env(name, def) {
  const v = process.env[name] ?? def;
  if (v === undefined || v === '') {
    console.error(`${path.basename(process.argv[1])}: ${name} is not set (the Go test sets it)`);
    process.exit(2);
  }
  return v;
}

export const STEP_TIMEOUT = 60_000; // per step; no budget for a whole flow

// The printable area of an A4 page with the pages' @page margins (14 mm top and
// bottom, 12 mm left and right), in CSS pixels: 186 mm by 269 mm.
export const A4_CONTENT = { width: Math.floor((186 / 25.4) * 96), height: Math.floor((269 / 25.4) * 96) };
// An A4 page in PDF points.
const A4_POINTS = { width: 595.28, height: 841.89 };

// Runner runs a script's steps, printing each one's name, outcome and time; each
// step waits for its conditions up to STEP_TIMEOUT, and the script has no budget.
export class Runner {
  constructor(name) {
    this.name = name;
    this.passed = 0;
    this.failed = 0;
    this.started = Date.now();
  }

  async step(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      this.passed++;
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      this.failed++;
      console.log(`FAIL ${name} (${Date.now() - t0} ms)\n     ${String(e && e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
      throw e;
    }
  }

  // run runs body(), then cleanup(), and sets the exit code.
  async run(body, cleanup) {
    try {
      await body();
    } catch (e) {
      if (!this.failed) console.log(`FAIL ${this.name}: ${e && e.stack || e}`);
      process.exitCode = 1;
    } finally {
      await cleanup().catch(() => {});
    }
    console.log(`${this.name}: ${this.passed} passed, ${this.failed} failed in ${((Date.now() - this.started) / 1000).toFixed(1)} s`);
  }
}

// launch starts Debian's Chromium headless with a fresh profile. Script errors and
// refused resources (the pages' CSP) of every page are collected in errors.
export async function launch(executablePath) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tensionmap-chromium-'));
  const context = await chromium.launchPersistentContext(userDir, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'Europe/London',
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
  const errors = [];
  const watch = (page) => {
    page.on('console', (m) => {
      // The browser's own request for a favicon is not the page's doing.
      if (m.type() === 'error' && !/\/favicon\.ico$/.test(m.location().url || '')) errors.push(`console: ${m.text()} ${m.location().url || ''}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  return { context, errors, close };
}

// signIn opens next without a session, which shows the sign-in form, and signs in
// through it; the server then sends the person on to next.
export async function signIn(page, base, user, password, next) {
  await page.goto(base + next);
  assert.equal(new URL(page.url()).pathname, '/signin', `GET ${next} without a session should show the sign-in page, got ${page.url()}`);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  const want = new URL(base + next).pathname;
  await Promise.all([page.waitForURL((u) => u.pathname === want), page.getByRole('button', { name: 'Sign in' }).click()]);
}

// fetchJSON reads an API answer inside the page's session.
export async function fetchJSON(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error(`${u}: ${r.status} ${await r.text()}`);
    return r.json();
  }, url);
}

// message is the page's message after a form was sent ("Saved.").
export async function message(page) {
  const m = page.locator('main .message[role=status]');
  return (await m.count()) ? (await m.first().textContent()).trim() : '';
}

// printButtonPrints checks that the page's Print button opens the browser's print
// dialogue (window.print, counted instead of shown).
export async function printButtonPrints(page) {
  await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed++; }; });
  await page.getByRole('button', { name: 'Print' }).click();
  assert.equal(await page.evaluate(() => window.printed), 1, 'the Print button calls the browser\'s print');
}

// svgFigure measures an inline SVG chart or map, on screen or in print: whether it
// is shown, its size, its drawn elements, and for a map its hexagon-like fills
// (paths of a fill colour inside the map's clipped group, with their subpaths
// counted). index picks one of several matches.
export async function svgFigure(page, selector, index = 0) {
  return page.evaluate(([sel, index]) => {
    const svg = document.querySelectorAll(sel)[index];
    if (!svg) return null;
    const r = svg.getBoundingClientRect();
    let shown = true;
    for (let el = svg; el; el = el.parentElement) {
      const cs = getComputedStyle(el);
      if (cs.display === 'none' || cs.visibility === 'hidden' || Number(cs.opacity) === 0) shown = false;
    }
    const drawn = { path: 0, rect: 0, line: 0, polyline: 0, circle: 0 };
    for (const el of svg.querySelectorAll('path, rect, line, polyline, circle')) {
      if (el.closest('defs, clipPath, pattern')) continue;
      const b = el.getBBox();
      if (b.width > 0 || b.height > 0) drawn[el.tagName.toLowerCase()]++;
    }
    const fills = [];
    let shapes = 0;
    for (const p of svg.querySelectorAll('g[clip-path] path')) {
      const fill = (p.getAttribute('fill') || '').toLowerCase();
      if (!fill || fill === 'none' || fill.startsWith('url(') || fill === '#ffffff') continue;
      const b = p.getBBox();
      if (b.width <= 0 || b.height <= 0) continue;
      fills.push(fill);
      shapes += (p.getAttribute('d').match(/[Mm]/g) || []).length;
    }
    const title = svg.querySelector('title');
    return {
      title: title ? title.textContent : '', shown, width: r.width, height: r.height, left: r.left, right: r.right,
      drawn, fills: [...new Set(fills)], shapes,
      texts: [...svg.querySelectorAll('text')].map((t) => t.textContent.trim()),
    };
  }, [selector, index]);
}

// assertSVG checks that an SVG figure is shown, of a real size, with something drawn.
export function assertSVG(f, what, min = {}) {
  assert.ok(f, `${what}: no inline SVG on the page`);
  assert.ok(f.shown, `${what}: not shown (display: none, hidden or transparent)`);
  assert.ok(f.width >= (min.width ?? 300) && f.height >= (min.height ?? 150), `${what}: ${f.width.toFixed(0)} x ${f.height.toFixed(0)} px`);
  const n = Object.values(f.drawn).reduce((a, b) => a + b, 0);
  assert.ok(n >= (min.elements ?? 5), `${what}: only ${n} drawn elements ${JSON.stringify(f.drawn)}`);
  for (const [tag, k] of Object.entries(min.drawn || {})) assert.ok(f.drawn[tag] >= k, `${what}: ${f.drawn[tag]} ${tag} elements drawn, want at least ${k}`);
  if (min.shapes) {
    assert.ok(f.shapes >= min.shapes, `${what}: ${f.shapes} filled hexagons or areas drawn, want at least ${min.shapes}`);
  }
}

// printLayout lays the page out as it prints on A4 (print media, the width of an
// A4 page's printable area) and reads what shows: the SVG figures of selectors,
// and every navigation, form, button and no-print element still shown.
export async function printLayout(page, selectors) {
  await page.setViewportSize(A4_CONTENT);
  await page.emulateMedia({ media: 'print' });
  const figures = {};
  for (const s of selectors) figures[s] = await svgFigure(page, s);
  const shownUI = await page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('header.top, nav, form, button, input, select, textarea, .no-print, footer')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden') {
        out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).replace(/ /g, '.') : ''}`);
      }
    }
    return out;
  });
  return { figures, shownUI };
}

// screenLayout undoes printLayout.
export async function screenLayout(page) {
  await page.emulateMedia({ media: null });
  await page.setViewportSize({ width: 1280, height: 900 });
}

// Poppler's tools, read back from a PDF.
export class PDF {
  constructor(file, tools) {
    this.file = file;
    this.tools = tools;
    this.bytes = fs.readFileSync(file);
  }

  // pageSizes are every page's width and height in points, from pdfinfo.
  pageSizes() {
    const out = execFileSync(this.tools.pdfinfo, ['-f', '1', '-l', '9999', this.file], { encoding: 'utf8' });
    const sizes = [];
    for (const m of out.matchAll(/^Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+) pts/gm)) sizes.push({ width: Number(m[1]), height: Number(m[2]) });
    const pages = Number((out.match(/^Pages:\s+(\d+)/m) || [])[1]);
    assert.equal(sizes.length, pages, `pdfinfo gave ${sizes.length} page sizes for ${pages} pages:\n${out}`);
    return sizes;
  }

  // mediaBoxes are the page sizes the PDF's bytes declare.
  mediaBoxes() {
    const text = this.bytes.toString('latin1');
    return [...text.matchAll(/\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/g)].map((m) => ({ width: Number(m[1]), height: Number(m[2]) }));
  }

  // pages are the text of each page, from pdftotext.
  pages() {
    const out = execFileSync(this.tools.pdftotext, ['-enc', 'UTF-8', this.file, '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return out.split('\f').slice(0, -1).map((t) => t.replace(/\s+/g, ' ').replace(/[‘’]/g, "'"));
  }

  // pixels renders a page (from 1) at dpi and counts the pixels within a few
  // levels of each colour ("#rrggbb").
  pixels(page, dpi, colours) {
    const prefix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tensionmap-pdf-')), 'page');
    try {
      execFileSync(this.tools.pdftoppm, ['-r', String(dpi), '-f', String(page), '-l', String(page), '-singlefile', this.file, prefix]);
      const ppm = fs.readFileSync(prefix + '.ppm');
      // P6: magic, width, height, maximum, then RGB bytes.
      const head = ppm.toString('latin1', 0, 64).match(/^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/);
      assert.ok(head, 'pdftoppm wrote no PPM');
      const [w, h] = [Number(head[1]), Number(head[2])];
      const data = ppm.subarray(head[0].length);
      const want = colours.map((c) => [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)]);
      const counts = new Array(want.length).fill(0);
      for (let i = 0; i + 2 < w * h * 3; i += 3) {
        for (let k = 0; k < want.length; k++) {
          const [r, g, b] = want[k];
          if (Math.abs(data[i] - r) <= 6 && Math.abs(data[i + 1] - g) <= 6 && Math.abs(data[i + 2] - b) <= 6) { counts[k]++; break; }
        }
      }
      return counts;
    } finally {
      fs.rmSync(path.dirname(prefix), { recursive: true, force: true });
    }
  }
}

// assertA4 checks that every page of a PDF is A4 portrait, by pdfinfo and by the
// page sizes in its bytes.
export function assertA4(pdf) {
  const near = (s) => Math.abs(s.width - A4_POINTS.width) < 2 && Math.abs(s.height - A4_POINTS.height) < 2;
  const sizes = pdf.pageSizes();
  assert.ok(sizes.length > 0, 'the PDF has pages');
  sizes.forEach((s, i) => assert.ok(near(s), `page ${i + 1} is ${s.width} x ${s.height} pt, not A4 (595 x 842)`));
  const boxes = pdf.mediaBoxes();
  assert.ok(boxes.length >= sizes.length, `the PDF declares ${boxes.length} media boxes for ${sizes.length} pages`);
  boxes.forEach((s, i) => assert.ok(near(s), `media box ${i + 1} is ${s.width} x ${s.height} pt, not A4`));
  return sizes.length;
}

// pageWith is the number (from 1) of the first page whose text holds every one of
// texts, or 0.
export function pageWith(pages, ...texts) {
  const i = pages.findIndex((p) => texts.every((t) => p.includes(t)));
  return i + 1;
}

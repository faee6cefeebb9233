// Bundles the map page into web/static/dist: map.js (an ES module with MapLibre GL
// JS and uPlot inside), map.css (their styles and the page's) and MapLibre's worker,
// which the page starts from the same directory. Nothing is fetched from a CDN.
//
//   node build.mjs            minified
//   node build.mjs --dev      readable, with source maps
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '../static/dist');
const dev = process.argv.includes('--dev');

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { map: 'src/main.js' },
  outdir: out,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  minify: !dev,
  sourcemap: dev,
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
  // MapLibre's CSS points its controls' icons at data: URIs, allowed by the CSP.
  loader: { '.svg': 'dataurl', '.png': 'dataurl' },
});

// MapLibre runs its tile parsing in a module worker loaded from next to map.js.
const worker = path.resolve(here, 'node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs');
fs.copyFileSync(worker, path.join(out, 'maplibre-gl-worker.mjs'));
if (dev && fs.existsSync(worker + '.map')) fs.copyFileSync(worker + '.map', path.join(out, 'maplibre-gl-worker.mjs.map'));

for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith('.map')) console.log(`${path.relative(path.resolve(here, '../..'), path.resolve(here, file))}  ${(info.bytes / 1024).toFixed(0)} KiB`);
}

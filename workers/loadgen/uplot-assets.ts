// uPlot's script, stylesheet and licence for the --html page. From source they are read from
// node_modules/uplot when a page is written; scripts/build.ts reads them the same way at build time
// and defines RUNSD_UPLOT in the bundle, so the shipped runsd (dist/workers/loadtest.cjs, and the
// single executable that embeds it) carries them as strings and reads nothing at run time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { UplotAssets } from '../../src/domain/loadgen-html.ts';

declare const RUNSD_UPLOT: UplotAssets | undefined;

/** Reads them from the uplot package beside this checkout (source runs, and the build). */
export function readUplotAssets(): UplotAssets {
  // uplot has no exports map; its main file is dist/uPlot.cjs.js, and the rest sits beside it.
  const main = createRequire(import.meta.url).resolve('uplot');
  const dir = dirname(dirname(main));
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const pkg = JSON.parse(read('package.json')) as { version: string };
  return {
    version: pkg.version,
    js: read('dist/uPlot.iife.min.js'),
    css: read('dist/uPlot.min.css'),
    license: read('LICENSE'),
  };
}

export function uplotAssets(): UplotAssets {
  return typeof RUNSD_UPLOT !== 'undefined' ? RUNSD_UPLOT : readUplotAssets();
}

// Where runsd's threads and its -user helper come from, in each of the three ways runsd runs:
// - source: `.ts` files beside this one (type stripping; dev and tests);
// - bundle: dist/runsd.cjs with dist/workers/<room>.cjs and dist/exec-as.cjs beside it (npm package);
// - single executable (dist/runsd, Node SEA): the same bundle, with every thread's code embedded as
//   an asset and the binary itself as the -user helper, so nothing is read from disk beside it.
// scripts/build.ts defines RUNSD_BUNDLED=true in the bundle; from source the identifier is simply
// undeclared. Whether the bundle runs inside the executable is known only at run time (node:sea).
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

declare const RUNSD_BUNDLED: boolean | undefined;

export const bundled = typeof RUNSD_BUNDLED !== 'undefined' && RUNSD_BUNDLED;

type Sea = typeof import('node:sea');
// node:sea exists from Node 20.12; older Nodes never get this far (node-check.ts).
const sea = bundled ? (process.getBuiltinModule?.('node:sea') as Sea | undefined) : undefined;
export const inSea = sea?.isSea() ?? false;

/** argv[1] of the single executable that makes it the -user helper instead of runsd (main.ts). */
export const EXEC_AS_ARG = '--runsd-internal-exec-as';

/** A worker thread's code: a module file, or (single executable) the name of an embedded asset. */
export type WorkerEntry = URL | { asset: string };

/**
 * A file of the bundle: beside the one running (a CommonJS bundle has __filename; this module is
 * inlined into dist/runsd.cjs and, for the DNS helper, dist/workers/dns.cjs).
 */
function bundleFile(relative: string): URL {
  return new URL(relative, pathToFileURL(__filename));
}

/** Entry of a room's thread: workers/<room>/worker.ts. */
export function roomEntry(room: string): WorkerEntry {
  if (inSea) return { asset: `workers/${room}.cjs` };
  return bundled
    ? bundleFile(`./workers/${room}.cjs`)
    : new URL(`../../workers/${room}/worker.ts`, import.meta.url);
}

/** The DNS room's extra listener threads (workers/dns/helper.ts). */
export function dnsHelperEntry(): WorkerEntry {
  if (inSea) return { asset: 'workers/dns-helper.cjs' };
  return bundled ? bundleFile('./dns-helper.cjs') : new URL('../../workers/dns/helper.ts', import.meta.url);
}

type Loadtest = typeof import('../../workers/loadgen/main.ts');

/**
 * `runsd loadtest` (workers/loadgen/main.ts): from source the module; in the bundle its own file,
 * dist/workers/loadtest.cjs (in the executable, the embedded asset run as a CommonJS module), so
 * dist/runsd.cjs stays the size runsd's start-up needs (+200 KB there cost ~5 ms per start).
 */
export async function loadtestModule(): Promise<Loadtest> {
  // Not a literal: esbuild must not inline the tool into the bundle.
  if (!bundled) return import(new URL('../../workers/loadgen/main.ts', import.meta.url).href);
  if (!inSea) return require(fileURLToPath(bundleFile('./workers/loadtest.cjs')));
  const module = { exports: {} as Loadtest };
  const run = new Function(
    'module',
    'exports',
    'require',
    '__filename',
    '__dirname',
    seaAsset('workers/loadtest.cjs'),
  );
  run(module, module.exports, require, process.execPath, dirname(process.execPath));
  return module.exports;
}

/** An embedded asset of the single executable (only there). */
export function seaAsset(name: string): string {
  if (!sea) throw new Error('seaAsset outside the single executable');
  return sea.getAsset(name, 'utf8');
}

export function startWorker(entry: WorkerEntry, options: WorkerOptions): Worker {
  if (entry instanceof URL) return new Worker(entry, options);
  // The asset is a CommonJS bundle of only Node built-ins; eval'd worker code gets a require().
  return new Worker(sea!.getAsset(entry.asset, 'utf8'), { ...options, eval: true });
}

/** The program and leading arguments that run src/supervisor/exec-as.ts: `… UID GID GROUPS -- CMD ARGS`. */
export function execAsCommand(): { file: string; args: string[] } {
  if (inSea) return { file: process.execPath, args: [EXEC_AS_ARG] };
  const script = bundled ? bundleFile('./exec-as.cjs') : new URL('./exec-as-main.ts', import.meta.url);
  return { file: process.execPath, args: [fileURLToPath(script)] };
}

// Where runsd's threads and its -user helper come from, in each of the three ways runsd runs:
// - source: `.ts` files beside this one (type stripping; dev and tests);
// - bundle: dist/runsd.mjs with dist/workers/<room>.mjs and dist/exec-as.mjs beside it (npm package);
// - single executable (dist/runsd, Node SEA): every thread's code is an asset inside the binary and
//   the -user helper is the binary itself, so nothing is read from disk beside it.
// scripts/build.ts defines RUNSD_BUNDLED=true in the bundles and RUNSD_SEA=true in the executable;
// from source both identifiers are simply undeclared.
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

declare const RUNSD_BUNDLED: boolean | undefined;
declare const RUNSD_SEA: boolean | undefined;

export const bundled = typeof RUNSD_BUNDLED !== 'undefined' && RUNSD_BUNDLED;
export const inSea = typeof RUNSD_SEA !== 'undefined' && RUNSD_SEA;

/** argv[1] of the single executable that makes it the -user helper instead of runsd (src/sea-main.ts). */
export const EXEC_AS_ARG = '--runsd-internal-exec-as';

/** A worker thread's code: a module file, or (single executable) the name of an embedded asset. */
export type WorkerEntry = URL | { asset: string };

/** SIGUSR1 is the child's; Node would open an inspector on it. Installed before any of our code runs. */
export const SIGUSR1_GUARD = 'data:text/javascript,process.on("SIGUSR1",()=>{})';

function seaAsset(name: string): string {
  // node:sea exists only in Node ≥ 20.12 and only means something inside the executable.
  const sea = process.getBuiltinModule('node:sea') as typeof import('node:sea');
  return sea.getAsset(name, 'utf8');
}

/** Entry of a room's thread: workers/<room>/worker.ts. */
export function roomEntry(room: string): WorkerEntry {
  if (inSea) return { asset: `workers/${room}.cjs` };
  return bundled
    ? new URL(`./workers/${room}.mjs`, import.meta.url)
    : new URL(`../../workers/${room}/worker.ts`, import.meta.url);
}

/** The DNS room's extra listener threads (workers/dns/helper.ts). */
export function dnsHelperEntry(): WorkerEntry {
  if (inSea) return { asset: 'workers/dns-helper.cjs' };
  // From the bundle, import.meta.url is dist/workers/dns.mjs (this module is inlined there).
  return bundled
    ? new URL('./dns-helper.mjs', import.meta.url)
    : new URL('../../workers/dns/helper.ts', import.meta.url);
}

export function startWorker(entry: WorkerEntry, options: WorkerOptions): Worker {
  if (entry instanceof URL) return new Worker(entry, options);
  // The asset is a CommonJS bundle of only Node built-ins; eval'd worker code gets a require().
  return new Worker(seaAsset(entry.asset), { ...options, eval: true });
}

/** The program and leading arguments that run src/supervisor/exec-as.ts: `… UID GID GROUPS -- CMD ARGS`. */
export function execAsCommand(): { file: string; args: string[] } {
  if (inSea) return { file: process.execPath, args: [EXEC_AS_ARG] };
  const script = bundled
    ? new URL('./exec-as.mjs', import.meta.url)
    : new URL('./exec-as-main.ts', import.meta.url);
  return { file: process.execPath, args: ['--import', SIGUSR1_GUARD, fileURLToPath(script)] };
}

// The two files a piscina pool needs, in each of the three ways runsd runs (src/supervisor/entries.ts):
// piscina's own worker script and the task module it loads. From source both are where they are.
// In the bundle, scripts/build.ts ships them beside dist/workers/loadtest.cjs as piscina-worker.cjs and
// loadtest-task.cjs and rewrites piscina's `resolve(__dirname, 'worker.js')` to read
// globalThis.RUNSD_PISCINA_WORKER (piscina starts its workers from a file path: in a bundle its
// __dirname is dist/workers). The single executable has no files beside it, so the two embedded assets
// are written to a private temp directory for the run and removed after it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundled, inSea, seaAsset } from '../../src/supervisor/entries.ts';

export interface PoolFiles {
  /** the task module (piscina's `filename`) */
  task: string;
  cleanup(): void;
}

const g = globalThis as { RUNSD_PISCINA_WORKER?: string };

export function poolFiles(): PoolFiles {
  if (!bundled) return { task: fileURLToPath(new URL('./task.ts', import.meta.url)), cleanup: () => {} };
  if (!inSea) {
    const dir = __dirname; // dist/workers: this module is inlined into dist/workers/loadtest.cjs
    g.RUNSD_PISCINA_WORKER = join(dir, 'piscina-worker.cjs');
    return { task: join(dir, 'loadtest-task.cjs'), cleanup: () => {} };
  }
  const dir = mkdtempSync(join(tmpdir(), 'runsd-loadtest-'));
  for (const name of ['piscina-worker.cjs', 'loadtest-task.cjs'])
    writeFileSync(join(dir, name), seaAsset(`workers/${name}`), { mode: 0o600 });
  g.RUNSD_PISCINA_WORKER = join(dir, 'piscina-worker.cjs');
  return {
    task: join(dir, 'loadtest-task.cjs'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// The build under test (npm run build → dist/): tests of the bundle, the npm package and the single
// executable run what was built, and fail — not skip — when it is missing or older than the source,
// since a stale build would prove nothing. `npm test` builds first.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const SEA = join(DIST, 'runsd');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Throws with what to do unless `file` (in dist/) exists and is newer than src/ and workers/. */
export function requireBuilt(file: string): string {
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first (npm test does)`);
  const source = Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'workers')));
  if (statSync(file).mtimeMs < source)
    throw new Error(`${file} is older than the source: run npm run build first (npm test does)`);
  return file;
}

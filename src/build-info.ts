// What was built: the package version, the git revision and the Node it runs on, for --version's
// neighbour runsd_build_info. scripts/build.ts defines RUNSD_REVISION in the bundle (and so in the
// single executable); from a source checkout it is read from git when first asked, else "unknown".
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pkg from '../package.json' with { type: 'json' };

declare const RUNSD_REVISION: string | undefined;

export interface BuildInfo {
  version: string;
  revision: string;
  node_version: string;
}

let info: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  info ??= {
    version: pkg.version,
    revision:
      typeof RUNSD_REVISION !== 'undefined'
        ? RUNSD_REVISION
        : gitRevision(fileURLToPath(new URL('..', import.meta.url))),
    node_version: process.versions.node,
  };
  return info;
}

/** The short revision of the git checkout at `dir` (the build, or a source checkout), else "unknown". */
export function gitRevision(dir: string): string {
  try {
    const r = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return r || 'unknown';
  } catch {
    return 'unknown';
  }
}

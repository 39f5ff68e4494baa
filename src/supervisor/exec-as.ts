// The -user helper, a short-lived process: `exec-as UID GID G1,G2 -- CMD ARGS…`. Sets the
// supplementary groups, gid and uid (in that order: after setuid we could no longer change groups),
// then replaces itself with CMD via execve, so CMD keeps this pid and gets signals directly.
// Messages match child.ts ("runsd: error: CMD: …") so -user does not change what users see.
// Started as exec-as-main.ts (source), dist/exec-as.cjs (bundle) or the single executable itself
// with EXEC_AS_ARG (src/sea-main.ts); see entries.ts.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function fail(status: number, msg: string): never {
  process.stderr.write(`runsd: error: ${msg}\n`);
  process.exit(status);
}

function findCommand(cmd: string, pathEnv: string | undefined): string {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (pathEnv ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((d) => join(d || '.', cmd));
  let denied: { path: string; dir: boolean } | null = null;
  for (const c of candidates) {
    let isFile: boolean;
    try {
      isFile = statSync(c).isFile();
    } catch {
      // Missing, or in a directory this user may not search (e.g. /root/... on PATH): like a
      // shell, that is "not found" there, not "permission denied".
      continue;
    }
    if (!isFile) {
      denied ??= { path: c, dir: true };
      continue;
    }
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      denied ??= { path: c, dir: false };
    }
  }
  if (denied) fail(126, `${cmd}: cannot execute: ${denied.dir ? 'is a directory' : 'permission denied'}`);
  return fail(127, `${cmd}: command not found`);
}

export function execAs(argv: readonly string[]): never {
  const [uid, gid, groups, sep, cmd, ...args] = argv;
  if (sep !== '--' || uid === undefined || gid === undefined || groups === undefined || cmd === undefined) {
    fail(2, 'exec-as: usage: exec-as UID GID GROUPS -- CMD [ARGS...]');
  }
  try {
    process.setgroups!(groups.split(',').filter(Boolean).map(Number));
    process.setgid!(Number(gid));
    process.setuid!(Number(uid));
  } catch (err) {
    fail(126, `cannot switch to uid ${uid} gid ${gid}: ${(err as Error).message}`);
  }
  // Node ignores SIGPIPE and SIGXFSZ, and execve keeps ignored signals ignored: the command would
  // never die of a broken pipe (`cmd | head` would spin). Node cannot set SIG_DFL, but a caught
  // signal is reset to SIG_DFL by execve, so installing a no-op handler is enough. (The non -user
  // path needs none of this: libuv resets every disposition in the children it spawns.)
  for (const sig of ['SIGPIPE', 'SIGXFSZ'] as const) process.on(sig, () => {});
  // Resolve after switching user: what matters is what *that* user may execute.
  const file = findCommand(cmd, process.env['PATH']);
  try {
    process.execve!(file, [cmd, ...args], process.env as Record<string, string>);
  } catch (err) {
    fail(126, `${cmd}: cannot execute: ${(err as Error).message}`);
  }
  return fail(126, `${cmd}: cannot execute: execve returned`);
}

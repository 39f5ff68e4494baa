// Runs as a short-lived process: `exec-as UID GID G1,G2 -- CMD ARGS…`. Sets the supplementary
// groups, gid and uid (in that order: after setuid we could no longer change groups), then
// replaces itself with CMD via execve, so CMD keeps this pid and gets signals directly.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

function fail(status: number, msg: string): never {
  process.stderr.write(`runsd: ${msg}\n`);
  process.exit(status);
}

function findCommand(cmd: string, pathEnv: string | undefined): string {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (pathEnv ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((d) => join(d || '.', cmd));
  let denied: string | null = null;
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) {
        denied ??= c;
        continue;
      }
      accessSync(c, constants.X_OK);
      return c;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') denied ??= c;
    }
  }
  if (denied) fail(126, `${cmd}: cannot execute: permission denied`);
  return fail(127, `${cmd}: command not found`);
}

const [uid, gid, groups, sep, cmd, ...args] = process.argv.slice(2);
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
// Resolve after switching user: what matters is what *that* user may execute.
const file = findCommand(cmd, process.env['PATH']);
try {
  process.execve!(file, [cmd, ...args], process.env as Record<string, string>);
} catch (err) {
  fail(126, `${cmd}: cannot execute: ${(err as Error).message}`);
}

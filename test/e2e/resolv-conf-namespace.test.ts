// As root: the real /etc/resolv.conf path, inside a private net+mount+pid namespace where a temp
// file is bind-mounted over /etc/resolv.conf (the host's file is never touched). runsd is PID 1
// there, as in a container. Checks that the command sees runsd's version and the temp file is
// restored byte for byte, after a normal exit and after SIGTERM.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isRoot, RUNSD, start, tempDir } from './runsd.ts';

const ORIGINAL = 'nameserver 10.1.2.3\nsearch corp.example\noptions edns0\n';

function canUnshare(): string | false {
  if (!isRoot) return 'needs root (unshare --net --mount --pid)';
  try {
    execFileSync('unshare', ['--net', '--mount', '--pid', '--fork', 'true'], { stdio: 'ignore' });
    return false;
  } catch (err) {
    return `unshare --net --mount --pid --fork is not available here: ${(err as Error).message}`;
  }
}
const skip = canUnshare();

/** unshare … sh -c 'lo up; bind-mount FILE over /etc/resolv.conf; exec runsd ARGS -- CMD…' */
function inNamespace(file: string, command: string): string[] {
  // Fixed ports are fine here: the namespace is private and has only lo.
  const runsd = `exec ${RUNSD} -mode=dns -dns_port=53 -http_proxy_port=80 -gcp_region=us-central1 -project_number=123 -- sh -c '${command}'`;
  return [
    '--net',
    '--mount',
    '--pid',
    '--fork',
    'sh',
    '-c',
    `ip link set lo up && mount --bind ${file} /etc/resolv.conf && ${runsd}`,
  ];
}

test('/etc/resolv.conf (bind-mounted temp file) rewritten for the command, restored on exit', {
  skip,
}, async (t) => {
  const file = join(tempDir(t), 'resolv.conf');
  writeFileSync(file, ORIGINAL);
  const r = await start(t, inNamespace(file, 'cat /etc/resolv.conf; exit 5'), { argv0: 'unshare' }).done;
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stdout, /^nameserver 127\.0\.0\.1$/m);
  assert.match(r.stdout, /^search us-central1\.run\.internal run\.internal corp\.example$/m);
  assert.match(r.stdout, /^options ndots:4 edns0$/m);
  assert.equal(readFileSync(file, 'utf8'), ORIGINAL);
});

test('/etc/resolv.conf restored when runsd (PID 1 of the namespace) gets SIGTERM', { skip }, async (t) => {
  const file = join(tempDir(t), 'resolv.conf');
  writeFileSync(file, ORIGINAL);
  const r = start(t, inNamespace(file, 'grep -q 127.0.0.1 /etc/resolv.conf && echo ready; exec sleep 30'), {
    argv0: 'unshare',
  });
  await r.waitFor('ready\n');
  // unshare --fork waits for its child (our sh, which exec'd runsd); signal runsd directly.
  const kids = readFileSync(`/proc/${r.proc.pid}/task/${r.proc.pid}/children`, 'utf8').trim().split(/\s+/);
  assert.equal(kids.length, 1, `unshare should have one child: ${kids.join(' ')}`);
  process.kill(Number(kids[0]), 'SIGTERM');
  const res = await r.done;
  assert.equal(res.code, 143, res.stderr);
  assert.equal(readFileSync(file, 'utf8'), ORIGINAL);
});

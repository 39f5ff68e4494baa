// DNS mode on a temp resolv.conf (-resolv_conf_file): the command sees runsd's version, and the file
// is byte-for-byte the original afterwards on every exit path.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { freePort, isRoot, start, tempDir } from './runsd.ts';

// Odd but valid bytes: comments, CRLF-free tabs, no trailing newline, options to keep.
const ORIGINAL =
  '# from the host\nnameserver 10.1.2.3\nnameserver\t10.1.2.4\nsearch corp.example lab.example\noptions timeout:2 ndots:1 edns0 attempts:3';

async function setup(t: TestContext) {
  const dir = tempDir(t);
  const file = join(dir, 'resolv.conf');
  writeFileSync(file, ORIGINAL);
  const args = [
    '-mode=dns',
    `-dns_port=${await freePort()}`,
    `-http_proxy_port=${await freePort()}`,
    '-gcp_region=us-central1',
    '-project_number=123',
    `-resolv_conf_file=${file}`,
  ];
  return { dir, file, args, restored: () => assert.equal(readFileSync(file, 'utf8'), ORIGINAL) };
}

const skip = isRoot ? false : 'DNS mode checks need root (the rooms bind loopback ports; run as root in CI)';

test('the command sees the rewritten resolv.conf; the original is back after exit 0', { skip }, async (t) => {
  const s = await setup(t);
  const r = await start(t, [...s.args, '--', 'cat', s.file]).done;
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const ns = lines.filter((l) => l.startsWith('nameserver '));
  assert.equal(ns[0], 'nameserver 127.0.0.1');
  assert.ok(ns.length === 1 || (ns.length === 2 && ns[1] === 'nameserver ::1'), r.stdout);
  assert.deepEqual(lines.slice(ns.length), [
    'search us-central1.run.internal run.internal corp.example lab.example',
    'options ndots:4 timeout:2 edns0 attempts:3',
  ]);
  assert.equal(r.stderr, '');
  s.restored();
});

test('restored after the command fails or is killed by a signal', { skip }, async (t) => {
  for (const [script, want] of [
    ['exit 3', 3],
    ['kill -KILL $$', 137],
    ['kill -TERM $$', 143],
  ] as const) {
    const s = await setup(t);
    const r = await start(t, [...s.args, '--', 'sh', '-c', `grep -q 127.0.0.1 ${s.file} && ${script}`]).done;
    assert.equal(r.code, want, `${script}: ${r.stderr}`);
    s.restored();
  }
});

test('restored when runsd is sent SIGTERM/SIGINT/SIGHUP while the command runs', { skip }, async (t) => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const s = await setup(t);
    const r = start(t, [...s.args, '--', 'sh', '-c', `cat ${s.file}; echo ready; exec sleep 30`]);
    await r.waitFor('ready\n');
    assert.match(r.stdout(), /^nameserver 127\.0\.0\.1$/m);
    r.proc.kill(sig);
    const res = await r.done;
    assert.equal(res.code, 128 + { SIGTERM: 15, SIGINT: 2, SIGHUP: 1 }[sig], res.stderr);
    s.restored();
  }
});

test('restored when start-up fails after the rewrite (metrics port already taken)', { skip }, async (t) => {
  // The -metrics_addr listener starts after resolv.conf is written; a port we hold makes it fail.
  // (The dns/proxy rooms are placeholders on this branch; once they bind -dns_port and
  // -http_proxy_port, a taken proxy port is the same kind of failure.)
  const s = await setup(t);
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const marker = join(s.dir, 'ran');
  const r = start(t, ['-v=1', ...s.args, `-metrics_addr=127.0.0.1:${port}`, '--', 'touch', marker]);
  const res = await r.done;
  assert.match(res.stderr, /resolv\.conf rewritten/, 'the failure must come after the rewrite');
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /error: .*(EADDRINUSE|in use)/i);
  assert.equal(existsSync(marker), false, 'the command must not run');
  s.restored();
});

test('restored when runsd is sent SIGTERM at any point of start-up', { skip }, async (t) => {
  // The signal lands at a different start-up stage each round (loading, rooms, rewrite, child); the
  // assertion does not depend on which: the file is the original afterwards and the status is 143.
  for (const delayMs of [0, 20, 60, 120, 200, 300, 450, 700]) {
    const s = await setup(t);
    const r = start(t, [...s.args, '--', 'sh', '-c', 'exec sleep 30']);
    await new Promise((res) => setTimeout(res, delayMs));
    r.proc.kill('SIGTERM');
    const res = await r.done;
    assert.ok(res.code === 143 || res.signal === 'SIGTERM', `after ${delayMs} ms: ${res.code} ${res.signal}`);
    s.restored();
  }
  // And right after runsd says it rewrote the file (before or just after the child starts), with
  // each signal whose default action would kill runsd.
  for (const [sig, n] of [
    ['SIGTERM', 15],
    ['SIGQUIT', 3],
    ['SIGUSR2', 12],
  ] as const) {
    const s = await setup(t);
    const r = start(t, ['-v=1', ...s.args, '--', 'sh', '-c', 'exec sleep 30']);
    await r.waitFor('resolv.conf rewritten', 'stderr');
    r.proc.kill(sig);
    const res = await r.done;
    assert.equal(res.code, 128 + n, `${sig}: ${res.stderr}`);
    s.restored();
  }
});

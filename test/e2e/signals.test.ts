// Every forwardable signal sent to runsd reaches the command (which reports it on stdout), with and
// without -user; an untrapped SIGTERM kills the command and runsd exits 128+15.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { start } from './runsd.ts';

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

// The child traps SIG, says "ready", and on SIG prints "got SIG" and exits 0. `sleep & wait` keeps
// the shell interruptible; the trap kills the sleeper so nothing holds our stdout open.
function trapScript(sig: string): string {
  const name = sig.replace(/^SIG/, '');
  return `trap 'echo got ${name}; kill $s 2>/dev/null; exit 0' ${name}; echo ready; while :; do sleep 5 & s=$!; wait $s; done`;
}

for (const user of [null, 'nobody']) {
  for (const sig of FORWARDED) {
    test(`${sig} is forwarded to the command${user ? ` (-user ${user})` : ''}`, async (t) => {
      const args = [...(user ? [`-user=${user}`] : []), '--', 'sh', '-c', trapScript(sig)];
      const r = start(t, args);
      await r.waitFor('ready\n');
      r.proc.kill(sig);
      const res = await r.done;
      assert.equal(res.stdout, `ready\ngot ${sig.slice(3)}\n`, res.stderr);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(res.stderr, '');
    });
  }
}

test('several signals in a row all arrive, in order', async (t) => {
  const script =
    `for s in HUP USR1 USR2 WINCH; do trap "echo got $s" $s; done; trap 'echo got TERM; kill $p; exit 7' TERM; ` +
    `echo ready; while :; do sleep 5 & p=$!; wait $p; done`;
  const r = start(t, ['--', 'sh', '-c', script]);
  await r.waitFor('ready\n');
  for (const sig of ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) {
    const name = sig.slice(3);
    r.proc.kill(sig);
    await r.waitFor(`got ${name}\n`);
  }
  r.proc.kill('SIGTERM');
  const res = await r.done;
  assert.equal(res.stdout, 'ready\ngot HUP\ngot USR1\ngot USR2\ngot WINCH\ngot TERM\n');
  assert.equal(res.code, 7, "the exit status after a handled signal is the command's own");
});

test('an untrapped forwarded SIGTERM kills the command: runsd exits 143', async (t) => {
  const r = start(t, ['--', 'sh', '-c', 'echo ready; exec sleep 30']);
  await r.waitFor('ready\n');
  r.proc.kill('SIGTERM');
  const res = await r.done;
  assert.equal(res.code, 143);
  assert.equal(res.signal, null, 'runsd itself exits normally with the status');
});

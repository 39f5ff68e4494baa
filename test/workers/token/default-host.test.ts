// No -metadata_host: metadata.google.internal is resolved through the original nameservers and
// reached on port 80. Needs port 80 and a resolver we control, so it runs in a private network
// namespace (root; skipped otherwise) where the host's resolv.conf points nowhere reachable.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const probe = new URL('./fixtures/default-host-probe.ts', import.meta.url).pathname;

test('default metadata host: resolved via the upstream nameserver, reached on :80, token and facts', {
  skip: process.getuid?.() !== 0 ? 'needs root for unshare --net' : false,
}, async () => {
  const { stdout } = await run(
    'unshare',
    ['--net', '--fork', 'sh', '-c', 'ip link set lo up && exec "$0" "$1"', process.execPath, probe],
    { timeout: 30_000 },
  );
  const out = JSON.parse(stdout.trim().split('\n').pop()!);
  assert.equal(out.error, undefined);
  assert.equal(out.aud, 'https://svc-7.us-east4.run.app');
  assert.deepEqual(out.facts, { region: 'us-east4', projectNumber: '7', projectId: 'emulated-project' });
  assert.equal(out.identityCalls, 1);
  assert.ok(out.metadataQueries >= 1, 'asked the upstream nameserver');
});

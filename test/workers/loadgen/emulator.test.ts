// `npm run loadgen -- --emulator`: the emulator + the real bin/runsd (env mode, no root), loaded for
// 1 s through runsd's proxy. Everything on loopback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadgen } from './run-cli.ts';

test('--emulator loads http://hello/ through the real runsd; one identity call for the whole run', async () => {
  const r = await loadgen(['--emulator', '--duration', '1', '--threads', '2', '--connections', '2']);
  assert.equal(r.target.url, 'http://hello/');
  assert.match(r.target.proxy ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok((r.statuses['200'] ?? 0) > 0, JSON.stringify(r.statuses));
  assert.equal(r.ok, r.responses);
  assert.deepEqual(r.errors, {});
  assert.deepEqual(r.runsdErrors, {});
  // runsd caches the ID token: one identity call for the one audience, however many requests
  assert.deepEqual(r.emulator?.identityCalls, { 'https://hello-123456789012.us-central1.run.app': 1 });
  assert.ok(r.responses > 1);
});

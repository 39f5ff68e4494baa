// Env mode's CONNECT: targets it refuses (and why), and a tunnel to a service that carries the request
// in the same write or garbage. The proxy answers clearly and keeps serving.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { healthy, raw, statusOf } from '../../helpers/proxy-probes.ts';
import { env, useFakeUpstream } from '../../helpers/proxy-suite.ts';

useFakeUpstream({ env: true });

for (const [target, status, code] of [
  [':80', 400, 'RUNSD_BAD_HOST'],
  ['[::1', 403, 'RUNSD_NOT_RELAY'],
  ['example.com:80', 403, 'RUNSD_NOT_RELAY'],
  ['127.0.0.1:80', 403, 'RUNSD_NOT_RELAY'],
  ['hello:443', 403, 'RUNSD_NOT_RELAY'],
  ['127.0.0.1:99999', 403, 'RUNSD_NOT_RELAY'],
  ['Bad_Name:80', 400, 'RUNSD_BAD_HOST'],
] as const) {
  test(`CONNECT ${target} → ${status} ${code}`, async () => {
    const got = await raw(env.port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    assert.equal(statusOf(got), status, got);
    assert.match(got, new RegExp(`X-Runsd-Error: ${code}`));
    await healthy(env);
  });
}

test('CONNECT hello:80 with the tunnelled request in the same write', async () => {
  const got = await raw(
    env.port,
    'CONNECT hello:80 HTTP/1.1\r\nHost: hello:80\r\n\r\nGET /inside HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n',
  );
  assert.match(got, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 /);
  assert.match(got, /"path":"\/inside"/);
  await healthy(env);
});

test('CONNECT hello:80 then garbage inside the tunnel → 400, proxy serves on', async () => {
  const got = await raw(
    env.port,
    'CONNECT hello:80 HTTP/1.1\r\nHost: hello:80\r\n\r\n\x16\x03\x01\x02\x00garbage\r\n\r\n',
  );
  assert.match(got, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 400 /);
  await healthy(env);
});

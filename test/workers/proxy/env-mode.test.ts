// Env mode: the app uses the proxy as HTTP_PROXY. Internal names get the token; other http:// hosts
// are forwarded untouched (no token); CONNECT is tunnelled for internal names only.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

const run = promisify(execFile);
let up: FakeUpstream;
let f: Fixture;
let plain: http.Server;
let plainPort: number;
const AUD = 'https://hello-123456789012.us-central1.run.app';

before(async () => {
  up = await startFakeUpstream();
  f = await startProxy(up, { mode: 'env' });
  plain = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainPort = (plain.address() as AddressInfo).port;
});
after(async () => {
  await f.proxy.close();
  await up.close();
  plain.closeAllConnections();
  await new Promise((r) => plain.close(r));
});

test('absolute-form GET http://hello/… gets the token', async () => {
  const { stdout } = await run('curl', ['-sS', '-x', `http://127.0.0.1:${f.port}`, 'http://hello/abs?q=1']);
  const got = JSON.parse(stdout);
  assert.equal(got.path, '/abs?q=1');
  assert.equal(got.headers['x-serverless-authorization'], `Bearer tok-for-${AUD}`);
});

test('other http:// hosts are forwarded without a token', async () => {
  const { stdout } = await run('curl', [
    '-sS',
    '--noproxy',
    '',
    '-x',
    `http://127.0.0.1:${f.port}`,
    `http://127.0.0.1:${plainPort}/ext?x=2`,
  ]);
  const got = JSON.parse(stdout);
  assert.equal(got.url, '/ext?x=2');
  assert.equal(got.headers['x-serverless-authorization'], undefined);
  assert.equal(got.headers['proxy-connection'], undefined);
  assert.equal(f.tokenCalls.filter((a) => a.includes('127.0.0.1')).length, 0);
});

test('CONNECT hello:80 is tunnelled, for HTTP/1.1 and h2c inside', async () => {
  for (const extra of [[], ['--http2-prior-knowledge']]) {
    const { stdout } = await run('curl', [
      '-sS',
      '-p',
      '-x',
      `http://127.0.0.1:${f.port}`,
      ...extra,
      'http://hello/tunnel',
    ]);
    const got = JSON.parse(stdout);
    assert.equal(got.path, '/tunnel');
    assert.equal(got.headers['x-serverless-authorization'], `Bearer tok-for-${AUD}`);
  }
});

test('CONNECT to an external name is refused', async () => {
  const r = await run('curl', [
    '-sS',
    '-p',
    '-x',
    `http://127.0.0.1:${f.port}`,
    `http://127.0.0.1:${plainPort}/`,
  ]).catch((e: { stderr: string }) => e);
  assert.match(String((r as { stderr: string }).stderr), /403/);
});

test('an origin-form request for an external name is refused (no loops through ourselves)', async () => {
  const { stdout } = await run('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `http://127.0.0.1:${f.port}/`,
  ]);
  assert.equal(stdout, '403');
});

test("Node's fetch with NODE_USE_ENV_PROXY=1 reaches http://hello", async () => {
  const { stdout } = await run(
    process.execPath,
    [
      '-e',
      "fetch('http://hello/node').then((r) => r.json()).then((j) => console.log(j.path, j.headers['x-serverless-authorization']))",
    ],
    { env: { ...process.env, HTTP_PROXY: `http://127.0.0.1:${f.port}`, NODE_USE_ENV_PROXY: '1' } },
  );
  assert.equal(stdout.trim(), `/node Bearer tok-for-${AUD}`);
});

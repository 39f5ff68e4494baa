// The proxy in-process against a TLS h2/HTTP/1.1 upstream on loopback, driven by real clients (curl,
// Python): HTTP/1.1 and h2c, host forms, headers, status codes and where the token goes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startProxy } from '../../helpers/proxy-fixture.ts';
import { AUD, curl, f, run, up, useFakeUpstream } from '../../helpers/proxy-suite.ts';

useFakeUpstream({ dns: true });

test('HTTP/1.1 with keep-alive: path, query, token in X-Serverless-Authorization, Authorization intact', async () => {
  const { stdout, stderr } = await curl([
    '-v',
    '-H',
    'Authorization: Basic dXNlcjpwYXNz',
    `http://hello:${f.port}/one?a=1&b=2`,
    `http://hello:${f.port}/two`,
  ]);
  const [one, two] = stdout.split('}{').map((s, i) => JSON.parse(i === 0 ? `${s}}` : `{${s}`));
  assert.equal(one.path, '/one?a=1&b=2');
  assert.equal(two.path, '/two');
  assert.equal(one.host, 'hello-123456789012.us-central1.run.app');
  assert.equal(one.headers['x-serverless-authorization'], `Bearer tok-for-${AUD}`);
  assert.equal(one.headers['authorization'], 'Basic dXNlcjpwYXNz');
  assert.match(stderr, /Re-using existing connection/);
});

test('h2c with prior knowledge, and every host form', async () => {
  for (const [host, aud] of [
    ['hello', AUD],
    ['hello.europe-west1', 'https://hello-123456789012.europe-west1.run.app'],
    ['hello.europe-west1.run.internal', 'https://hello-123456789012.europe-west1.run.app'],
    ['HELLO.', AUD],
  ] as const) {
    const { stdout } = await curl(
      ['--http2-prior-knowledge', '-w', '\\n%{http_version}', `http://${host}:${f.port}/x`],
      host,
    );
    const [body, version] = stdout.split('\n');
    assert.equal(version, '2', host);
    const got = JSON.parse(body!);
    assert.equal(`https://${got.host}`, aud, host);
    assert.equal(got.headers['x-serverless-authorization'], `Bearer tok-for-${aud}`);
  }
});

test('Upgrade: h2c is served as HTTP/1.1 (never an error)', async () => {
  const { stdout } = await curl([
    '--http2',
    '-w',
    '\\n%{http_version} %{http_code}',
    `http://hello:${f.port}/u`,
  ]);
  const [body, tail] = stdout.split('\n');
  assert.equal(tail, '1.1 200');
  const got = JSON.parse(body!);
  assert.equal(got.headers['upgrade'], undefined);
  assert.equal(got.headers['http2-settings'], undefined);
});

test('a client-supplied X-Serverless-Authorization is never overwritten', async () => {
  const { stdout } = await curl(['-H', 'X-Serverless-Authorization: Bearer mine', `http://hello:${f.port}/`]);
  assert.equal(JSON.parse(stdout).headers['x-serverless-authorization'], 'Bearer mine');
});

test('hop-by-hop headers are dropped, end-to-end ones kept', async () => {
  const { stdout } = await curl([
    '-H',
    'Connection: keep-alive, X-Hop',
    '-H',
    'X-Hop: 1',
    '-H',
    'Proxy-Authorization: Basic x',
    '-H',
    'X-Keep: 2',
    `http://hello:${f.port}/`,
  ]);
  const h = JSON.parse(stdout).headers;
  assert.equal(h['x-hop'], undefined);
  assert.equal(h['proxy-authorization'], undefined);
  assert.equal(h['x-keep'], '2');
});

test('Python urllib', async () => {
  const py = `import urllib.request,json
r=urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:${f.port}/py', headers={'Host':'hello'}))
print(r.status, json.loads(r.read())['headers']['x-serverless-authorization'])`;
  const { stdout } = await run('python3', ['-c', py]);
  assert.equal(stdout.trim(), `200 Bearer tok-for-${AUD}`);
});

test('upstream status codes pass through', async () => {
  const { stdout } = await curl([
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    `http://hello:${f.port}/?status=418`,
  ]);
  assert.equal(stdout, '418');
});

test('-auth_header=authorization: the token goes in Authorization, only when absent', async (t) => {
  const g = await startProxy(up, { authHeader: 'authorization', host6: '::1' });
  t.after(() => g.proxy.close());
  const ask = async (args: string[], host = '127.0.0.1') => {
    const { stdout } = await run('curl', ['-sS', '-H', 'Host: hello', ...args, `http://${host}:${g.port}/`]);
    return JSON.parse(stdout).headers;
  };
  const none = await ask([]);
  assert.equal(none['authorization'], `Bearer tok-for-${AUD}`);
  assert.equal(none['x-serverless-authorization'], undefined);
  const own = await ask(['-H', 'Authorization: Bearer app-token']);
  assert.equal(own['authorization'], 'Bearer app-token');
  // The same port answers on [::1] too (DNS mode with IPv6).
  assert.equal(g.proxy.ports.length, 2);
  assert.equal((await ask([], '[::1]'))['authorization'], `Bearer tok-for-${AUD}`);
});

test('a token held locally is used without asking the source; a rotated one replaces it', async (t) => {
  let held: string | null = null;
  const asked: string[] = [];
  const g = await startProxy(
    up,
    {},
    {
      cached: (aud) => (held === null ? null : `${held}-${aud}`),
      get: async (aud) => {
        asked.push(aud);
        return `fetched-${aud}`;
      },
    },
  );
  t.after(() => g.proxy.close());
  const token = async () => {
    const { stdout } = await run('curl', ['-sS', '-H', 'Host: hello', `http://127.0.0.1:${g.port}/`]);
    return JSON.parse(stdout).headers['x-serverless-authorization'];
  };
  assert.equal(await token(), `Bearer fetched-${AUD}`, 'a miss waits for get()');
  held = 'one';
  for (let i = 0; i < 5; i++) assert.equal(await token(), `Bearer one-${AUD}`);
  held = 'two';
  assert.equal(await token(), `Bearer two-${AUD}`, 'a rotated token is not shadowed by the cached header');
  assert.deepEqual(asked, [AUD]);
});

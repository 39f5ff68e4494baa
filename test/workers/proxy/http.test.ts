// The proxy in-process against a TLS h2/HTTP/1.1 upstream on loopback, driven by real clients.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

const run = promisify(execFile);
let up: FakeUpstream;
let f: Fixture;

before(async () => {
  up = await startFakeUpstream();
  f = await startProxy(up);
});
after(async () => {
  await f.proxy.close();
  await up.close();
});

const AUD = 'https://hello-123456789012.us-central1.run.app';

function curl(args: string[], host = 'hello') {
  return run('curl', ['-sS', '--resolve', `${host}:${f.port}:127.0.0.1`, ...args], { maxBuffer: 64 << 20 });
}

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

test('16 MiB upload and download keep their sha256', async () => {
  const big = Buffer.alloc(16 << 20);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  const sha = createHash('sha256').update(big).digest('hex');
  const res = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: f.port, method: 'POST', path: '/upload', headers: { host: 'hello' } },
      (r) => {
        let s = '';
        r.on('data', (d) => (s += d));
        r.on('end', () => resolve(s));
      },
    );
    req.on('error', reject);
    req.end(big);
  });
  const got = JSON.parse(res);
  assert.equal(got.size, big.length);
  assert.equal(got.sha256, sha);

  const n = 16 << 20;
  const { stdout } = await run(
    'sh',
    [
      '-c',
      `curl -sS --http2-prior-knowledge -H 'Host: hello' http://127.0.0.1:${f.port}/bytes?n=${n} | sha256sum`,
    ],
    { maxBuffer: 1 << 20 },
  );
  const expect = createHash('sha256');
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let left = n; left > 0; left -= chunk.length)
    expect.update(chunk.subarray(0, Math.min(left, chunk.length)));
  assert.equal(stdout.split(' ')[0], expect.digest('hex'));
});

test('SSE events arrive one by one, not at the end', async () => {
  const arrivals = await new Promise<string[]>((resolve, reject) => {
    const got: string[] = [];
    http
      .get({ host: '127.0.0.1', port: f.port, path: '/sse', headers: { host: 'hello' } }, (r) => {
        r.setEncoding('utf8');
        r.on('data', (d: string) => got.push(d));
        r.on('end', () => resolve(got));
      })
      .on('error', reject);
  });
  // Three events, each in its own chunk: they were flushed as they came.
  assert.deepEqual(
    arrivals.filter((a) => a.startsWith('data:')),
    ['data: 0\n\n', 'data: 1\n\n', 'data: 2\n\n'],
  );
});

test('response trailers reach an h2c client that asked for them', async () => {
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  after(() => c.close());
  const r = await new Promise<{ body: string; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
    const s = c.request({ ':path': '/trailers', ':authority': 'hello', te: 'trailers' });
    let body = '';
    let trailers: http2.IncomingHttpHeaders = {};
    s.on('trailers', (t) => (trailers = t));
    s.on('data', (d) => (body += d));
    s.on('end', () => resolve({ body, trailers }));
    s.on('error', reject);
  });
  assert.equal(r.body, 'body');
  assert.equal(r.trailers['x-checksum'], 'abc');
});

/** POSTs a chunked body with request trailers through the proxy at `port`, over HTTP/1.1 or h2c. */
async function postWithTrailers(port: number, h2c: boolean): Promise<{ trailers: unknown; size: number }> {
  const trailers = { 'x-checksum': 'sha256=abc', 'grpc-status': '0' };
  const body = Buffer.alloc(100_000, 1);
  const text = await new Promise<string>((resolve, reject) => {
    let out = '';
    if (h2c) {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', reject);
      const req = session.request(
        { ':method': 'POST', ':path': '/t', ':authority': 'hello', trailer: 'x-checksum, grpc-status' },
        { waitForTrailers: true },
      );
      req.on('wantTrailers', () => req.sendTrailers(trailers));
      req.setEncoding('utf8');
      req.on('data', (d: string) => (out += d));
      req.on('end', () => {
        session.close();
        resolve(out);
      });
      req.on('error', reject);
      req.end(body);
    } else {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/t',
          headers: { host: 'hello', trailer: 'x-checksum, grpc-status' },
        },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (d: string) => (out += d));
          res.on('end', () => resolve(out));
        },
      );
      req.on('error', reject);
      req.write(body);
      req.addTrailers(trailers);
      req.end();
    }
  });
  const echo = JSON.parse(text);
  return { trailers: echo.trailers, size: echo.size };
}

test('request trailers reach the upstream, from HTTP/1.1 and h2c clients, over h2 and HTTP/1.1 upstreams', async (t) => {
  const h1up = await startFakeUpstream({ h1Only: true });
  const g = await startProxy(h1up);
  t.after(async () => {
    await g.proxy.close();
    await h1up.close();
  });
  const want = { 'x-checksum': 'sha256=abc', 'grpc-status': '0' };
  for (const [name, port, h2c] of [
    ['HTTP/1.1 → h2', f.port, false],
    ['h2c → h2', f.port, true],
    ['HTTP/1.1 → HTTP/1.1', g.port, false],
    ['h2c → HTTP/1.1', g.port, true],
  ] as const) {
    const r = await postWithTrailers(port, h2c);
    assert.equal(r.size, 100_000, name);
    assert.deepEqual({ ...(r.trailers as object) }, want, name);
  }
});

test('a body with both Content-Length and a Trailer header does not take the proxy down (HTTP/1.1 upstream)', async (t) => {
  const h1up = await startFakeUpstream({ h1Only: true });
  const g = await startProxy(h1up);
  t.after(async () => {
    await g.proxy.close();
    await h1up.close();
  });
  // h2c may carry content-length and trailers together: they reach the HTTP/1.1 upstream (chunked).
  const h2 = await new Promise<{ size: number; trailers: unknown }>((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${g.port}`);
    session.on('error', reject);
    const req = session.request(
      { ':method': 'POST', ':path': '/cl', ':authority': 'hello', trailer: 'x-c', 'content-length': '5' },
      { waitForTrailers: true },
    );
    req.on('wantTrailers', () => req.sendTrailers({ 'x-c': 'v' }));
    let out = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (out += d));
    req.on('end', () => {
      session.close();
      resolve(JSON.parse(out));
    });
    req.on('error', reject);
    setTimeout(() => req.end('hello'), 50); // after the upstream request has started
  });
  assert.equal(h2.size, 5);
  assert.deepEqual({ ...(h2.trailers as object) }, { 'x-c': 'v' });
  // HTTP/1.1 with Content-Length cannot have trailers; the announcement alone must not hurt.
  const raw = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(g.port, '127.0.0.1', () => {
      sock.write(
        'POST /cl HTTP/1.1\r\nHost: hello\r\nContent-Length: 5\r\nTrailer: x-c\r\nConnection: close\r\n\r\n',
      );
      setTimeout(() => sock.write('hello'), 50);
    });
    let out = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (out += d));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
  assert.match(raw, /^HTTP\/1\.1 200 /);
  assert.match(raw, /"size":5,/); // the body may be chunked: no JSON.parse of the raw bytes
  // Still serving.
  const { stdout } = await run('curl', ['-sS', '-H', 'Host: hello', `http://127.0.0.1:${g.port}/after`]);
  assert.equal(JSON.parse(stdout).path, '/after');
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

test('clients that vanish mid-upload or mid-download do not hurt the proxy', async () => {
  // Upload: half a body, then the socket is destroyed.
  await new Promise<void>((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port: f.port,
      method: 'POST',
      path: '/upload',
      headers: { host: 'hello', 'content-length': String(8 << 20) },
    });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(1 << 20));
    setTimeout(() => req.destroy(), 50);
  });
  // Download over h2c: the stream is reset after the first chunk.
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  await new Promise<void>((resolve) => {
    const s = c.request({ ':path': `/bytes?n=${16 << 20}`, ':authority': 'hello' });
    s.once('data', () => {
      s.close(http2.constants.NGHTTP2_CANCEL);
      resolve();
    });
    s.on('error', () => resolve());
  });
  c.close();
  // Still serving.
  const { stdout } = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://hello:${f.port}/after`]);
  assert.equal(stdout, '200');
});

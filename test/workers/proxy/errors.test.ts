// Responses the proxy makes itself: status, x-runsd-error, a body naming host and cause.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';
import { RunsdError } from '../../../src/errors.ts';
import { startFakeUpstream } from '../../helpers/fake-upstream.ts';
import { FACTS, type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

function get(f: Fixture, host: string, path = '/') {
  return new Promise<{ status: number; code: string | undefined; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: f.port, path, headers: { host }, agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => (body += d));
        r.on('end', () =>
          resolve({
            status: r.statusCode ?? 0,
            code: r.headers['x-runsd-error'] as string | undefined,
            body,
          }),
        );
      })
      .on('error', reject);
  });
}

test('400 for a host that cannot be a service; 403 for external names in DNS mode', async (t) => {
  const up = await startFakeUpstream();
  const f = await startProxy(up);
  const g = await startProxy(up, { projectNumber: '12345678901234' });
  t.after(async () => {
    await f.proxy.close();
    await g.proxy.close();
    await up.close();
  });
  const bad = await get(f, 'bad_name');
  assert.equal(bad.status, 400);
  assert.equal(bad.code, 'RUNSD_BAD_HOST');
  assert.match(bad.body, /bad_name.*not a Cloud Run service name/);
  const long = await get(g, `${'a'.repeat(49)}.us-central1`);
  assert.equal(long.status, 400);
  assert.match(long.body, /over the DNS limit of 63/);
  const ext = await get(f, 'www.example.com');
  assert.equal(ext.status, 403);
  assert.equal(ext.code, 'RUNSD_NOT_RELAY');
  assert.match(ext.body, /www\.example\.com.*not an open relay/);
  assert.equal(up.requests, 0);
});

test('503 when the token cannot be had, or a fact is missing', async (t) => {
  const up = await startFakeUpstream();
  const f = await startProxy(
    up,
    {},
    {
      get: async () => {
        throw new RunsdError('RUNSD_TOKEN_FETCH', 'metadata server said 500');
      },
    },
  );
  const g = await startProxy(up, {}, undefined, { ...FACTS, region: null, projectNumber: null });
  t.after(async () => {
    await f.proxy.close();
    await g.proxy.close();
    await up.close();
  });
  const tok = await get(f, 'hello');
  assert.equal(tok.status, 503);
  assert.equal(tok.code, 'RUNSD_TOKEN_FETCH');
  assert.match(tok.body, /hello.*metadata server said 500/);
  const region = await get(g, 'hello');
  assert.equal(region.status, 503);
  assert.equal(region.code, 'RUNSD_FACT_MISSING');
  assert.match(region.body, /own region/);
  const num = await get(g, 'hello.us-east1');
  assert.equal(num.status, 503);
  assert.match(num.body, /project number/);
  // Facts arriving later are used at once.
  g.proxy.setFacts(FACTS);
  assert.equal((await get(g, 'hello')).status, 200);
  assert.equal(up.requests, 1);
});

test('502 when the upstream is unreachable or its certificate is not trusted', async (t) => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as net.AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const up = await startFakeUpstream();
  const f = await startProxy({ port: deadPort, caPem: up.caPem });
  const g = await startProxy({ port: up.port, caPem: '' });
  t.after(async () => {
    await f.proxy.close();
    await g.proxy.close();
    await up.close();
  });
  const r = await get(f, 'hello');
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_CONNECT');
  assert.match(r.body, /hello.*hello-123456789012\.us-central1\.run\.app.*ECONNREFUSED/);
  const tls = await get(g, 'hello');
  assert.equal(tls.status, 502);
  assert.match(tls.body, /TLS handshake/);
});

test('504 when the upstream does not answer in time; h2c clients get the same', async (t) => {
  // A TLS-less black hole: accepts TCP and never answers the handshake.
  const hole = net.createServer((s) => s.resume());
  await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
  const f = await startProxy(
    { port: (hole.address() as net.AddressInfo).port, caPem: '' },
    { connectTimeoutMs: 200, timeoutMs: 200 },
  );
  t.after(async () => {
    await f.proxy.close();
    await new Promise((r) => hole.close(r));
  });
  const r = await get(f, 'hello');
  assert.equal(r.status, 504);
  assert.equal(r.code, 'RUNSD_UPSTREAM_TIMEOUT');
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  t.after(() => c.close());
  const h = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    const s = c.request({ ':path': '/', ':authority': 'hello' });
    s.on('response', resolve);
    s.on('error', reject);
    s.resume();
  });
  assert.equal(h[':status'], 504);
  assert.equal(h['x-runsd-error'], 'RUNSD_UPSTREAM_TIMEOUT');
});

test('errors are counted by code', async (t) => {
  const up = await startFakeUpstream();
  const f = await startProxy(up);
  t.after(async () => {
    await f.proxy.close();
    await up.close();
  });
  await get(f, 'bad_name');
  await get(f, 'hello');
  const text = await f.registry.metrics();
  assert.match(text, /runsd_proxy_errors_total\{code="RUNSD_BAD_HOST"\} 1/);
  // Issue 13: the region, and the exact status for 4xx (the refused bad_name is a 400).
  assert.match(
    text,
    /runsd_proxy_requests_total\{service="hello",region="us-central1",protocol="http1",code_class="2xx"\} 1/,
  );
  assert.match(
    text,
    /runsd_proxy_requests_total\{service="-",region="",protocol="http1",code_class="4xx",code="400"\} 1/,
  );
  assert.match(
    text,
    /runsd_proxy_request_duration_seconds_count\{service="hello",protocol="http1",code_class="2xx"\} 1/,
  );
  assert.match(text, /runsd_proxy_upstream_sessions 1/);
});

function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.end(request));
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (out += d));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
  });
}

test('a malformed absolute URL gets a 400 naming it, and the proxy keeps serving', async (t) => {
  const up = await startFakeUpstream();
  const f = await startProxy(up);
  t.after(async () => {
    await f.proxy.close();
    await up.close();
  });
  for (const target of ['http://%zz/', 'http://[::1/x']) {
    for (const upgrade of ['', 'Connection: Upgrade\r\nUpgrade: websocket\r\n']) {
      const out = await raw(
        f.port,
        `GET ${target} HTTP/1.1\r\nHost: hello\r\n${upgrade}Connection: close\r\n\r\n`,
      );
      // Either "not a service name" (400) or "not an internal name" (403): a clear answer, no crash.
      assert.match(out, /^HTTP\/1\.1 40[03] /, `${target} ${upgrade}`);
      assert.match(out, /x-runsd-error: RUNSD_(BAD_HOST|NOT_RELAY)/i);
    }
  }
  assert.equal((await get(f, 'hello')).status, 200);
});

test('an interim response without a final one still ends in a 504', { timeout: 10_000 }, async (t) => {
  const up = await startFakeUpstream();
  const f = await startProxy(up, { timeoutMs: 300 });
  t.after(async () => {
    await f.proxy.close();
    await up.close();
  });
  const r = await get(f, 'hello', '/interim-then-silence');
  assert.equal(r.status, 504);
  assert.equal(r.code, 'RUNSD_UPSTREAM_TIMEOUT');
});

test('CONNECT over h2c gets a 405 and opens no upstream connection', async (t) => {
  const up = await startFakeUpstream();
  const f = await startProxy(up);
  t.after(async () => {
    await f.proxy.close();
    await up.close();
  });
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  t.after(() => c.close());
  const h = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    const s = c.request({ ':method': 'CONNECT', ':authority': 'hello:80' });
    s.on('response', resolve);
    s.on('error', reject);
    s.resume();
  });
  assert.equal(h[':status'], 405);
  assert.equal(h['x-runsd-error'], 'RUNSD_METHOD');
  assert.equal(up.requests, 0);
});

test('a connection that stays silent before its first bytes is closed; one that speaks is served', {
  timeout: 10_000,
}, async (t) => {
  const up = await startFakeUpstream();
  const f = await startProxy(up, { firstBytesTimeoutMs: 300 });
  t.after(async () => {
    await f.proxy.close();
    await up.close();
  });
  const closedAfter = (first: string) =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const s = net.connect(f.port, '127.0.0.1', () => {
        if (first) s.write(first);
      });
      s.on('error', reject);
      s.on('close', () => resolve(performance.now() - started));
      s.resume();
    });
  // Nothing at all, and a preface cut short (too few bytes to choose HTTP/1.1 or h2c).
  for (const first of ['', 'PR']) {
    const ms = await closedAfter(first);
    assert.ok(ms >= 250, `closed after ${ms.toFixed(0)} ms, before the 300 ms budget (${first || 'silent'})`);
  }
  // Once the first bytes arrived the budget is off: a request line, then the rest of the headers
  // well past 300 ms, is served.
  const slow = await new Promise<number>((resolve, reject) => {
    const s = net.connect(f.port, '127.0.0.1', () => {
      s.write('GET / HTTP/1.1\r\n');
      setTimeout(() => s.write('Host: hello\r\nConnection: close\r\n\r\n'), 600);
    });
    let head = '';
    s.on('data', (d: Buffer) => (head ||= d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)));
  });
  assert.equal(slow, 200);
});

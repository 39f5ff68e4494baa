// An h2 upstream that fails mid-way: a dropped connection, GOAWAY with an error code, resets with
// REFUSED_STREAM, INTERNAL_ERROR or NO_ERROR, Content-Length beside a Trailer header, and a pooled
// session that reaches its idle timeout. The client sees a 502 or a cut, never a clean end of a
// broken body, and the proxy keeps serving.
import assert from 'node:assert/strict';
import type dns from 'node:dns';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type { LookupFunction } from 'node:net';
import { test } from 'node:test';
import { UpstreamPool, upstreamSecureContext } from '../../../workers/proxy/upstream-pool.ts';
import { testCert } from '../../helpers/fake-upstream.ts';
import { startProxy } from '../../helpers/proxy-fixture.ts';
import { get, healthy, listen, proxyInFrontOf } from '../../helpers/proxy-probes.ts';
import { up, useFakeUpstream } from '../../helpers/proxy-suite.ts';

useFakeUpstream();

function h2Upstream(onStream: (s: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders) => void) {
  const { cert, key } = testCert();
  const srv = http2.createSecureServer({ cert, key });
  srv.on('stream', (s, h) => {
    s.on('error', () => {});
    if (h[':path'] === '/after') {
      s.respond({ ':status': 200 });
      s.end('ok');
      return;
    }
    onStream(s, h);
  });
  srv.on('sessionError', () => {});
  return srv;
}

test('h2 upstream drops the TCP connection mid-response → client sees a cut, proxy serves on', async (t) => {
  const srv = h2Upstream((s) => {
    s.respond({ ':status': 200, 'content-length': '100' });
    s.write('abc', () => setTimeout(() => s.session?.socket.destroy(), 20));
  });
  const f = await proxyInFrontOf(t, srv);
  const r = await new Promise<{ status: number; aborted: boolean }>((resolve, reject) => {
    http
      .get(
        { host: '127.0.0.1', port: f.port, path: '/cut', headers: { host: 'hello' }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, aborted: false }));
          res.on('error', () => resolve({ status: res.statusCode ?? 0, aborted: true }));
        },
      )
      .on('error', reject);
  });
  assert.deepEqual(r, { status: 200, aborted: true });
  await healthy(f);
});

test('h2 upstream sends GOAWAY with an error code → 502, proxy serves on', async (t) => {
  const srv = h2Upstream((s) => {
    s.session?.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0);
  });
  const f = await proxyInFrontOf(t, srv);
  const r = await get(f, 'hello', '/calm');
  assert.equal(r.status, 502, r.body);
  assert.equal(r.code, 'RUNSD_UPSTREAM_RESET');
  await healthy(f);
});

test('h2 upstream sends GOAWAY with an error code mid-response → cut, proxy serves on', async (t) => {
  const srv = h2Upstream((s) => {
    s.respond({ ':status': 200 });
    s.write('abc', () => s.session?.goaway(http2.constants.NGHTTP2_INTERNAL_ERROR, 0));
  });
  const f = await proxyInFrontOf(t, srv);
  const r = await new Promise<{ status: number; aborted: boolean }>((resolve) => {
    http
      .get(
        { host: '127.0.0.1', port: f.port, path: '/cut', headers: { host: 'hello' }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, aborted: false }));
          res.on('error', () => resolve({ status: res.statusCode ?? 0, aborted: true }));
        },
      )
      // The cut may come before the corked response head left: a hang-up, also not a clean end.
      .on('error', () => resolve({ status: 0, aborted: true }));
  });
  assert.equal(r.aborted, true);
  await healthy(f);
});

test('h2 upstream sends Content-Length and a Trailer header to an HTTP/1.1 client → relayed, proxy serves on', async (t) => {
  // Legal in HTTP/2; node's HTTP/1.1 writeHead refuses a Trailer header beside Content-Length.
  const srv = h2Upstream((s) => {
    s.respond({ ':status': 200, 'content-length': '4', trailer: 'x-checksum' }, { waitForTrailers: true });
    s.on('wantTrailers', () => s.sendTrailers({ 'x-checksum': 'abc' }));
    s.end('body');
  });
  const f = await proxyInFrontOf(t, srv);
  const r = await get(f, 'hello', '/trailer');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.body, 'body');
  await healthy(f);
});

test('an upstream session hitting its idle timeout while a request waits: the request still completes', async (t) => {
  const srv = h2Upstream((s) => {
    setTimeout(() => {
      s.respond({ ':status': 200 });
      s.end('slow');
    }, 400);
  });
  const port = await listen(srv as unknown as net.Server);
  const pool = new UpstreamPool({
    port,
    lookup: ((_h: string, o: dns.LookupOptions, cb: (...a: unknown[]) => void) =>
      o.all
        ? process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }])
        : process.nextTick(cb, null, '127.0.0.1', 4)) as unknown as LookupFunction,
    secureContext: upstreamSecureContext(up.caPem),
    connectTimeoutMs: 1000,
    idleMs: 100,
  });
  t.after(async () => {
    await pool.close();
    srv.close();
  });
  const host = 'hello-123456789012.us-central1.run.app';
  const u = await pool.get(host);
  assert.equal(u.kind, 'h2');
  const session = (u as { session: http2.ClientHttp2Session }).session;
  const body = await new Promise<string>((resolve, reject) => {
    const s = session.request({ ':path': '/slow', ':authority': host });
    let b = '';
    s.setEncoding('utf8');
    s.on('data', (d) => (b += d));
    s.on('end', () => resolve(b));
    s.on('error', reject);
  });
  assert.equal(body, 'slow');
  // The idle session was retired: the next request gets a fresh one.
  const next = await pool.get(host);
  assert.notEqual((next as { session: http2.ClientHttp2Session }).session, session);
});

for (const [name, code] of [
  ['REFUSED_STREAM', http2.constants.NGHTTP2_REFUSED_STREAM],
  ['INTERNAL_ERROR', http2.constants.NGHTTP2_INTERNAL_ERROR],
] as const) {
  test(`h2 upstream resets every stream with ${name} before answering → 502, proxy serves on`, async (t) => {
    let streams = 0;
    const srv = h2Upstream((s) => {
      streams++;
      s.close(code);
    });
    const port = await listen(srv as unknown as net.Server);
    const f = await startProxy({ port, caPem: up.caPem });
    t.after(async () => {
      await f.proxy.close();
      srv.close();
    });
    const r = await get(f, 'hello', '/rst');
    assert.equal(r.status, 502, r.body);
    assert.equal(r.code, 'RUNSD_UPSTREAM_RESET');
    assert.match(r.body, new RegExp(`HTTP/2 error code ${code}`));
    // Refused streams are retried (a bounded number of times); others are not.
    if (code === http2.constants.NGHTTP2_REFUSED_STREAM) assert.ok(streams > 1 && streams <= 4, `${streams}`);
    else assert.equal(streams, 1);
    await healthy(f);
  });
}

test('h2 upstream resets the stream with NO_ERROR mid-body (with Content-Length) → a cut, not a clean end', async (t) => {
  const srv = h2Upstream((s) => {
    s.respond({ ':status': 200, 'content-length': '100' });
    s.write('abc', () => setTimeout(() => s.close(http2.constants.NGHTTP2_NO_ERROR), 20));
  });
  const f = await proxyInFrontOf(t, srv);
  const r = await new Promise<{ status: number; body: string; aborted: boolean }>((resolve) => {
    let body = '';
    http
      .get(
        { host: '127.0.0.1', port: f.port, path: '/cut', headers: { host: 'hello' }, agent: false },
        (res) => {
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, aborted: false }));
          res.on('error', () => resolve({ status: res.statusCode ?? 0, body, aborted: true }));
        },
      )
      .on('error', () => resolve({ status: 0, body, aborted: true }));
  });
  assert.equal(r.aborted, true, JSON.stringify(r));
  await healthy(f);
});

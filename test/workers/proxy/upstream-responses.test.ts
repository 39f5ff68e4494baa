// Responses an upstream gets wrong must fail one request with a clear error, never throw out of a
// listener (that kills the room and every request in flight): a Trailer header where node will not
// send chunked, statuses outside 200-599, an unasked 101, a reset mid-body. Each test then checks that
// a normal request still works. Upstreams are scripted: exact TLS HTTP/1.1 bytes, or node:http2.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type net from 'node:net';
import { test } from 'node:test';
import { testCert } from '../../helpers/fake-upstream.ts';
import { startProxy } from '../../helpers/proxy-fixture.ts';
import { h2c, rawH1, rawUpstream, stillServes, type Up } from '../../helpers/raw-http.ts';

/** An h2 upstream whose streams are answered by `handle`. */
async function h2Upstream(handle: (st: http2.ServerHttp2Stream, path: string) => void): Promise<Up> {
  const { cert, key } = testCert();
  const requests: string[] = [];
  const srv = http2.createSecureServer({ cert, key });
  srv.on('stream', (st, h) => {
    st.on('error', () => {});
    requests.push(String(h[':path']));
    handle(st, String(h[':path']));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    caPem: cert,
    requests,
    close: () =>
      new Promise<void>((r) => {
        srv.close(() => r());
        setTimeout(r, 300).unref();
      }),
  };
}

test('an upstream Trailer header on a response node will not send chunked does not kill the proxy', async (t) => {
  const raw = await rawUpstream({
    '/cl': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTrailer: x-t\r\n\r\nok',
    '/chunked':
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-t\r\n\r\n2\r\nok\r\n0\r\nx-t: 1\r\n\r\n',
    '/204': 'HTTP/1.1 204 No Content\r\nTrailer: x-t\r\n\r\n',
  });
  const h2 = await h2Upstream((st) => {
    st.respond({ ':status': 200, 'content-length': '2', trailer: 'x-t' });
    st.end('ok');
  });
  const f = await startProxy(raw);
  const g = await startProxy(h2);
  t.after(async () => {
    await f.proxy.close();
    await g.proxy.close();
    await raw.close();
    await h2.close();
  });
  // Content-Length + Trailer (from HTTP/1.1 and from h2), to HTTP/1.1, HTTP/1.0 and HEAD.
  for (const fx of [f, g]) {
    const cl = await rawH1(fx, '/cl');
    assert.equal(cl.status, 200);
    // Content-Length beside a Trailer header: the response goes chunked, so trailers could follow.
    assert.match(cl.head, /\r\ntransfer-encoding: chunked(\r\n|$)/i);
    assert.match(cl.rest, /^2\r\nok\r\n0\r\n/);
    // Where chunking is impossible the Trailer announcement goes, the Content-Length stays.
    const v10cl = await rawH1(fx, '/cl', { v10: true });
    assert.equal(v10cl.status, 200);
    assert.match(v10cl.head, /\r\ncontent-length: 2(\r\n|$)/i);
    const head = await rawH1(fx, '/cl', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.match(head.head, /\r\ncontent-length: 2(\r\n|$)/i);
    assert.doesNotMatch(head.head, /\r\ntrailer:/i);
  }
  // Chunked with trailers to an HTTP/1.0 app (no chunking there) and to HEAD; a 204 announcing some.
  const v10 = await rawH1(f, '/chunked', { v10: true });
  assert.equal(v10.status, 200);
  assert.equal(v10.rest, 'ok');
  assert.equal((await rawH1(f, '/chunked', { method: 'HEAD' })).status, 200);
  assert.equal((await rawH1(f, '/204')).status, 204);
  // HTTP/1.1 still gets the trailers when the response is chunked.
  assert.match((await rawH1(f, '/chunked')).rest, /0\r\nx-t: 1\r\n/);
  await stillServes(f);
  await stillServes(g);
});

test('an upstream status outside 200-599 (600, 999, 000, 099, a bare 101) is a 502 RUNSD_UPSTREAM_PROTOCOL', async (t) => {
  const statuses = ['600 Odd', '999 Odd', '000 Odd', '099 Odd', '101 Switching Protocols'];
  const raw = await rawUpstream(
    Object.fromEntries(
      statuses.map((s) => [`/${s.slice(0, 3)}`, `HTTP/1.1 ${s}\r\nContent-Length: 0\r\n\r\n`]),
    ),
  );
  const f = await startProxy(raw);
  t.after(async () => {
    await f.proxy.close();
    await raw.close();
  });
  for (const s of statuses) {
    const path = `/${s.slice(0, 3)}`;
    const h1 = await rawH1(f, path);
    assert.equal(h1.status, 502, `HTTP/1.1 app, upstream ${s}`);
    assert.equal(h1.code, 'RUNSD_UPSTREAM_PROTOCOL');
    assert.match(h1.rest, new RegExp(`status ${Number(s.slice(0, 3))}, which is not a final HTTP status`));
    const h2 = await h2c(f, path);
    assert.equal(h2.status, 502, `h2c app, upstream ${s}`);
    assert.equal(h2.code, 'RUNSD_UPSTREAM_PROTOCOL');
  }
  await stillServes(f);
});

test('an unasked 101 with Upgrade is a 502 at once, not a wait for the response timeout', {
  timeout: 10_000,
}, async (t) => {
  const raw = await rawUpstream({
    '/up': 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n',
  });
  const f = await startProxy(raw);
  t.after(async () => {
    await f.proxy.close();
    await raw.close();
  });
  const h1 = await rawH1(f, '/up');
  assert.equal(h1.status, 502);
  assert.equal(h1.code, 'RUNSD_UPSTREAM_PROTOCOL');
  assert.match(
    h1.rest,
    /answered 101 Switching Protocols \(Upgrade: foo\) to a request that asked for no upgrade/,
  );
  const h2 = await h2c(f, '/up');
  assert.equal(h2.status, 502);
  await stillServes(f);
});

test('an upstream reset mid-body reaches the app as a reset, never as a clean end', async (t) => {
  const h2 = await h2Upstream((st, path) => {
    st.respond({ ':status': 200 });
    if (path !== '/reset' && path !== '/session-dies') return void st.end('ok');
    st.write('partial');
    // destroy(err) resets with INTERNAL_ERROR at once (close(code) would end the stream first).
    if (path === '/reset') setTimeout(() => st.destroy(new Error('upstream gives up')), 30);
    // A dying connection: node ends the proxy's upstream stream (CANCEL) without an error.
    else setTimeout(() => st.session?.destroy(), 30);
  });
  const f = await startProxy(h2);
  t.after(async () => {
    await f.proxy.close();
    await h2.close();
  });
  for (const path of ['/reset', '/session-dies']) {
    const viaH2 = await h2c(f, path);
    assert.equal(viaH2.status, 200);
    assert.equal(viaH2.body, 'partial');
    assert.equal(viaH2.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR, `h2c app, ${path}`);
    const viaH1 = await rawH1(f, path);
    assert.equal(viaH1.status, 200);
    assert.match(viaH1.head, /transfer-encoding: chunked/i);
    assert.doesNotMatch(viaH1.rest, /\r\n0\r\n\r\n$/, `HTTP/1.1 app, ${path}: no terminating chunk`);
  }
  await stillServes(f);
});

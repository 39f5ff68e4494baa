// Bad input from either side must fail one request with a clear error, never throw out of a listener
// (that kills the room and every request in flight). Each test sends the bad input through the
// in-process proxy, so an uncaught exception fails the run, then checks that a normal request still
// works. Upstreams here are scripted: a raw TLS HTTP/1.1 server that writes exact bytes, and a
// node:http2 server.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { startFakeUpstream, testCert } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

interface Up {
  port: number;
  caPem: string;
  requests: string[];
  close(): Promise<void>;
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** An HTTP/1.1-only TLS upstream answering each request path with exact bytes. */
async function rawUpstream(responses: Record<string, string>): Promise<Up> {
  const { cert, key } = testCert();
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const srv = tls.createServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      const path = buf.split(' ')[1] ?? '/';
      buf = '';
      requests.push(path);
      s.write(Buffer.from(responses[path] ?? OK, 'latin1'));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    caPem: cert,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

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

interface H1Result {
  status: number;
  code: string | undefined;
  head: string;
  rest: string;
}

/** One HTTP/1.x request over a raw socket (Connection: close), read until the proxy closes. */
function rawH1(f: Fixture, path: string, o: { method?: string; v10?: boolean } = {}): Promise<H1Result> {
  return rawBytes(
    f,
    `${o.method ?? 'GET'} ${path} HTTP/1.${o.v10 ? '0' : '1'}\r\nHost: hello\r\nConnection: close\r\n\r\n`,
  );
}

interface H2Result {
  status: number;
  code: string | undefined;
  body: string;
  rstCode: number | undefined;
}

function h2c(f: Fixture, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<H2Result> {
  return new Promise((resolve) => {
    const c = http2.connect(`http://127.0.0.1:${f.port}`);
    c.on('error', () => {});
    const r = c.request({ ':path': path, ':authority': 'hello', ...headers });
    let status = 0;
    let code: string | undefined;
    let body = '';
    r.on('response', (h) => {
      status = Number(h[':status']);
      code = h['x-runsd-error'] as string | undefined;
    });
    r.setEncoding('utf8');
    r.on('data', (d: string) => (body += d));
    r.on('error', () => {});
    r.on('close', () => {
      c.close();
      resolve({ status, code, body, rstCode: r.rstCode });
    });
  });
}

async function stillServes(f: Fixture): Promise<void> {
  const a = await rawH1(f, '/after');
  assert.equal(a.status, 200, 'the proxy must still serve HTTP/1.1 afterwards');
  const b = await h2c(f, '/after');
  assert.equal(b.status, 200, 'the proxy must still serve h2c afterwards');
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

test('an upstream that answers 200 before reading the whole upload still gets all of it', async (t) => {
  // Answers as soon as it has the request head, then keeps reading the body (RFC 9112 §9.5 lets a
  // server do that; only a refusal or a closing connection means "stop sending").
  const { cert, key } = testCert();
  let received = -1;
  const early = tls.createServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (s) => {
    let buf = Buffer.alloc(0);
    let answered = false;
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!answered) {
        answered = true;
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
      received = buf.length - end - 4;
    });
  });
  await new Promise<void>((r) => early.listen(0, '127.0.0.1', r));
  const f = await startProxy({ port: (early.address() as net.AddressInfo).port, caPem: cert });
  t.after(async () => {
    await f.proxy.close();
    early.close();
  });
  const status = await new Promise<number>((resolve, reject) => {
    const s = net.connect(f.port, '127.0.0.1', () => {
      s.write('POST /upload HTTP/1.1\r\nHost: hello\r\nContent-Length: 10\r\n\r\nhello');
      // The rest after the upstream has answered.
      setTimeout(() => s.write('world'), 200);
    });
    let out = '';
    s.on('data', (d: Buffer) => {
      out += d.toString('latin1');
    });
    s.on('error', reject);
    // Until the upstream has the whole body (or 5 s have passed: then the assertion below fails).
    const started = Date.now();
    const poll = setInterval(() => {
      if (received < 10 && Date.now() - started < 5000) return;
      clearInterval(poll);
      s.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(out)?.[1] ?? 0));
    }, 20);
  });
  assert.equal(status, 200);
  assert.equal(received, 10, 'the whole body reached the upstream');
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

test('an app that leaves while its token is awaited: no crash, and its HTTP/1.1 request never goes upstream', async (t) => {
  const raw = await rawUpstream({});
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => (release = r));
  const f = await startProxy(
    raw,
    {},
    {
      get: async () => {
        await gate;
        return 'tok';
      },
    },
  );
  t.after(async () => {
    await f.proxy.close();
    await raw.close();
  });
  // h2c: reset the stream while the token is pending.
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  c.on('error', () => {});
  const r = c.request({ ':path': '/gone-h2', ':authority': 'hello' });
  r.on('error', () => {});
  r.on('response', () => assert.fail('no response expected on a reset stream'));
  await new Promise((res) => setTimeout(res, 50));
  r.close(http2.constants.NGHTTP2_CANCEL);
  // HTTP/1.1: close the connection while the token is pending.
  const s = net.connect(f.port, '127.0.0.1');
  s.on('error', () => {});
  s.write('GET /gone-h1 HTTP/1.1\r\nHost: hello\r\n\r\n');
  await new Promise((res) => setTimeout(res, 50));
  s.destroy();
  await new Promise((res) => setTimeout(res, 50));
  release();
  // Let the pending requests run into their dead clients.
  await new Promise((res) => setTimeout(res, 200));
  c.close();
  assert.ok(!raw.requests.includes('/gone-h1'), `upstream saw ${raw.requests.join(', ')}`);
  gate = Promise.resolve();
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

/** Raw bytes to the proxy; returns what it answered before closing. */
function rawBytes(f: Fixture, text: string): Promise<H1Result> {
  return new Promise((resolve, reject) => {
    const s = net.connect(f.port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      const i = out.indexOf('\r\n\r\n');
      const head = i < 0 ? out : out.slice(0, i);
      resolve({
        status: Number(/^HTTP\/1\.\d (\d{3})/.exec(head)?.[1] ?? 0),
        code: /\r\nx-runsd-error: (\S+)/i.exec(head)?.[1],
        head,
        rest: i < 0 ? '' : out.slice(i + 4),
      });
    });
    s.write(text);
  });
}

test('malformed HTTP/1.1 requests get a 400/431 naming what was wrong, and never reach the upstream', async (t) => {
  const raw = await rawUpstream({});
  const f = await startProxy(raw);
  t.after(async () => {
    await f.proxy.close();
    await raw.close();
  });
  const cases: [string, number, string, RegExp][] = [
    [
      'GET https://hello/x HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n',
      400,
      'RUNSD_BAD_REQUEST',
      /request target "https:\/\/hello\/x" is neither a path nor an http:\/\/ URL/,
    ],
    [
      'GET ftp://hello/x HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n',
      400,
      'RUNSD_BAD_REQUEST',
      /"ftp:\/\/hello\/x"/,
    ],
    // The URL parser reads `http:///x` as host "x": that must not route to a service named x.
    ['GET http:///x HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n', 400, 'RUNSD_BAD_HOST', /is empty/],
    ['GET /x HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'RUNSD_BAD_HOST', /needs a Host/],
    [
      'POST /x HTTP/1.1\r\nHost: hello\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'RUNSD_BAD_REQUEST',
      /malformed HTTP\/1\.1 request \(HPE_INVALID_TRANSFER_ENCODING/,
    ],
    [
      `GET /x HTTP/1.1\r\nHost: hello\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      431,
      'RUNSD_BAD_REQUEST',
      /HPE_HEADER_OVERFLOW/,
    ],
  ];
  for (const [req, status, code, body] of cases) {
    const r = await rawBytes(f, req);
    const line = req.split('\r\n')[0]!.slice(0, 40);
    assert.equal(r.status, status, line);
    assert.equal(r.code, code, line);
    assert.match(r.rest, body, line);
  }
  // OPTIONS * is a valid target and is forwarded.
  assert.equal(
    (await rawBytes(f, 'OPTIONS * HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n')).status,
    200,
  );
  assert.deepEqual(raw.requests, ['*']);
  await stillServes(f);
});

test('an upstream that answers a large upload without reading it does not wedge the app connection', {
  timeout: 20_000,
}, async (t) => {
  const h2 = await startFakeUpstream();
  const h1 = await startFakeUpstream({ h1Only: true });
  const f = await startProxy(h2);
  const g = await startProxy(h1);
  t.after(async () => {
    await f.proxy.close();
    await g.proxy.close();
    await h2.close();
    await h1.close();
  });
  // /bytes answers at once and never reads the body. The rest of the body must still be read (and
  // dropped), else the keep-alive connection is never read again: the next request on it hangs,
  // and a client that leaves is never noticed (the socket leaked).
  const body = 'a'.repeat(2_000_000);
  for (const fx of [f, g]) {
    const r = await rawBytes(
      fx,
      `POST /bytes?n=2 HTTP/1.1\r\nHost: hello\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'GET /x HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n',
    );
    assert.equal(r.status, 200);
    assert.match(r.rest, /HTTP\/1\.1 200 OK\r\n[\s\S]*"method":"GET"/, 'the second request was answered');
  }
  await stillServes(f);
});

test('env mode: a plain upstream answering early, with an odd status or a Trailer header, fails or serves one request', {
  timeout: 15_000,
}, async (t) => {
  const up = await startFakeUpstream();
  const f = await startProxy(up, { mode: 'env' });
  // A plain HTTP server on loopback that never reads request bodies.
  const conns = new Set<net.Socket>();
  const plain = net.createServer((s) => {
    conns.add(s);
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      const path = buf.split(' ')[1];
      buf = '';
      if (path === '/early') s.write('HTTP/1.1 413 Too Big\r\nContent-Length: 0\r\n\r\n');
      else if (path === '/s600') s.write('HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n');
      else if (path === '/trailer') s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTrailer: x-t\r\n\r\nok');
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t.after(async () => {
    await f.proxy.close();
    await up.close();
    // The proxy's keep-alive agent holds connections open: close them, or close() waits forever.
    for (const s of conns) s.destroy();
    await new Promise((r) => plain.close(r));
  });
  const at = `127.0.0.1:${(plain.address() as net.AddressInfo).port}`;
  const body = 'a'.repeat(2_000_000);
  const early = await rawBytes(
    f,
    `POST http://${at}/early HTTP/1.1\r\nHost: ${at}\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
      `GET http://${at}/x HTTP/1.1\r\nHost: ${at}\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(early.status, 413);
  assert.match(early.rest, /HTTP\/1\.1 200 OK/, 'the next request on the connection was answered');
  const odd = await rawBytes(f, `GET http://${at}/s600 HTTP/1.1\r\nHost: ${at}\r\nConnection: close\r\n\r\n`);
  assert.equal(odd.status, 502);
  assert.equal(odd.code, 'RUNSD_UPSTREAM_PROTOCOL');
  const trailer = await rawBytes(f, `GET http://${at}/trailer HTTP/1.0\r\nHost: ${at}\r\n\r\n`);
  assert.equal(trailer.status, 200);
  assert.equal(trailer.rest, 'ok');
  await stillServes(f);
});

// Upstreams that answer before they have read the request body: the rest of the upload still reaches
// one that keeps reading, and one that never reads it does not wedge the app's keep-alive connection
// (DNS mode and env mode). The proxy keeps serving afterwards.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { startFakeUpstream, testCert } from '../../helpers/fake-upstream.ts';
import { startProxy } from '../../helpers/proxy-fixture.ts';
import { rawBytes, stillServes } from '../../helpers/raw-http.ts';

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

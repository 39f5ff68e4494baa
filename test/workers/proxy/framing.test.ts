// HTTP/1.1 framing the proxy must never pass on ambiguously (RFC 9112 §6–7): each vector gets a 400
// and a closed connection, and the service either sees no request at all or a request that was
// reset (RST_STREAM), never a complete one it might act on. The upstream's view is recorded by a
// real HTTP/2 server on loopback.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { testCert } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

interface Seen {
  path: string;
  body: number;
  /** 'complete' (END_STREAM), 'reset' (RST_STREAM from runsd) */
  outcome: 'complete' | 'reset';
}

const seen: Seen[] = [];
let up: http2.Http2SecureServer;
let f: Fixture;

before(async () => {
  const { cert, key } = testCert();
  up = http2.createSecureServer({ cert, key });
  up.on('stream', (s, h) => {
    const rec: Seen = { path: String(h[':path']), body: 0, outcome: 'complete' };
    s.on('error', () => {});
    s.on('data', (c: Buffer) => (rec.body += c.length));
    s.on('aborted', () => (rec.outcome = 'reset'));
    s.on('close', () => seen.push(rec));
    s.on('end', () => {
      if (s.destroyed || s.aborted) return;
      s.respond({ ':status': 200 });
      s.end('ok');
    });
  });
  await new Promise<void>((r) => up.listen(0, '127.0.0.1', r));
  f = await startProxy({ port: (up.address() as net.AddressInfo).port, caPem: cert });
});
after(async () => {
  await f.proxy.close();
  up.close();
});

/** Sends head (then, after the proxy forwarded it, body) on a raw socket; the status line and
 * whether the proxy closed the connection. */
async function send(head: string, body = ''): Promise<{ status: string; closed: boolean }> {
  const c = net.connect(f.port, '127.0.0.1');
  let got = '';
  c.on('data', (d) => (got += d));
  c.on('error', () => {});
  const closed = new Promise<boolean>((r) => {
    c.once('close', () => r(true));
    setTimeout(() => r(false), 3000);
  });
  c.write(head);
  if (body) {
    await new Promise((r) => setTimeout(r, 100));
    c.write(body);
  }
  const wasClosed = await closed;
  c.destroy();
  return { status: got.split('\r\n')[0] ?? '', closed: wasClosed };
}

/** The upstream's view of one path, once its stream has closed (or null: it never got there). */
async function upstreamView(path: string): Promise<Seen | null> {
  await new Promise((r) => setTimeout(r, 150));
  return seen.find((s) => s.path === path) ?? null;
}

const H = (path: string, extra: string) => `POST ${path} HTTP/1.1\r\nHost: hello\r\n${extra}\r\n`;

// Refused while the head is parsed: nothing reaches the service.
const HEAD_VECTORS: [string, string][] = [
  ['cl-and-te', H('/v/cl-te', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n')],
  ['obfuscated-te', H('/v/te-obf', 'Transfer-Encoding: xchunked\r\n')],
  ['te-not-last-chunked', H('/v/te-order', 'Transfer-Encoding: chunked, identity\r\n')],
  ['duplicate-cl', H('/v/dup-cl', 'Content-Length: 5\r\nContent-Length: 6\r\n')],
  ['cl-list', H('/v/cl-list', 'Content-Length: 5, 5\r\n')],
  ['cl-not-a-number', H('/v/cl-nan', 'Content-Length: 5x\r\n')],
  ['obs-fold', H('/v/fold', 'X-A: a\r\n b\r\nContent-Length: 0\r\n')],
  ['bare-lf', 'POST /v/lf HTTP/1.1\nHost: hello\nContent-Length: 0\n\n'],
  ['bare-cr', 'POST /v/cr HTTP/1.1\r\nHost: hello\rX: y\r\nContent-Length: 0\r\n\r\n'],
  ['nul-in-value', H('/v/nul', 'X-A: a\u0000b\r\nContent-Length: 0\r\n')],
  ['space-before-colon', H('/v/space', 'Content-Length : 0\r\n')],
];

for (const [name, head] of HEAD_VECTORS) {
  test(`framing: ${name} → 400, connection closed, no upstream request`, async () => {
    const path = head.split(' ')[1]!;
    const r = await send(head);
    assert.match(r.status, /^HTTP\/1\.1 400 /);
    assert.equal(r.closed, true);
    assert.equal(await upstreamView(path), null);
  });
}

// Found only in the body, after the head went upstream: the upstream stream is reset, never ended.
const BODY_VECTORS: [string, string][] = [
  ['chunk-extension-garbage', '5;\u0001x\r\nhello\r\n0\r\n\r\n'],
  ['chunk-size-not-hex', 'zz\r\nhello\r\n0\r\n\r\n'],
  ['chunk-size-overflow', 'fffffffffffffffff\r\nhello\r\n0\r\n\r\n'],
  ['chunk-data-longer-than-size', '3\r\nhello\r\n0\r\n\r\n'],
  ['chunk-size-bare-lf', '5\nhello\r\n0\r\n\r\n'],
];

for (const [name, body] of BODY_VECTORS) {
  test(`framing: ${name} → 400, connection closed, upstream stream reset`, async () => {
    const path = `/b/${name}`;
    const r = await send(H(path, 'Transfer-Encoding: chunked\r\n'), body);
    assert.match(r.status, /^HTTP\/1\.1 400 /);
    assert.equal(r.closed, true);
    const v = await upstreamView(path);
    assert.ok(v === null || v.outcome === 'reset', `upstream saw ${JSON.stringify(v)}`);
  });
}

test('framing: a valid chunked body still reaches the service complete', async () => {
  const r = await send(
    H('/ok', 'Transfer-Encoding: chunked\r\nConnection: close\r\n'),
    '5\r\nhello\r\n0\r\n\r\n',
  );
  assert.match(r.status, /^HTTP\/1\.1 200 /);
  assert.deepEqual(await upstreamView('/ok'), { path: '/ok', body: 5, outcome: 'complete' });
});

// The load tool's raw HTTP/2 client against node:http2 servers (nghttp2: Huffman, dynamic table,
// its own framing choices) on loopback, each made to do one thing a server may do: vary headers,
// pad frames, split a header block into CONTINUATION, send trailers, answer with bodies larger than
// the windows, take a large request body through a small window, limit concurrent streams, reset a
// stream, send GOAWAY and PING — and a server that speaks garbage.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { after, test } from 'node:test';
import { requestBlocks } from '../../../src/domain/hpack.ts';
import { makeTlsMaterial } from '../../../src/emulator/certs.ts';
import { H2_ALPN } from '../../../workers/loadgen/h2.ts';
import { H2Session } from '../../../workers/loadgen/h2-session.ts';
import type { Outcome } from '../../../workers/loadgen/spec.ts';
import { openSocket } from '../../../workers/loadgen/target.ts';

const closers: (() => void)[] = [];
after(() => {
  for (const c of closers) c();
});

async function server(
  handler: (
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    session: http2.ServerHttp2Session,
  ) => void,
  options: http2.ServerOptions = {},
): Promise<number> {
  const s = http2.createServer(options);
  s.on('stream', (stream, headers) => {
    stream.on('error', () => {}); // the resets the tests make
    handler(stream, headers, stream.session as http2.ServerHttp2Session);
  });
  s.on('sessionError', () => {});
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => s.close());
  return (s.address() as net.AddressInfo).port;
}

function session(port: number, o: { body?: Buffer; grpc?: boolean; path?: string } = {}): H2Session {
  const blocks = requestBlocks([
    [':method', o.body ? 'POST' : 'GET'],
    [':scheme', 'http'],
    [':authority', `127.0.0.1:${port}`],
    [':path', o.path ?? '/'],
  ]);
  const s = new H2Session(
    // noDelay, as openSocket (target.ts) makes them: with Nagle holding our PING ACK until after the
    // answer, node:http2's server never calls its ping callback
    net.connect(port, '127.0.0.1').setNoDelay(true),
    { blocks, body: o.body ?? null, grpc: o.grpc ?? false },
    () => {},
  );
  closers.push(() => s.destroy());
  return s;
}
const ask = (s: H2Session) => new Promise<Outcome>((resolve) => s.request(resolve));
const many = (s: H2Session, n: number) => Promise.all(Array.from({ length: n }, () => ask(s)));

test('varying response headers over many streams: HPACK dynamic table and Huffman stay in step', async () => {
  let n = 0;
  const port = await server((stream) => {
    const i = n++;
    // new values each time (each indexed by nghttp2), and long ones now and then (Huffman-coded)
    stream.respond({
      ':status': 200 + (i % 3),
      'x-runsd-error': `E${i}-${'z'.repeat(i % 50)}`,
      [`x-h-${i % 7}`]: String(i).repeat(i % 40),
    });
    stream.end('x'.repeat(i % 100));
  });
  const s = session(port);
  const got: Outcome[] = [];
  for (let round = 0; round < 10; round++) got.push(...(await many(s, 30)));
  assert.equal(got.length, 300);
  const errors = got.map((o) => (o.kind === 'response' ? o.runsdError : o.code)).sort();
  const want = Array.from({ length: 300 }, (_, i) => `E${i}-${'z'.repeat(i % 50)}`).sort();
  assert.deepEqual(errors, want);
  for (const o of got) assert.ok(o.kind === 'response' && o.status >= 200 && o.status <= 202);
});

test('padded frames (nghttp2 pads to the maximum) and a header block split into CONTINUATION', async () => {
  const port = await server(
    (stream) => {
      stream.respond({ ':status': 200, 'x-big': 'b'.repeat(40_000), 'x-runsd-error': 'AFTER_THE_BIG_ONE' });
      stream.end('hello');
    },
    { paddingStrategy: http2.constants.PADDING_STRATEGY_MAX, maxSendHeaderBlockLength: 100_000 },
  );
  const got = await many(session(port), 5);
  for (const o of got)
    assert.deepEqual(o, {
      kind: 'response',
      status: 200,
      runsdError: 'AFTER_THE_BIG_ONE',
      grpcStatus: null,
      bytes: 5,
    });
});

test('gRPC: grpc-status from trailers and from a trailers-only answer; none at all is UNKNOWN', async () => {
  const port = await server((stream, headers) => {
    const path = headers[':path'];
    if (path === '/trailers') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '5' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    } else if (path === '/only') {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '7' },
        { endStream: true },
      );
    } else {
      stream.respond({ ':status': 200 });
      stream.end();
    }
  });
  const one = async (path: string) => ask(session(port, { grpc: true, path }));
  assert.deepEqual(await one('/trailers'), {
    kind: 'response',
    status: 200,
    runsdError: null,
    grpcStatus: '5',
    bytes: 5,
  });
  assert.deepEqual(await one('/only'), {
    kind: 'response',
    status: 200,
    runsdError: null,
    grpcStatus: '7',
    bytes: 0,
  });
  assert.deepEqual(await one('/none'), {
    kind: 'response',
    status: 200,
    runsdError: null,
    grpcStatus: '2',
    bytes: 0,
  });
});

test('bodies past the windows both ways: 40 MiB down, 3 MiB up through a 64 KiB window', async () => {
  const down = Buffer.alloc(40 << 20, 7);
  const port = await server((stream, headers) => {
    if (headers[':method'] === 'POST') {
      let n = 0;
      stream.on('data', (c: Buffer) => {
        n += c.length;
      });
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'x-runsd-error': String(n) });
        stream.end();
      });
    } else {
      stream.respond({ ':status': 200 });
      stream.end(down);
    }
  });
  const [big] = await many(session(port), 1);
  assert.deepEqual(big, {
    kind: 'response',
    status: 200,
    runsdError: null,
    grpcStatus: null,
    bytes: 40 << 20,
  });
  const up = Buffer.alloc(3 << 20, 1);
  const got = await many(session(port, { body: up }), 3);
  for (const o of got) assert.equal(o.kind === 'response' && o.runsdError, String(3 << 20));
});

test("the server's stream limit: streams over it wait their turn, none fails", async () => {
  let open = 0;
  let peak = 0;
  const port = await server(
    (stream) => {
      peak = Math.max(peak, ++open);
      setTimeout(() => {
        open--;
        stream.respond({ ':status': 200 });
        stream.end();
      }, 5);
    },
    { settings: { maxConcurrentStreams: 3 } },
  );
  const s = session(port);
  await ask(s); // the server's SETTINGS are in
  const got = await many(s, 30);
  assert.ok(got.every((o) => o.kind === 'response' && o.status === 200));
  assert.equal(peak, 3);
});

test('RST_STREAM fails one stream by its code; the session goes on', async () => {
  let n = 0;
  const port = await server((stream) => {
    if (n++ === 0) return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    stream.respond({ ':status': 200 });
    stream.end();
  });
  const s = session(port);
  assert.deepEqual(await ask(s), { kind: 'error', code: 'RST_STREAM_7' });
  assert.equal((await ask(s)).kind, 'response');
  assert.ok(s.usable);
});

test('PING is answered; GOAWAY lets streams in flight finish and takes no more', async () => {
  let pinged: Promise<boolean> | null = null;
  const port = await server((stream, _h, sess) => {
    pinged ??= new Promise((r) => sess.ping((err) => r(!err)));
    setTimeout(() => {
      stream.respond({ ':status': 200 });
      stream.end();
    }, 20);
    sess.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id);
  });
  const s = session(port);
  const first = ask(s);
  assert.deepEqual((await first).kind, 'response');
  const late = new Promise<string>((r) => setTimeout(() => r('no PING ACK in 5 s'), 5000).unref());
  assert.equal(await Promise.race([pinged, late]), true, 'the server got its PING ACK');
  assert.equal(s.usable, false, 'no new stream after GOAWAY');
  assert.deepEqual(await ask(s), { kind: 'error', code: 'GOAWAY' }, 'a stream asked for anyway is answered');
});

test('a server that speaks garbage: every stream fails with a protocol error, nothing hangs', async () => {
  const srv = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => srv.close());
  const got = await many(session((srv.address() as net.AddressInfo).port), 3);
  for (const o of got)
    assert.ok(o.kind === 'error' && /^H2_(FRAME_SIZE|PROTOCOL)_ERROR$/.test(o.code), JSON.stringify(o));
});

test('a refused connection fails every stream with the socket error', async () => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const got = await many(session(port), 2);
  assert.deepEqual(got, [
    { kind: 'error', code: 'ECONNREFUSED' },
    { kind: 'error', code: 'ECONNREFUSED' },
  ]);
});

test("the server's HEADER_TABLE_SIZE: indexed requests while our entries fit, a size update and literals when not", async () => {
  for (const headerTableSize of [4096, 1024, 60, 0]) {
    const port = await server(
      (stream, headers) => {
        stream.respond({ ':status': 200, 'x-runsd-error': `${headers[':authority']} ${headers[':path']}` });
        stream.end();
      },
      { settings: { headerTableSize } },
    );
    const s = session(port, { path: '/the/path' });
    const got = [...(await many(s, 5)), ...(await many(s, 20))];
    for (const o of got)
      assert.equal(
        o.kind === 'response' && o.runsdError,
        `127.0.0.1:${port} /the/path`,
        `table ${headerTableSize}`,
      );
  }
});

test('TLS to a server that does not offer h2 by ALPN: every stream fails ALPN_NOT_H2', async () => {
  const tlsm = await makeTlsMaterial({ dnsNames: ['h1only.test'] });
  const srv = https.createServer({ key: tlsm.keyPem, cert: tlsm.certPem }, (_q, r) => r.end('h1'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => srv.close());
  const dial = {
    host: '127.0.0.1',
    port: (srv.address() as net.AddressInfo).port,
    tls: true,
    servername: 'h1only.test',
  };
  const blocks = requestBlocks([
    [':method', 'GET'],
    [':scheme', 'https'],
    [':authority', 'h1only.test'],
    [':path', '/'],
  ]);
  const s = new H2Session(
    openSocket(dial, tlsm.caPem, H2_ALPN),
    { blocks, body: null, grpc: false },
    () => {},
  );
  closers.push(() => s.destroy());
  assert.deepEqual(await many(s, 2), [
    { kind: 'error', code: 'ALPN_NOT_H2' },
    { kind: 'error', code: 'ALPN_NOT_H2' },
  ]);
});

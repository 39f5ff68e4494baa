// The one HTTP/1.1 upstream helper (workers/proxy/h1-request.ts), against real loopback servers:
// a settled outcome for each way an HTTP/1.1 upstream can go wrong.
import assert from 'node:assert/strict';
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { RunsdError } from '../../../src/errors.ts';
import { H1Client } from '../../../workers/proxy/h1-request.ts';

async function rawServer(
  onData: (s: net.Socket, n: number) => void,
): Promise<{ port: number; close(): void }> {
  let n = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('data', () => onData(s, ++n));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    close() {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

function get(h1: H1Client, port: number): http.ClientRequest {
  return http.request({ agent: h1.plainAgent, host: '127.0.0.1', port, path: '/' });
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok';

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RunsdError, String(err));
    return `${err.code}: ${err.message}`;
  }
  return 'no failure';
}

test('an unasked 101 with Upgrade fails as RUNSD_UPSTREAM_PROTOCOL at once', async (t) => {
  const srv = await rawServer((s) =>
    s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n'),
  );
  const h1 = new H1Client(dns.lookup as never);
  t.after(() => {
    srv.close();
    h1.close();
  });
  const req = get(h1, srv.port);
  const p = h1.send(req, { label: 'up:1', timeoutMs: 10_000, response: () => 'response' });
  req.end();
  assert.equal(
    await failure(p),
    'RUNSD_UPSTREAM_PROTOCOL: up:1 answered 101 Switching Protocols (Upgrade: foo) to a request that asked for no upgrade',
  );
});

test('a kept-alive socket reset before any answer is retried; a fresh one is not', async (t) => {
  // Answers the first request, then closes the connection when the second arrives on it.
  const srv = await rawServer((s, n) => (n === 1 ? s.write(OK) : s.destroy()));
  const h1 = new H1Client(dns.lookup as never);
  t.after(() => {
    srv.close();
    h1.close();
  });
  const response = (res: http.IncomingMessage) => {
    res.resume();
    return res.statusCode;
  };
  const first = get(h1, srv.port);
  const p1 = h1.send(first, { label: 'up:2', timeoutMs: 10_000, response });
  first.end();
  assert.equal(await p1, 200);
  await new Promise((r) => setTimeout(r, 20)); // the socket back in the agent's free list
  let retried = 0;
  const second = get(h1, srv.port);
  const p2 = h1.send(second, {
    label: 'up:2',
    timeoutMs: 10_000,
    response,
    retry: () => {
      retried++;
      return Promise.resolve(299);
    },
  });
  second.end();
  assert.equal(await p2, 299);
  assert.equal(retried, 1);
  assert.equal(second.reusedSocket, true);
  // The third request opens a fresh connection (the server answers nothing on it): no retry.
  const third = get(h1, srv.port);
  const p3 = h1.send(third, {
    label: 'up:2',
    timeoutMs: 10_000,
    response,
    retry: () => Promise.resolve(299),
  });
  third.end();
  assert.match(await failure(p3), /^RUNSD_UPSTREAM_CONNECT: up:2: socket hang up/);
});

test('no response head in time → RUNSD_UPSTREAM_TIMEOUT naming the upstream; the app leaving → no retry', async (t) => {
  const srv = await rawServer(() => {});
  const h1 = new H1Client(dns.lookup as never);
  t.after(() => {
    srv.close();
    h1.close();
  });
  let failed = 0;
  let closed = 0;
  const slow = get(h1, srv.port);
  const p = h1.send(slow, {
    label: 'up:3',
    timeoutMs: 50,
    response: () => 0,
    failed: () => failed++,
    closed: () => closed++,
  });
  slow.end();
  assert.equal(await failure(p), 'RUNSD_UPSTREAM_TIMEOUT: up:3 sent no response within 50 ms');
  assert.equal(slow.destroyed, true);
  assert.equal(failed, 0, 'a time-out leaves the body to closed(), which drains it');
  for (let i = 0; i < 100 && closed === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(closed, 1, "the request's close reaches closed()");
  let leave = () => {};
  const gone = get(h1, srv.port);
  const p2 = h1.send(gone, {
    label: 'up:3',
    timeoutMs: 10_000,
    response: () => 0,
    retry: () => Promise.resolve(1),
    onGone: (cb) => {
      leave = cb;
    },
  });
  gone.end();
  leave();
  assert.match(await failure(p2), /^RUNSD_UPSTREAM_CONNECT: up:3: socket hang up/);
});

// Robustness of the proxy's other paths: WebSocket upgrade tunnels, env mode's plain forwarding and
// CONNECT, and upstreams that misbehave at the connection level. Each bad input must get a clear
// answer (an x-runsd-error status or a clean close), the proxy must keep serving, and no client
// socket or in-flight stream may be left behind.
import assert from 'node:assert/strict';
import type dns from 'node:dns';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type LookupFunction } from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { UpstreamPool, upstreamSecureContext } from '../../../workers/proxy/upstream-pool.ts';
import { type FakeUpstream, startFakeUpstream, testCert } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

let up: FakeUpstream;
let wsUp: FakeUpstream;
let env: Fixture;
let dnsWs: Fixture;
let envWs: Fixture;
let upgrades = 0;
const upstreamTunnels = new Set<net.Socket>();
const wss = new WebSocketServer({ noServer: true });

before(async () => {
  up = await startFakeUpstream();
  wsUp = await startFakeUpstream({ h1Only: true });
  // An upstream whose answer to an upgrade depends on the path: the ways a server can get it wrong.
  wsUp.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    upgrades++;
    socket.on('error', () => {});
    switch (req.url) {
      case '/101-no-upgrade':
        socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n');
        return;
      case '/200':
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi');
        return;
      case '/refuse-chunked':
        socket.end(
          'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nnope\r\n0\r\n\r\n',
        );
        return;
      case '/close':
        socket.destroy();
        return;
      case '/silent':
        return;
      default:
        upstreamTunnels.add(socket);
        socket.once('close', () => upstreamTunnels.delete(socket));
        wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
    }
  });
  env = await startProxy(up, { mode: 'env', timeoutMs: 500 });
  dnsWs = await startProxy(wsUp, { timeoutMs: 500 });
  envWs = await startProxy(wsUp, { mode: 'env', timeoutMs: 500 });
});
after(async () => {
  wss.close();
  for (const f of [env, dnsWs, envWs]) await f.proxy.close();
  await up.close();
  await wsUp.close();
});

// ---------------------------------------------------------------- helpers

/** Sends raw bytes, collects everything until the proxy closes (or `until` matches, then closes). */
function raw(port: number, text: string | Buffer, until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const guard = setTimeout(() => {
      s.destroy();
      resolve(`${got}<still open>`);
    }, 5000);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (until?.test(got)) s.end();
    });
    s.on('close', () => {
      clearTimeout(guard);
      resolve(got);
    });
    s.on('error', reject);
    s.write(text);
  });
}

function upgradeRequest(path: string, host = 'hello', extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
}

async function get(
  f: Fixture,
  host: string,
  path = '/',
): Promise<{ status: number; code: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: f.port, path, headers: { host }, agent: false }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d) => (body += d));
        r.on('end', () =>
          resolve({ status: r.statusCode ?? 0, code: r.headers['x-runsd-error'] as string, body }),
        );
        r.on('error', reject);
      })
      .on('error', reject);
  });
}

async function gauge(f: Fixture, name: string): Promise<number> {
  const m = await f.registry.getSingleMetricAsString(name);
  const line = m.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 'NaN');
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The proxy still serves, and holds no client socket or stream once its clients are gone. */
async function healthy(f: Fixture): Promise<void> {
  const r = await get(f, 'hello', '/after');
  assert.equal(r.status, 200, r.body);
  await waitFor('no client sockets left', async () => (await gauge(f, 'runsd_proxy_active_sockets')) === 0);
  await waitFor('no streams left', async () => (await gauge(f, 'runsd_proxy_active_streams')) === 0);
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

async function listen(srv: net.Server): Promise<number> {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as net.AddressInfo).port;
}

/** A TLS HTTP/1.1 upstream that answers `/after` with a 200 and anything else with `answer` (then
 * closes, unless `close` is false). */
function scriptedH1Upstream(answer: string, close = true): tls.Server {
  const { cert, key } = testCert();
  return tls.createServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (s) =>
    s.once('data', (d) => {
      if (d.includes('/after')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      else if (close) s.end(answer);
      else s.write(answer);
    }),
  );
}

/** A proxy whose upstream is `srv` (listening on a free port), both closed after the test. */
async function proxyInFrontOf(
  t: { after(fn: () => unknown): void },
  srv: { close(): unknown },
): Promise<Fixture> {
  const port = await listen(srv as unknown as net.Server);
  const f = await startProxy({ port, caPem: up.caPem });
  t.after(async () => {
    await f.proxy.close();
    srv.close();
  });
  return f;
}

// ---------------------------------------------------------------- WebSocket tunnels

test('upgrade: a working tunnel carries head bytes sent with the request', async () => {
  // A masked text frame "hi" right behind the handshake, in the same write.
  const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
  const got = await raw(dnsWs.port, Buffer.concat([Buffer.from(upgradeRequest('/ws')), frame]), /echo:hi/);
  assert.equal(statusOf(got), 101);
  assert.match(got, /echo:hi/);
  await waitFor('upstream tunnel closed', () => upstreamTunnels.size === 0);
  await healthy(dnsWs);
});

test('upgrade: upstream answers 101 without Upgrade headers', async () => {
  const got = await raw(dnsWs.port, upgradeRequest('/101-no-upgrade'));
  assert.ok(statusOf(got) === 101 || statusOf(got) === 502, got);
  await healthy(dnsWs);
});

test('upgrade: upstream answers 200 (no switch): relayed, then closed', async () => {
  const got = await raw(dnsWs.port, upgradeRequest('/200'));
  assert.equal(statusOf(got), 200);
  assert.match(got, /\r\n\r\nhi$/);
  await healthy(dnsWs);
});

test('upgrade: a chunked refusal keeps its framing readable', async () => {
  const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: dnsWs.port,
      path: '/refuse-chunked',
      agent: false,
      headers: {
        host: 'hello',
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.on('response', (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      r.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  assert.deepEqual(status, { status: 403, body: 'nope' });
  await healthy(dnsWs);
});

test('upgrade: upstream closes during the handshake → 502', async () => {
  const got = await raw(dnsWs.port, upgradeRequest('/close'));
  assert.equal(statusOf(got), 502, got);
  assert.match(got, /X-Runsd-Error: RUNSD_UPSTREAM_(CONNECT|RESET)/);
  await healthy(dnsWs);
});

test('upgrade: upstream never answers the handshake → 504', async () => {
  const got = await raw(dnsWs.port, upgradeRequest('/silent'));
  assert.equal(statusOf(got), 504, got);
  assert.match(got, /X-Runsd-Error: RUNSD_UPSTREAM_TIMEOUT/);
  await healthy(dnsWs);
});

test('upgrade: client closes before the upstream answered', async () => {
  const s = net.connect(dnsWs.port, '127.0.0.1');
  const before = upgrades;
  s.write(upgradeRequest('/silent'));
  await waitFor('upgrade reached upstream', () => upgrades > before);
  s.destroy();
  await healthy(dnsWs);
});

test('upgrade: client closes while the token is being fetched → no upstream tunnel is opened', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let asked = 0;
  const f = await startProxy(
    wsUp,
    {},
    {
      get: async (aud) => {
        asked++;
        await gate;
        return `tok-for-${aud}`;
      },
    },
  );
  t.after(() => f.proxy.close());
  const before = upgrades;
  const s = net.connect(f.port, '127.0.0.1');
  s.on('error', () => {});
  s.write(upgradeRequest('/ws'));
  await waitFor('token requested', () => asked > 0);
  s.destroy();
  await waitFor('proxy saw the close', async () => (await gauge(f, 'runsd_proxy_active_sockets')) === 0);
  release();
  // Give a (wrong) upstream handshake time to happen, then no upstream tunnel may be left open.
  await new Promise((r) => setTimeout(r, 300));
  await waitFor('no upstream tunnel left', () => upstreamTunnels.size === 0, 1000);
  assert.equal(upgrades, before, 'the upstream was asked to upgrade for a client that had gone');
  await healthy(f);
});

test('upgrade to an external name in DNS mode → 403', async () => {
  const got = await raw(dnsWs.port, upgradeRequest('/ws', 'example.com'));
  assert.equal(statusOf(got), 403);
  assert.match(got, /X-Runsd-Error: RUNSD_NOT_RELAY/);
  await healthy(dnsWs);
});

test('upgrade with a malformed Host → 400 naming it', async () => {
  const got = await raw(dnsWs.port, upgradeRequest('/ws', 'Bad_Name'));
  assert.equal(statusOf(got), 400);
  assert.match(got, /X-Runsd-Error: RUNSD_BAD_HOST/);
  assert.match(got, /bad_name/i);
  await healthy(dnsWs);
});

test('env mode: upgrade to an absolute-form external URL is tunnelled without a token', async (t) => {
  const ext = http.createServer();
  const extWss = new WebSocketServer({ server: ext });
  let auth: string | undefined = 'unset';
  extWss.on('connection', (ws, req) => {
    auth = req.headers['x-serverless-authorization'] as string | undefined;
    ws.on('message', (m) => ws.send(`ext:${m}`));
  });
  const port = await listen(ext);
  t.after(async () => {
    extWss.close();
    ext.closeAllConnections();
    await new Promise((r) => ext.close(r));
  });
  const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
  const req = upgradeRequest(`http://127.0.0.1:${port}/x`, `127.0.0.1:${port}`);
  const got = await raw(envWs.port, Buffer.concat([Buffer.from(req), frame]), /ext:hi/);
  assert.equal(statusOf(got), 101);
  assert.match(got, /ext:hi/);
  assert.equal(auth, undefined);
  await healthy(envWs);
});

test('env mode: upgrade to an external host that refuses the connection → 502', async () => {
  const dead = net.createServer();
  const port = await listen(dead);
  await new Promise((r) => dead.close(r));
  const got = await raw(envWs.port, upgradeRequest(`http://127.0.0.1:${port}/x`, `127.0.0.1:${port}`));
  assert.equal(statusOf(got), 502);
  assert.match(got, /X-Runsd-Error: RUNSD_UPSTREAM_CONNECT/);
  assert.match(got, /ECONNREFUSED/);
  await healthy(envWs);
});

// ---------------------------------------------------------------- env mode: plain forwarding

function proxyGet(
  f: Fixture,
  url: string,
): Promise<{ status: number; code: string | undefined; body: string; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({
      host: '127.0.0.1',
      port: f.port,
      path: url,
      headers: { host: u.host },
      agent: false,
    });
    req.on('response', (r) => {
      let body = '';
      r.setEncoding('latin1');
      r.on('data', (d) => (body += d));
      r.on('end', () =>
        resolve({
          status: r.statusCode ?? 0,
          code: r.headers['x-runsd-error'] as string,
          body,
          aborted: false,
        }),
      );
      r.on('error', () =>
        resolve({
          status: r.statusCode ?? 0,
          code: r.headers['x-runsd-error'] as string,
          body,
          aborted: true,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('env mode: external host that refuses → 502 naming it', async () => {
  const dead = net.createServer();
  const port = await listen(dead);
  await new Promise((r) => dead.close(r));
  const r = await proxyGet(env, `http://127.0.0.1:${port}/x`);
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_CONNECT');
  assert.match(r.body, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  await healthy(env);
});

test('env mode: external host that resets after the request → 502', async (t) => {
  const rst = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
  const port = await listen(rst);
  t.after(() => new Promise((r) => rst.close(r)));
  const r = await proxyGet(env, `http://127.0.0.1:${port}/x`);
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_CONNECT');
  await healthy(env);
});

test('env mode: external host that never answers → 504', async (t) => {
  const hole = net.createServer((s) => s.resume());
  const port = await listen(hole);
  t.after(() => {
    hole.close();
  });
  const r = await proxyGet(env, `http://127.0.0.1:${port}/x`);
  assert.equal(r.status, 504);
  assert.equal(r.code, 'RUNSD_UPSTREAM_TIMEOUT');
  await healthy(env);
});

test('env mode: external host that closes mid-body → the client sees a cut response', async (t) => {
  const cut = net.createServer((s) =>
    s.once('data', () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
      setTimeout(() => s.destroy(), 50);
    }),
  );
  const port = await listen(cut);
  t.after(() => new Promise((r) => cut.close(r)));
  const r = await proxyGet(env, `http://127.0.0.1:${port}/x`);
  assert.equal(r.status, 200);
  assert.equal(r.aborted, true);
  await healthy(env);
});

test('env mode: external host that sends status 000 → 502 RUNSD_UPSTREAM_PROTOCOL', async (t) => {
  const bad = net.createServer((s) =>
    s.once('data', () => s.end('HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n')),
  );
  const port = await listen(bad);
  t.after(() => new Promise((r) => bad.close(r)));
  const r = await proxyGet(env, `http://127.0.0.1:${port}/x`);
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_PROTOCOL');
  assert.match(
    r.body,
    new RegExp(`127\\.0\\.0\\.1:${port} answered with status 0, which is not a final HTTP status`),
  );
  await healthy(env);
});

test('env mode: absolute-form URL with an out-of-range port → 400 naming it', async () => {
  const got = await raw(
    env.port,
    'GET http://127.0.0.1:99999/x HTTP/1.1\r\nHost: 127.0.0.1:99999\r\nConnection: close\r\n\r\n',
  );
  assert.equal(statusOf(got), 400, got);
  assert.match(got, /X-Runsd-Error: RUNSD_BAD_HOST/i);
  assert.match(got, /99999/);
  await healthy(env);
});

// ---------------------------------------------------------------- env mode: CONNECT

for (const [target, status, code] of [
  [':80', 400, 'RUNSD_BAD_HOST'],
  ['[::1', 403, 'RUNSD_NOT_RELAY'],
  ['example.com:80', 403, 'RUNSD_NOT_RELAY'],
  ['127.0.0.1:80', 403, 'RUNSD_NOT_RELAY'],
  ['hello:443', 403, 'RUNSD_NOT_RELAY'],
  ['127.0.0.1:99999', 403, 'RUNSD_NOT_RELAY'],
  ['Bad_Name:80', 400, 'RUNSD_BAD_HOST'],
] as const) {
  test(`CONNECT ${target} → ${status} ${code}`, async () => {
    const got = await raw(env.port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    assert.equal(statusOf(got), status, got);
    assert.match(got, new RegExp(`X-Runsd-Error: ${code}`));
    await healthy(env);
  });
}

test('CONNECT hello:80 with the tunnelled request in the same write', async () => {
  const got = await raw(
    env.port,
    'CONNECT hello:80 HTTP/1.1\r\nHost: hello:80\r\n\r\nGET /inside HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n',
  );
  assert.match(got, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 /);
  assert.match(got, /"path":"\/inside"/);
  await healthy(env);
});

test('CONNECT hello:80 then garbage inside the tunnel → 400, proxy serves on', async () => {
  const got = await raw(
    env.port,
    'CONNECT hello:80 HTTP/1.1\r\nHost: hello:80\r\n\r\n\x16\x03\x01\x02\x00garbage\r\n\r\n',
  );
  assert.match(got, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 400 /);
  await healthy(env);
});

// ---------------------------------------------------------------- upstream misbehaving

test('upstream resets the TCP connection during the TLS handshake → 502', async (t) => {
  const rst = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
  const port = await listen(rst);
  const f = await startProxy({ port, caPem: up.caPem });
  t.after(async () => {
    await f.proxy.close();
    await new Promise((r) => rst.close(r));
  });
  for (let i = 0; i < 2; i++) {
    const r = await get(f, 'hello');
    assert.equal(r.status, 502);
    assert.equal(r.code, 'RUNSD_UPSTREAM_CONNECT');
    assert.match(r.body, /ECONNRESET/);
  }
  await waitFor('no streams left', async () => (await gauge(f, 'runsd_proxy_active_streams')) === 0);
});

test('upstream answers the TLS ClientHello with plain text → 502 naming TLS', async (t) => {
  const txt = net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
  const port = await listen(txt);
  const f = await startProxy({ port, caPem: up.caPem });
  t.after(async () => {
    await f.proxy.close();
    await new Promise((r) => txt.close(r));
  });
  const r = await get(f, 'hello');
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_CONNECT');
  assert.match(r.body, /TLS handshake|SSL|wrong version/i);
});

test('upstream name does not resolve → 502 naming the name; the next lookup is tried afresh', async (t) => {
  let fail = true;
  const lookup = ((host: string, opts: dns.LookupOptions, cb: (...a: unknown[]) => void) => {
    if (fail) {
      const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${host}`);
      err.code = 'ENOTFOUND';
      return process.nextTick(cb, err, opts.all ? [] : '', 0);
    }
    if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(cb, null, '127.0.0.1', 4);
  }) as unknown as LookupFunction;
  const f = await startProxy(up, {}, undefined, undefined, lookup);
  t.after(() => f.proxy.close());
  const r = await get(f, 'hello');
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_CONNECT');
  assert.match(r.body, /hello-123456789012\.us-central1\.run\.app.*ENOTFOUND/);
  fail = false;
  await healthy(f);
});

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

test('HTTP/1.1 upstream sends status 000 → 502 RUNSD_UPSTREAM_PROTOCOL, proxy serves on', async (t) => {
  const bad = scriptedH1Upstream('HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n');
  const f = await proxyInFrontOf(t, bad);
  const r = await get(f, 'hello', '/zero');
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_PROTOCOL');
  assert.match(r.body, /hello-123456789012\.us-central1\.run\.app answered with status 0/);
  await healthy(f);
});

test('TLS upstream that stalls after the handshake → 504 (timeout), proxy serves on', async (t) => {
  const { cert, key } = testCert();
  const stall = tls.createServer({ cert, key, ALPNProtocols: ['h2'] }, (s) => s.resume());
  const port = await listen(stall);
  const f = await startProxy({ port, caPem: up.caPem }, { timeoutMs: 300 });
  t.after(async () => {
    await f.proxy.close();
    stall.close();
  });
  const r = await get(f, 'hello');
  assert.ok(r.status === 504 || r.status === 502, `${r.status} ${r.body}`);
  assert.match(r.code ?? '', /RUNSD_UPSTREAM_(TIMEOUT|RESET)/);
});

test('env mode: external host that answers a plain GET with 101 → 502, proxy serves on', async (t) => {
  const sw = net.createServer((s) =>
    s.once('data', () =>
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\nxyz'),
    ),
  );
  const port = await listen(sw);
  t.after(() => {
    sw.close();
  });
  const r = await proxyGet(env, `http://127.0.0.1:${port}/x`);
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_PROTOCOL');
  assert.match(r.body, /101 Switching Protocols/);
  await healthy(env);
});

test('HTTP/1.1 upstream answers a plain GET with 101 → 502 at once, proxy serves on', async (t) => {
  const sw = scriptedH1Upstream(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n',
    false,
  );
  const port = await listen(sw);
  // A response timeout far beyond the test's: the 502 must not wait for it.
  const f = await startProxy({ port, caPem: up.caPem }, { timeoutMs: 60_000 });
  t.after(async () => {
    await f.proxy.close();
    sw.close();
  });
  const r = await get(f, 'hello', '/switch');
  assert.equal(r.status, 502, r.body);
  assert.equal(r.code, 'RUNSD_UPSTREAM_PROTOCOL');
  assert.match(r.body, /101 Switching Protocols/);
  await healthy(f);
});

test('HTTP/1.1 upstream closes mid-body → the client sees a cut, proxy serves on', async (t) => {
  const { cert, key } = testCert();
  const cut = tls.createServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (s) =>
    s.once('data', (d) => {
      if (d.includes('/after')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      else {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
        setTimeout(() => s.destroy(), 30);
      }
    }),
  );
  const f = await proxyInFrontOf(t, cut);
  const r = await proxyGet(f, 'http://hello/cut');
  assert.equal(r.aborted, true);
  await healthy(f);
});

test('upstream negotiates h2 and then sends garbage → 502, proxy serves on', async (t) => {
  const { cert, key } = testCert();
  let n = 0;
  const bad = tls.createServer({ cert, key, ALPNProtocols: ['h2'] }, (s) => {
    n++;
    s.on('error', () => {});
    s.once('data', () => s.end('this is not an HTTP/2 frame at all, not even close.....'));
  });
  const f = await proxyInFrontOf(t, bad);
  const r = await get(f, 'hello', '/x');
  assert.equal(r.status, 502, r.body);
  assert.match(r.code ?? '', /RUNSD_UPSTREAM_(RESET|CONNECT)/);
  assert.ok(n <= 4, `${n} connections for one request`);
  await waitFor('no streams left', async () => (await gauge(f, 'runsd_proxy_active_streams')) === 0);
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

test('upstream status 700 to an h2c client (HTTP/2 allows 200-599) → 502, proxy serves on', async (t) => {
  const odd = scriptedH1Upstream('HTTP/1.1 700 Weird\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  const port = await listen(odd);
  const f = await startProxy({ port, caPem: up.caPem });
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  t.after(async () => {
    c.close();
    await f.proxy.close();
    odd.close();
  });
  const h = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    const s = c.request({ ':path': '/odd', ':authority': 'hello' });
    s.on('response', resolve);
    s.on('error', reject);
    s.resume();
  });
  assert.equal(h[':status'], 502);
  assert.equal(h['x-runsd-error'], 'RUNSD_UPSTREAM_PROTOCOL');
  c.close();
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

test('env mode: an external host that drops a kept-alive connection → the GET is retried on a fresh one', async (t) => {
  // Answers the first request on each connection (keep-alive, no timeout hint), resets on the next:
  // what a server whose idle timeout just ran out looks like to the proxy's pooled connection.
  let conns = 0;
  const open = new Set<net.Socket>();
  const ka = net.createServer((s) => {
    conns++;
    open.add(s);
    s.once('close', () => open.delete(s));
    let n = 0;
    s.on('data', () => {
      if (n++ === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else s.resetAndDestroy();
    });
    s.on('error', () => {});
  });
  const port = await listen(ka);
  t.after(async () => {
    for (const s of open) s.destroy();
    await new Promise((r) => ka.close(r));
  });
  for (let i = 0; i < 3; i++) {
    const r = await proxyGet(env, `http://127.0.0.1:${port}/ka${i}`);
    assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.body}`);
    assert.equal(r.body, 'ok');
  }
  assert.ok(conns >= 3);
  await healthy(env);
});

test('upgrade: no token for the service → 503 naming it, proxy serves on', async (t) => {
  let fail = true;
  const f = await startProxy(
    wsUp,
    {},
    {
      get: async (aud) => {
        if (fail) throw new Error('metadata server said 500');
        return `tok-for-${aud}`;
      },
    },
  );
  t.after(() => f.proxy.close());
  const got = await raw(f.port, upgradeRequest('/ws'));
  assert.equal(statusOf(got), 503, got);
  assert.match(got, /X-Runsd-Error: RUNSD_TOKEN_FETCH/);
  assert.match(got, /hello-123456789012\.us-central1\.run\.app.*metadata server said 500/);
  fail = false;
  await healthy(f);
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

test('CONNECT hello:80 carrying a WebSocket upgrade: frames flow, nothing left open after', async () => {
  const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
  const got = await raw(
    envWs.port,
    Buffer.concat([
      Buffer.from(`CONNECT hello:80 HTTP/1.1\r\nHost: hello:80\r\n\r\n${upgradeRequest('/ws')}`),
      frame,
    ]),
    /echo:hi/,
  );
  assert.match(got, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 101 /);
  assert.match(got, /echo:hi/);
  await waitFor('upstream tunnel closed', () => upstreamTunnels.size === 0);
  await healthy(envWs);
});

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

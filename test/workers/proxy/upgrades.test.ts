// Robustness of the proxy's WebSocket upgrade tunnels, in DNS and env mode (and inside CONNECT). Each
// bad input must get a clear answer (an x-runsd-error status or a clean close), the proxy must keep
// serving, and no client socket or in-flight stream may be left behind.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';
import { gauge, healthy, listen, raw, statusOf, waitFor } from '../../helpers/proxy-probes.ts';

let wsUp: FakeUpstream;
let dnsWs: Fixture;
let envWs: Fixture;
let upgrades = 0;
const upstreamTunnels = new Set<net.Socket>();
const wss = new WebSocketServer({ noServer: true });

before(async () => {
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
  dnsWs = await startProxy(wsUp, { timeoutMs: 500 });
  envWs = await startProxy(wsUp, { mode: 'env', timeoutMs: 500 });
});
after(async () => {
  wss.close();
  for (const f of [dnsWs, envWs]) await f.proxy.close();
  await wsUp.close();
});

function upgradeRequest(path: string, host = 'hello', extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
}

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

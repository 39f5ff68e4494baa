// A -route to an IP literal (`-route ip=https://127.0.0.1:PORT`): no TLS server name is sent (RFC
// 6066 §3 forbids IP literals in SNI; Node warns, DEP0123), on every way a connection is opened —
// the pool's h2 session, the keep-alive agent of an HTTP/1.1-only origin, a WebSocket tunnel — while
// the certificate is still checked against the IP (a certificate without that IP → 502). A route to
// a name still sends the name, so the servers' recording is shown to see SNI when there is one.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import { after, before, test } from 'node:test';
import type tls from 'node:tls';
import { WebSocketServer } from 'ws';
import { parseRoutes } from '../../../src/domain/routes.ts';
import { makeTlsMaterial, type TlsMaterial } from '../../../src/emulator/certs.ts';
import { authorityOf } from '../../../workers/proxy/attempt.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';
import { get, raw, statusOf } from '../../helpers/proxy-probes.ts';

interface Upstream {
  port: number;
  /** The SNI of each TLS connection (false: none sent). */
  names: (string | false)[];
  close(): void;
}

const warnings: Error[] = [];
process.on('warning', (w) => warnings.push(w));

let tlsWithIp: TlsMaterial;
let tlsNoIp: TlsMaterial;
const wss = new WebSocketServer({ noServer: true });
const servers: Upstream[] = [];

function serve(material: TlsMaterial, h1Only: boolean, host: string): Promise<Upstream> {
  const opts = { key: material.keyPem, cert: material.certPem };
  const srv = h1Only ? https.createServer(opts) : http2.createSecureServer({ ...opts, allowHTTP1: true });
  const names: (string | false)[] = [];
  srv.on('secureConnection', (s: tls.TLSSocket) => names.push(s.servername ?? false));
  srv.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${req.httpVersion} ${req.headers[':authority'] ?? req.headers.host} ${req.url}`);
  });
  srv.on('upgrade', (req, socket: net.Socket, head: Buffer) =>
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(`echo:${m}`))),
  );
  return new Promise((resolve) => {
    srv.listen(0, host, () => {
      const u = { port: (srv.address() as net.AddressInfo).port, names, close: () => srv.close() };
      servers.push(u);
      resolve(u);
    });
  });
}

async function proxyTo(material: TlsMaterial, routes: string[], t: { after(fn: () => unknown): void }) {
  const specs = parseRoutes(
    routes.map((text, i) => ({ text, source: `-route #${i + 1}` })),
    'run.internal.',
  );
  const f: Fixture = await startProxy({ port: 443, caPem: material.caPem }, { routes: specs });
  t.after(() => f.proxy.close());
  return f;
}

before(async () => {
  [tlsWithIp, tlsNoIp] = await Promise.all([
    makeTlsMaterial({ dnsNames: ['localhost'], ips: ['127.0.0.1', '::1'] }),
    makeTlsMaterial({ dnsNames: ['localhost'] }),
  ]);
});
after(() => {
  wss.close();
  for (const s of servers) s.close();
});

test('h2 origin at an IPv4 and an IPv6 literal: no SNI, certificate checked against the IP', async (t) => {
  const v4 = await serve(tlsWithIp, false, '127.0.0.1');
  const v6 = await serve(tlsWithIp, false, '::1');
  const f = await proxyTo(tlsWithIp, [`ip=https://127.0.0.1:${v4.port}`, `ip6=https://[::1]:${v6.port}`], t);
  assert.deepEqual(await get(f, 'ip', '/p'), {
    status: 200,
    code: undefined,
    body: `2.0 127.0.0.1:${v4.port} /p`,
  });
  assert.deepEqual(
    await get(f, 'ip6', '/p'),
    { status: 200, code: undefined, body: `2.0 [::1]:${v6.port} /p` },
    'an IPv6 authority in brackets',
  );
  assert.deepEqual([...v4.names, ...v6.names], [false, false]);
});

test('HTTP/1.1-only origin at an IP (keep-alive agent) and a WebSocket tunnel: no SNI', async (t) => {
  const up = await serve(tlsWithIp, true, '127.0.0.1');
  const f = await proxyTo(tlsWithIp, [`ip=https://127.0.0.1:${up.port}`], t);
  assert.deepEqual(await get(f, 'ip', '/p'), {
    status: 200,
    code: undefined,
    body: `1.1 127.0.0.1:${up.port} /p`,
  });
  const beforeTunnel = up.names.length;
  assert.ok(beforeTunnel >= 1);
  const frame = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
  const ws = await raw(
    f.port,
    Buffer.concat([
      Buffer.from(
        'GET /ws HTTP/1.1\r\nHost: ip\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
      frame,
    ]),
    /echo:hi/,
  );
  assert.equal(statusOf(ws), 101, ws);
  // the agent's connection (and the pool's probe that found ALPN http/1.1, if its handshake got
  // that far before it was closed), then the tunnel's own
  assert.ok(up.names.length > beforeTunnel, 'the tunnel made its own connection');
  assert.deepEqual(
    up.names.filter((n) => n !== false),
    [],
  );
});

test('a certificate without the IP is refused (502), also through a tunnel', async (t) => {
  const up = await serve(tlsNoIp, false, '127.0.0.1');
  const f = await proxyTo(tlsNoIp, [`ip=https://127.0.0.1:${up.port}`], t);
  const a = await get(f, 'ip', '/p');
  assert.equal(a.status, 502, a.body);
  assert.equal(a.code, 'RUNSD_UPSTREAM_CONNECT');
  assert.match(a.body, /IP: 127\.0\.0\.1 is not in the cert's list/);
  const ws = await raw(
    f.port,
    'GET /ws HTTP/1.1\r\nHost: ip\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  assert.equal(statusOf(ws), 502, ws);
});

test('a route to a name still sends the name as SNI', async (t) => {
  const up = await serve(tlsNoIp, false, '127.0.0.1');
  const f = await proxyTo(tlsNoIp, [`named=https://localhost:${up.port}`], t);
  const a = await get(f, 'named', '/p');
  assert.equal(a.status, 200, a.body);
  assert.deepEqual(up.names, ['localhost']);
});

test('Host / :authority: an IPv6 literal in brackets, with or without its own port', () => {
  assert.equal(authorityOf({ host: '::1' }), '[::1]');
  assert.equal(authorityOf({ host: 'fd00::5', ownPort: 8443 }), '[fd00::5]:8443');
  assert.equal(authorityOf({ host: '10.0.0.5' }), '10.0.0.5');
  assert.equal(authorityOf({ host: 'api.custom.test', ownPort: 8443 }), 'api.custom.test:8443');
});

test('Node never warned about an IP address as TLS server name (DEP0123)', () => {
  assert.deepEqual(
    warnings.filter((w) => (w as { code?: string }).code === 'DEP0123').map((w) => w.message),
    [],
  );
});

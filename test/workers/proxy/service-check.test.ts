// -check_services in the proxy (service-check.ts), in process against a fake HTTPS upstream with a
// fake service list: a name that is no service gets 404 RUNSD_NO_SERVICE before any token is
// fetched or connection made — for WebSocket upgrades too, written on the raw socket with the same
// status, headers and body as a plain request gets. Names in the list, and lists that cannot tell,
// go through as without the check.
import assert from 'node:assert/strict';
import type http from 'node:http';
import type net from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { parseRoutes } from '../../../src/domain/routes.ts';
import type { Verdict } from '../../../src/domain/service-list.ts';
import type { ServicesMirror } from '../../../workers/token/services-client.ts';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';
import { counted, healthy, raw, statusOf } from '../../helpers/proxy-probes.ts';

let up: FakeUpstream;
let f: Fixture;
let upgrades = 0;
const wss = new WebSocketServer({ noServer: true });
const NAMES = ['hello', 'world'];
/** How the fake list answers: at once, or after a wait (the region's first list on its way). */
let answer: (service: string) => Verdict | Promise<Verdict> = (s) =>
  NAMES.includes(s) ? 'known' : 'missing';
const later = (v: Verdict) => new Promise<Verdict>((r) => setTimeout(() => r(v), 50));

const mirror: ServicesMirror = {
  check: (service) => answer(service),
  names: () => NAMES,
  replacePort: () => {},
};

before(async () => {
  up = await startFakeUpstream({ h1Only: true });
  up.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    upgrades++;
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
  });
  f = await startProxy(up, {}, undefined, undefined, undefined, mirror);
});
after(async () => {
  wss.close();
  await f.proxy.close();
  await up.close();
});

function upgradeRequest(host: string, frame = Buffer.alloc(0)): Buffer {
  return Buffer.concat([
    Buffer.from(
      `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    ),
    frame,
  ]);
}

// A masked text frame "hi" (what a WebSocket client sends first).
const HI = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);

/** Status, the headers that describe the answer (not the connection's own), and the body. */
function parse(text: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    const name = l.slice(0, i).toLowerCase();
    if (!['date', 'connection', 'keep-alive'].includes(name)) headers[name] = l.slice(i + 1).trim();
  }
  return { status: statusOf(text), headers, body: rest.join('\r\n\r\n') };
}

test('a WebSocket upgrade to a name that is no service gets the same 404 as a plain request', async () => {
  const before = { upgrades, requests: up.requests, tokens: f.tokenCalls.length };
  const errors = await counted(f, 'runsd_proxy_errors_total', { code: 'RUNSD_NO_SERVICE' });
  const plain = parse(await raw(f.port, 'GET /ws HTTP/1.1\r\nHost: helo\r\nConnection: close\r\n\r\n'));
  const ws = parse(await raw(f.port, upgradeRequest('helo', HI)));
  assert.equal(plain.status, 404);
  assert.equal(plain.headers['x-runsd-error'], 'RUNSD_NO_SERVICE');
  assert.match(
    plain.body,
    /^runsd: helo: no Cloud Run service "helo" in us-central1: did you mean hello\?\n/,
  );
  assert.match(plain.body, /-check_services=false/, 'with the hint');
  assert.deepEqual(ws, plain, 'raw upgrade answer = the normal path');
  assert.equal(upgrades, before.upgrades, 'nothing tunnelled');
  assert.equal(up.requests, before.requests);
  assert.equal(f.tokenCalls.length, before.tokens, 'no token fetched for a name that is no service');
  assert.equal(await counted(f, 'runsd_proxy_errors_total', { code: 'RUNSD_NO_SERVICE' }), errors + 2);
  await healthy(f);
});

test('an upgrade to a listed service is tunnelled', async () => {
  const got = await raw(f.port, upgradeRequest('hello', HI), /echo:hi/);
  assert.equal(statusOf(got), 101, got);
  assert.match(got, /echo:hi/);
  await healthy(f);
});

test('while the list is on its way the upgrade waits for it: missing → 404, unchecked → tunnelled', async (t) => {
  t.after(() => {
    answer = (s) => (NAMES.includes(s) ? 'known' : 'missing');
  });
  answer = () => later('missing');
  const refused = await raw(f.port, upgradeRequest('helo.us-central1'));
  assert.equal(statusOf(refused), 404, refused);
  assert.match(refused, /X-Runsd-Error: RUNSD_NO_SERVICE/);
  const before = upgrades;
  answer = () => later('unchecked');
  const open = await raw(f.port, upgradeRequest('helo', HI), /echo:hi/);
  assert.equal(statusOf(open), 101, 'a list that cannot tell changes nothing');
  assert.equal(upgrades, before + 1);
  await healthy(f);
});

test('a -route name is not checked against the service list (upgrade and plain)', async (t) => {
  const routes = parseRoutes(
    [{ text: 'billing=https://hello-123456789012.us-central1.run.app', source: '-route #1' }],
    'run.internal.',
  );
  const r = await startProxy(up, { routes }, undefined, undefined, undefined, {
    ...mirror,
    check: () => 'missing',
  });
  t.after(() => r.proxy.close());
  const got = await raw(r.port, upgradeRequest('billing', HI), /echo:hi/);
  assert.equal(statusOf(got), 101, got);
  const plain = await raw(r.port, 'GET / HTTP/1.1\r\nHost: billing\r\nConnection: close\r\n\r\n');
  assert.equal(statusOf(plain), 200, plain);
});

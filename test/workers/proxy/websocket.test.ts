// WebSocket through the proxy: the handshake carries the token, then frames flow both ways; the
// upstream offers only HTTP/1.1 here, which also covers the HTTP/1.1 upstream path.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

let up: FakeUpstream;
let f: Fixture;
let env: Fixture;
const wss = new WebSocketServer({ noServer: true });

before(async () => {
  up = await startFakeUpstream({ h1Only: true });
  up.server.on('upgrade', (req, socket, head) => {
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(`auth=${req.headers['x-serverless-authorization']}`);
      ws.on('message', (m) => ws.send(`echo:${m}`));
    });
  });
  f = await startProxy(up);
  env = await startProxy(up, { mode: 'env' });
});
after(async () => {
  wss.close();
  await f.proxy.close();
  await env.proxy.close();
  await up.close();
});

function talk(url: string, opts: WebSocket.ClientOptions): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    const got: string[] = [];
    ws.on('message', (m) => {
      got.push(String(m));
      if (got.length === 1) ws.send('ping');
      else ws.close();
    });
    ws.on('close', () => resolve(got));
    ws.on('error', reject);
  });
}

test('WebSocket: token on the handshake, frames both ways', async () => {
  const got = await talk(`ws://127.0.0.1:${f.port}/ws`, { headers: { host: 'hello' } });
  assert.deepEqual(got, ['auth=Bearer tok-for-https://hello-123456789012.us-central1.run.app', 'echo:ping']);
});

test('a refused upgrade reaches the client as the upstream sent it', async () => {
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${f.port}/refuse`, { headers: { host: 'hello' } });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
  assert.equal(status, 403);
});

test('an HTTP/1.1-only upstream serves plain requests over a keep-alive agent', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: f.port, path: '/h1', headers: { host: 'hello' } }, (r) => {
        let s = '';
        r.on('data', (d) => (s += d));
        r.on('end', () => resolve(s));
      })
      .on('error', reject);
  });
  const got = JSON.parse(body);
  assert.equal(got.httpVersion, '1.1');
  assert.match(got.headers['x-serverless-authorization'], /^Bearer tok-for-/);
});

// Env mode's plain forwarding to external hosts that misbehave: refusals, resets, silence, cut bodies,
// odd statuses, bad ports, a dropped kept-alive connection. Each must get a clear answer and leave
// the proxy serving with no client socket or stream behind.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { healthy, listen, proxyGet, raw, statusOf } from '../../helpers/proxy-probes.ts';
import { env, useFakeUpstream } from '../../helpers/proxy-suite.ts';

useFakeUpstream({ env: true });

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

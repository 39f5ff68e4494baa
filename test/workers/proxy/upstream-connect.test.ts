// Reaching the upstream fails: a TCP reset in the TLS handshake, plain text for a ClientHello, a name
// that does not resolve, a stall after the handshake, garbage after negotiating h2. Each is a clear
// 502/504 and the proxy keeps serving.
import assert from 'node:assert/strict';
import type dns from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { testCert } from '../../helpers/fake-upstream.ts';
import { startProxy } from '../../helpers/proxy-fixture.ts';
import { counted, gauge, get, healthy, listen, proxyInFrontOf, waitFor } from '../../helpers/proxy-probes.ts';
import { up, useFakeUpstream } from '../../helpers/proxy-suite.ts';

useFakeUpstream();

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
  const events = (event: string) => counted(f, 'runsd_proxy_upstream_connections_total', { event });
  assert.equal(await events('connect_failed'), 2);
  assert.equal(await events('h2'), 0);
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
  assert.equal(await counted(f, 'runsd_proxy_upstream_connections_total', { event: 'tls_failed' }), 1);
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
  assert.equal(await counted(f, 'runsd_proxy_upstream_connections_total', { event: 'connect_failed' }), 1);
  fail = false;
  await healthy(f);
  assert.equal(await counted(f, 'runsd_proxy_upstream_connections_total', { event: 'h2' }), 1);
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
  assert.equal(await counted(f, 'runsd_proxy_upstream_connections_total', { event: 'h2' }), n);
  assert.ok((await counted(f, 'runsd_proxy_upstream_connections_total', { event: 'session_error' })) >= 1);
  await waitFor('no streams left', async () => (await gauge(f, 'runsd_proxy_active_streams')) === 0);
});

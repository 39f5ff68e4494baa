// An HTTP/1.1 upstream that answers wrongly: status 000 or 700, a 101 to a plain GET, a close
// mid-body. Each is a clear 502 (or a cut the client sees) and the proxy keeps serving.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import tls from 'node:tls';
import { testCert } from '../../helpers/fake-upstream.ts';
import { startProxy } from '../../helpers/proxy-fixture.ts';
import { get, healthy, listen, proxyGet, proxyInFrontOf } from '../../helpers/proxy-probes.ts';
import { up, useFakeUpstream } from '../../helpers/proxy-suite.ts';

useFakeUpstream();

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

test('HTTP/1.1 upstream sends status 000 → 502 RUNSD_UPSTREAM_PROTOCOL, proxy serves on', async (t) => {
  const bad = scriptedH1Upstream('HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n');
  const f = await proxyInFrontOf(t, bad);
  const r = await get(f, 'hello', '/zero');
  assert.equal(r.status, 502);
  assert.equal(r.code, 'RUNSD_UPSTREAM_PROTOCOL');
  assert.match(r.body, /hello-123456789012\.us-central1\.run\.app answered with status 0/);
  await healthy(f);
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

// The upstream sends GOAWAY every 50 streams; 1,000 requests over h2c and HTTP/1.1 must all succeed.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { test } from 'node:test';
import { startFakeUpstream } from '../../helpers/fake-upstream.ts';
import { startProxy } from '../../helpers/proxy-fixture.ts';

async function pool<T>(n: number, width: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}

test('GOAWAY every 50 streams: 1,000 h2c + 1,000 HTTP/1.1 requests, zero failures', async (t) => {
  const up = await startFakeUpstream({ goawayAfterStreams: 50 });
  const f = await startProxy(up);
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  t.after(async () => {
    c.close();
    agent.destroy();
    await f.proxy.close();
    await up.close();
  });
  const h2 = await pool(1000, 32, (i) => {
    return new Promise<number>((resolve) => {
      // Every fourth request has a body: those are replayed when the server refused the stream.
      const post = i % 4 === 0;
      const s = c.request(
        { ':path': `/h2/${i}`, ':authority': 'hello', ':method': post ? 'POST' : 'GET' },
        { endStream: !post },
      );
      if (post) s.end(`body-${i}`);
      let status = 0;
      let body = '';
      s.on('response', (h) => (status = Number(h[':status'])));
      s.on('data', (d) => (body += d));
      s.on('end', () =>
        resolve(status === 200 && JSON.parse(body).size === (post ? `body-${i}`.length : 0) ? 200 : status),
      );
      s.on('error', () => resolve(-1));
    });
  });
  const h1 = await pool(1000, 16, (i) => {
    return new Promise<number>((resolve) => {
      http
        .get(
          { host: '127.0.0.1', port: f.port, path: `/h1/${i}`, headers: { host: 'hello' }, agent },
          (r) => {
            r.resume();
            r.on('end', () => resolve(r.statusCode ?? 0));
          },
        )
        .on('error', () => resolve(-1));
    });
  });
  const bad = [...h2, ...h1].filter((s) => s !== 200);
  assert.deepEqual(bad, []);
  assert.equal(up.requests, 2000);
  const m = await f.registry.getSingleMetricAsString('runsd_proxy_goaways_total');
  const goaways = Number(/ (\d+)$/m.exec(m)?.[1]);
  // Streams already in flight when GOAWAY lands are still served, so sessions live a little past 50.
  assert.ok(goaways >= 10, `GOAWAYs seen: ${goaways}`);
});

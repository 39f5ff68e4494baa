// Probes for the proxy's fault tests: raw bytes in, a plain GET, the socket and stream gauges, "still
// serves and holds nothing" (healthy), and a proxy in front of a scripted upstream. proxyInFrontOf
// trusts `up`'s CA: a file using it calls useFakeUpstream().
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { type Fixture, startProxy } from './proxy-fixture.ts';
import { up } from './proxy-suite.ts';

/** Sends raw bytes, collects everything until the proxy closes (or `until` matches, then closes). */
export function raw(port: number, text: string | Buffer, until?: RegExp): Promise<string> {
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

export async function get(
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

export async function gauge(f: Fixture, name: string): Promise<number> {
  const m = await f.registry.getSingleMetricAsString(name);
  const line = m.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 'NaN');
}

/** One labelled series of a counter, e.g. counted(f, 'runsd_proxy_upstream_connections_total', { event: 'h2' }). */
export async function counted(f: Fixture, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await f.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, want]) => x.labels[k] === want));
  return v?.value ?? Number.NaN;
}

export async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The proxy still serves, and holds no client socket or stream once its clients are gone. */
export async function healthy(f: Fixture): Promise<void> {
  const r = await get(f, 'hello', '/after');
  assert.equal(r.status, 200, r.body);
  await waitFor('no client sockets left', async () => (await gauge(f, 'runsd_proxy_active_sockets')) === 0);
  await waitFor('no streams left', async () => (await gauge(f, 'runsd_proxy_active_streams')) === 0);
}

export function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

export async function listen(srv: net.Server): Promise<number> {
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as net.AddressInfo).port;
}

/** A proxy whose upstream is `srv` (listening on a free port), both closed after the test. */
export async function proxyInFrontOf(
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

export function proxyGet(
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

// Exact bytes on both sides of the proxy: a scripted HTTP/1.1-only TLS upstream (rawUpstream), raw
// HTTP/1.x requests read until the proxy closes (rawBytes, rawH1), one h2c request (h2c), and
// stillServes: the proxy answers HTTP/1.1 and h2c afterwards.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { testCert } from './fake-upstream.ts';
import type { Fixture } from './proxy-fixture.ts';

export interface Up {
  port: number;
  caPem: string;
  requests: string[];
  close(): Promise<void>;
}

export const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** An HTTP/1.1-only TLS upstream answering each request path with exact bytes. */
export async function rawUpstream(responses: Record<string, string>): Promise<Up> {
  const { cert, key } = testCert();
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const srv = tls.createServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      const path = buf.split(' ')[1] ?? '/';
      buf = '';
      requests.push(path);
      s.write(Buffer.from(responses[path] ?? OK, 'latin1'));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    caPem: cert,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

export interface H1Result {
  status: number;
  code: string | undefined;
  head: string;
  rest: string;
}

/** One HTTP/1.x request over a raw socket (Connection: close), read until the proxy closes. */
export function rawH1(
  f: Fixture,
  path: string,
  o: { method?: string; v10?: boolean } = {},
): Promise<H1Result> {
  return rawBytes(
    f,
    `${o.method ?? 'GET'} ${path} HTTP/1.${o.v10 ? '0' : '1'}\r\nHost: hello\r\nConnection: close\r\n\r\n`,
  );
}

export interface H2Result {
  status: number;
  code: string | undefined;
  body: string;
  rstCode: number | undefined;
}

export function h2c(f: Fixture, path: string, headers: http2.OutgoingHttpHeaders = {}): Promise<H2Result> {
  return new Promise((resolve) => {
    const c = http2.connect(`http://127.0.0.1:${f.port}`);
    c.on('error', () => {});
    const r = c.request({ ':path': path, ':authority': 'hello', ...headers });
    let status = 0;
    let code: string | undefined;
    let body = '';
    r.on('response', (h) => {
      status = Number(h[':status']);
      code = h['x-runsd-error'] as string | undefined;
    });
    r.setEncoding('utf8');
    r.on('data', (d: string) => (body += d));
    r.on('error', () => {});
    r.on('close', () => {
      c.close();
      resolve({ status, code, body, rstCode: r.rstCode });
    });
  });
}

export async function stillServes(f: Fixture): Promise<void> {
  const a = await rawH1(f, '/after');
  assert.equal(a.status, 200, 'the proxy must still serve HTTP/1.1 afterwards');
  const b = await h2c(f, '/after');
  assert.equal(b.status, 200, 'the proxy must still serve h2c afterwards');
}

/** Raw bytes to the proxy; returns what it answered before closing. */
export function rawBytes(f: Fixture, text: string): Promise<H1Result> {
  return new Promise((resolve, reject) => {
    const s = net.connect(f.port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => {
      const i = out.indexOf('\r\n\r\n');
      const head = i < 0 ? out : out.slice(0, i);
      resolve({
        status: Number(/^HTTP\/1\.\d (\d{3})/.exec(head)?.[1] ?? 0),
        code: /\r\nx-runsd-error: (\S+)/i.exec(head)?.[1],
        head,
        rest: i < 0 ? '' : out.slice(i + 4),
      });
    });
    s.write(text);
  });
}

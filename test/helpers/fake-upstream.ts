// A small HTTPS (h2 + HTTP/1.1) upstream for the proxy's in-process tests, used until/besides the
// emulator's front end: echoes what it received, streams, sends trailers, GOAWAYs every N streams.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeUpstream {
  port: number;
  server: http2.Http2SecureServer | https.Server;
  caPem: string;
  requests: number;
  close(): Promise<void>;
}

let cached: { cert: string; key: string } | null = null;
export function testCert(): { cert: string; key: string } {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'runsd-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=run.app',
        '-addext',
        'subjectAltName=DNS:*.run.app,DNS:*.a.run.app,DNS:*.us-central1.run.app,DNS:*.europe-west1.run.app',
      ],
      { stdio: 'ignore' },
    );
    cached = {
      cert: readFileSync(join(dir, 'c.pem'), 'utf8'),
      key: readFileSync(join(dir, 'k.pem'), 'utf8'),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startFakeUpstream(
  opts: { h1Only?: boolean; goawayAfterStreams?: number } = {},
): Promise<FakeUpstream> {
  const { cert: c, key } = testCert();
  const server = opts.h1Only
    ? https.createServer({ cert: c, key })
    : http2.createSecureServer({ cert: c, key, allowHTTP1: true });
  const state = { requests: 0 };
  const streamsPerSession = new WeakMap<object, number>();
  server.on('stream', (_s: http2.ServerHttp2Stream) => {
    const session = _s.session;
    if (!session || !opts.goawayAfterStreams) return;
    const n = (streamsPerSession.get(session) ?? 0) + 1;
    streamsPerSession.set(session, n);
    if (n === opts.goawayAfterStreams) setImmediate(() => !session.destroyed && session.close());
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname === '/interim-then-silence') {
      // A 103 Early Hints, then never the final response.
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      return;
    }
    if (url.pathname === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const t = setInterval(() => {
        res.write(`data: ${i++}\n\n`);
        if (i === 3) {
          clearInterval(t);
          res.end();
        }
      }, 50);
      return;
    }
    if (url.pathname === '/bytes') {
      const n = Number(url.searchParams.get('n') ?? '0');
      const chunk = Buffer.alloc(64 * 1024, 7);
      const hash = createHash('sha256');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
      let left = n;
      const pump = () => {
        while (left > 0) {
          const c = chunk.subarray(0, Math.min(left, chunk.length));
          left -= c.length;
          hash.update(c);
          if (!res.write(c)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    if (url.pathname === '/trailers') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end('body');
      return;
    }
    const hash = createHash('sha256');
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      hash.update(d);
    });
    req.on('end', () => {
      const status = Number(url.searchParams.get('status') ?? '200');
      const body = JSON.stringify({
        method: req.method,
        path: req.url,
        host: req.headers.host ?? req.headers[':authority'],
        httpVersion: req.httpVersion,
        headers: req.headers,
        size,
        sha256: hash.digest('hex'),
        trailers: req.trailers,
      });
      res.writeHead(status, { 'content-type': 'application/json', 'x-upstream': 'fake' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    caPem: c,
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        setTimeout(r, 500).unref();
      }),
  };
}

// Built-in behaviour of every emulated service (paths work on any service name):
//   /status/NNN  that status     /sse?n=N&interval=MS  server-sent events     /bytes/N  N bytes (streamed)
//   ?sleep=MS    delay first     anything else         echo (JSON of what arrived)
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export type Req = IncomingMessage | Http2ServerRequest;
/** What both response kinds (HTTP/1.1 and the h2 compat API) offer that the services use. */
export interface Res {
  writeHead(code: number, headers?: Record<string, string>): unknown;
  write(chunk: string | Buffer): unknown;
  end(chunk?: string | Buffer): unknown;
}
export type AnyRes = ServerResponse | Http2ServerResponse;

export interface RouteContext {
  service: string;
  region: string;
  form: string;
  /** the traffic tag of a TAG---SERVICE host */
  tag?: string;
  protocol: 'h2' | 'http/1.1';
  auth: { via: string; aud: unknown; email: unknown } | null;
}

export interface Echo {
  service: string;
  region: string;
  form: string;
  tag?: string;
  protocol: 'h2' | 'http/1.1';
  httpVersion: string;
  method: string;
  host: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  bodySize: number;
  bodySha256: string;
  auth: RouteContext['auth'];
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readBody(req: Req): Promise<{ size: number; sha256: string }> {
  const h = crypto.createHash('sha256');
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    h.update(chunk);
  }
  return { size, sha256: h.digest('hex') };
}

export async function serveBuiltin(req: Req, res: Res, ctx: RouteContext): Promise<number> {
  const url = new URL(req.url ?? '/', 'https://x');
  const sleepMs = Number(url.searchParams.get('sleep') ?? 0);
  if (sleepMs > 0) await sleep(Math.min(sleepMs, 60_000));
  const path = url.pathname;
  const status = path.match(/^\/status\/(\d{3})$/);
  if (status) {
    const code = Number(status[1]);
    await readBody(req);
    res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
    if (code === 204 || code === 304) res.end();
    else res.end(`${code}\n`);
    return code;
  }
  const bytes = path.match(/^\/bytes\/(\d+)$/);
  if (bytes) {
    await readBody(req);
    // Streamed with backpressure, so a 1 GiB download (bench/transfer.ts) costs the emulator nothing.
    const n = Math.min(Number(bytes[1]), 16 * 2 ** 30);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
    const out = res as AnyRes as NodeJS.WritableStream & { destroyed: boolean };
    for (let left = n; left > 0 && !out.destroyed; left -= CHUNK.length) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      if (!out.write(piece))
        await new Promise<void>((r) => {
          const done = () => {
            out.off('drain', done);
            out.off('close', done);
            r();
          };
          out.once('drain', done);
          out.once('close', done); // the client went away
        });
    }
    res.end();
    return 200;
  }
  if (path === '/sse') {
    const n = Number(url.searchParams.get('n') ?? 3);
    const interval = Number(url.searchParams.get('interval') ?? 10);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (let i = 0; i < n; i++) {
      if (i > 0) await sleep(interval);
      res.write(`id: ${i}\nevent: tick\ndata: ${JSON.stringify({ i, service: ctx.service })}\n\n`);
    }
    res.end();
    return 200;
  }
  const body = await readBody(req);
  const echo: Echo = {
    service: ctx.service,
    region: ctx.region,
    form: ctx.form,
    ...(ctx.tag !== undefined ? { tag: ctx.tag } : {}),
    protocol: ctx.protocol,
    httpVersion: req.httpVersion,
    method: req.method ?? '',
    host: String(req.headers[':authority'] ?? req.headers.host ?? ''),
    path,
    query: Object.fromEntries(url.searchParams),
    headers: { ...req.headers },
    rawHeaders: req.rawHeaders,
    bodySize: body.size,
    bodySha256: body.sha256,
    auth: ctx.auth,
  };
  const out = JSON.stringify(echo, null, 2) + '\n';
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(out)),
  });
  res.end(out);
  return 200;
}

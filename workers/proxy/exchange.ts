// One request through the upstream: send headers + body, relay the response (headers, streamed body,
// trailers, trailers-only), retry what the server provably never processed. Resolves with the
// status sent to the app; rejects with a RunsdError only while no response header was sent.
import http2 from 'node:http2';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { endToEnd, forwardableTrailers, type Headers } from '../../src/domain/http-headers.ts';
import { RunsdError } from '../../src/errors.ts';
import { BodyFeeder } from './body-feeder.ts';
import type { Downstream } from './downstream.ts';
import type { UpstreamPool } from './upstream-pool.ts';

const { NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = http2.constants;
const MAX_ATTEMPTS = 4;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export interface ExchangeOptions {
  pool: UpstreamPool;
  host: string;
  port: number;
  timeoutMs: number;
  /** Called when the upstream's response headers arrive (latency metric). */
  onHeaders?: () => void;
}

interface Attempt {
  ds: Downstream;
  headers: Headers;
  feeder: BodyFeeder | null;
  o: ExchangeOptions;
  n: number;
}

export async function exchange(ds: Downstream, headers: Headers, o: ExchangeOptions): Promise<number> {
  const feeder = ds.body ? new BodyFeeder(ds.body) : null;
  const a: Attempt = { ds, headers, feeder, o, n: 0 };
  for (;;) {
    a.n++;
    const r = await once(a);
    if (r !== 'retry') return r;
  }
}

function canRetry(a: Attempt): boolean {
  return a.n < MAX_ATTEMPTS && (a.feeder === null || a.feeder.canReplay);
}

async function once(a: Attempt): Promise<number | 'retry'> {
  const up = a.o.pool.get(a.o.host);
  const u = 'then' in up ? await up : up;
  return u.kind === 'h2' ? viaH2(a, u.session) : viaH1(a, u.agent);
}

function timeoutError(a: Attempt): RunsdError {
  return new RunsdError('RUNSD_UPSTREAM_TIMEOUT', `${a.o.host} sent no response within ${a.o.timeoutMs} ms`);
}

/** Relay an upstream response body + trailers to the app. */
function relay(
  a: Attempt,
  status: number,
  headers: Headers,
  endStream: boolean,
  body: Readable,
  trailers: () => Headers | null,
): void {
  const { ds } = a;
  const grpc =
    typeof headers['content-type'] === 'string' && headers['content-type'].startsWith('application/grpc');
  const w = ds.respond(status, endToEnd(headers), endStream, ds.trailersOk || grpc);
  if (endStream) return;
  body.pipe(w, { end: false });
  body.once('end', () => {
    const t = trailers();
    ds.finish(t ? forwardableTrailers(t) : null);
  });
}

function viaH2(a: Attempt, session: http2.ClientHttp2Session): Promise<number | 'retry'> {
  const { ds, o, feeder } = a;
  let stream: http2.ClientHttp2Stream;
  try {
    stream = session.request(
      { ...a.headers, ':method': ds.method, ':path': ds.path, ':scheme': 'https', ':authority': o.host },
      { endStream: feeder === null },
    );
  } catch (err) {
    // The session started closing between get() and request(): a fresh one will take it.
    o.pool.retire(o.host, session);
    if (canRetry(a)) return Promise.resolve('retry');
    return Promise.reject(new RunsdError('RUNSD_UPSTREAM_RESET', `${o.host}: ${(err as Error).message}`));
  }
  return new Promise((resolve, reject) => {
    let responded = false;
    let settled = false;
    let trailers: Headers | null = null;
    const timer = setTimeout(() => {
      if (responded) return;
      settled = true;
      stream.close(NGHTTP2_CANCEL);
      reject(timeoutError(a));
    }, o.timeoutMs);
    stream.on('response', (h, flags) => {
      responded = true;
      clearTimeout(timer);
      feeder?.commit();
      o.onHeaders?.();
      const status = Number(h[':status']);
      if (status >= 100 && status < 200) return; // an interim response; node emits the final one too
      settled = true;
      relay(
        a,
        status,
        h as Headers,
        (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
        stream,
        () => trailers,
      );
      resolve(status);
    });
    stream.on('trailers', (t) => {
      trailers = t as Headers;
    });
    stream.on('error', () => {
      // Handled on 'close' where rstCode and state are final.
    });
    stream.once('close', () => {
      clearTimeout(timer);
      if (settled) {
        // After the response started: a reset mid-body must not look like a clean end to the app.
        if (stream.rstCode !== NGHTTP2_NO_ERROR && !stream.readableEnded) ds.abort();
        return;
      }
      settled = true;
      feeder?.detach();
      const refused = stream.rstCode === NGHTTP2_REFUSED_STREAM || stream.pending || stream.id === undefined;
      const lost = !responded && IDEMPOTENT.has(ds.method) && (session.destroyed || session.closed);
      if ((refused || lost) && canRetry(a)) {
        o.pool.retire(o.host, session);
        resolve('retry');
        return;
      }
      reject(
        new RunsdError(
          'RUNSD_UPSTREAM_RESET',
          `${o.host} reset the stream before responding (HTTP/2 error code ${stream.rstCode ?? 'unknown'})`,
        ),
      );
    });
    ds.onGone(() => {
      if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
    });
    feeder?.attach(stream);
  });
}

function viaH1(a: Attempt, agent: https.Agent): Promise<number | 'retry'> {
  const { ds, o, feeder } = a;
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = https.request({
      agent,
      host: o.host,
      servername: o.host,
      port: o.port,
      method: ds.method,
      path: ds.path,
      headers: { ...a.headers, host: o.host } as Record<string, string>,
      setHost: false,
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(timeoutError(a));
    }, o.timeoutMs);
    req.on('response', (res) => {
      settled = true;
      clearTimeout(timer);
      feeder?.commit();
      o.onHeaders?.();
      const status = res.statusCode ?? 502;
      const empty = ds.method === 'HEAD' || status === 204 || status === 304;
      relay(a, status, res.headers as Headers, empty, res, () => res.trailers as Headers);
      if (empty) res.resume();
      res.once('aborted', () => ds.abort());
      resolve(status);
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      feeder?.detach();
      // A kept-alive socket the server had just closed: nothing was processed.
      if (req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && canRetry(a)) {
        resolve('retry');
        return;
      }
      reject(new RunsdError('RUNSD_UPSTREAM_CONNECT', `${o.host}: ${err.message}`, { cause: err }));
    });
    ds.onGone(() => req.destroy());
    if (feeder) feeder.attach(req);
    else req.end();
  });
}

// One request through the upstream: send headers + body, relay the response (headers, streamed body,
// trailers, trailers-only), retry what the server provably never processed. Resolves with the
// status sent to the app; rejects with a RunsdError only while no response header was sent.

import type { ClientRequest } from 'node:http';
import type http2 from 'node:http2';
import type { Agent } from 'node:https';
import type { Readable, Writable } from 'node:stream';
import { endToEnd, forwardableTrailers, type Headers } from '../../src/domain/http-headers.ts';
import { RunsdError } from '../../src/errors.ts';
import { BodyFeeder } from './body-feeder.ts';
import { H2, https } from './builtins.ts';
import type { Downstream } from './downstream.ts';
import { protocolError } from './errors.ts';
import type { UpstreamPool } from './upstream-pool.ts';

const { REFUSED_STREAM: NGHTTP2_REFUSED_STREAM, CANCEL: NGHTTP2_CANCEL, NO_ERROR: NGHTTP2_NO_ERROR } = H2;
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

export function exchange(ds: Downstream, headers: Headers, o: ExchangeOptions): Promise<number> {
  const feeder = ds.body
    ? new BodyFeeder(ds.body, ds.trailersAnnounced ? endWithTrailers(ds) : undefined)
    : null;
  return attempt({ ds, headers, feeder, o, n: 0 });
}

/** Ends an upstream request with the app's request trailers: an HTTP/2 stream opened with
 * waitForTrailers sends them on 'wantTrailers'; an HTTP/1.1 request adds them to its last chunk. */
function endWithTrailers(ds: Downstream): (t: Writable) => void {
  return (t) => {
    const trailers = forwardableTrailers(ds.requestTrailers() ?? {});
    if ('sendTrailers' in t) {
      // HTTP/2. An announced trailer section that never came is sent empty: the stream still has to end.
      t.once('wantTrailers', () => (t as http2.ClientHttp2Stream).sendTrailers(trailers));
    } else if (Object.keys(trailers).length > 0) {
      (t as ClientRequest).addTrailers(trailers as Record<string, string>);
    }
    t.end();
  };
}

function canRetry(a: Attempt): boolean {
  return a.n < MAX_ATTEMPTS && (a.feeder === null || a.feeder.canReplay);
}

function attempt(a: Attempt): Promise<number> {
  a.n++;
  const up = a.o.pool.get(a.o.host);
  if ('then' in up) return up.then((u) => (u.kind === 'h2' ? viaH2(a, u.session) : viaH1(a, u.agent)));
  return up.kind === 'h2' ? viaH2(a, up.session) : viaH1(a, up.agent);
}

function timeoutError(a: Attempt): RunsdError {
  return new RunsdError('RUNSD_UPSTREAM_TIMEOUT', `${a.o.host} sent no response within ${a.o.timeoutMs} ms`);
}

/** Whether a complete upstream answer means the rest of the request body is not wanted: an error
 * status, or the server closing the connection. */
export function refusesBody(status: number, connection: string | undefined): boolean {
  return status >= 400 || /(^|,)\s*close\s*(,|$)/i.test(connection ?? '');
}

/** Relay an upstream response body + trailers to the app. Throws RUNSD_UPSTREAM_PROTOCOL (nothing
 * sent to the app yet) when the response head cannot be relayed; the caller then fails the request
 * instead of letting the throw escape its 'response' listener, which would kill the room. */
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
  const w = respondSafely(ds, a.o.host, status, endToEnd(headers), endStream, ds.trailersOk || grpc);
  if (endStream) return;
  // A hand-rolled pipe: stream.pipe() sets up seven listeners per response, which shows for the
  // small responses that dominate service-to-service calls. Backpressure: pause until 'drain'.
  const resume = () => body.resume();
  body.on('data', (chunk: Buffer) => {
    if (w.destroyed) return void body.destroy();
    if (!w.write(chunk)) {
      body.pause();
      w.once('drain', resume);
    }
  });
  body.once('end', () => {
    // node also ends an h2 stream's readable side when its session dies (rstCode CANCEL set, no
    // error): that body is cut short, and finishing it would hand the app a clean, truncated end.
    const rst = (body as Partial<http2.ClientHttp2Stream>).rstCode;
    if (rst !== undefined && rst !== NGHTTP2_NO_ERROR) return void ds.abort();
    const t = trailers();
    ds.finish(t ? forwardableTrailers(t) : null);
  });
}

/** ds.respond for an upstream's status and headers, which node:http / node:http2 validate by
 * throwing: a final status must be 200–599 (node:http2 refuses others and node:http refuses < 100;
 * a 1xx here is an unasked 101 or a 1xx sent as final), and the app may be gone (a destroyed h2
 * stream throws ERR_HTTP2_INVALID_STREAM). */
export function respondSafely(
  ds: Downstream,
  host: string,
  status: number,
  headers: Headers,
  endStream: boolean,
  trailers: boolean,
): Writable {
  if (!(status >= 200 && status <= 599))
    throw protocolError(host, `answered with status ${status}, which is not a final HTTP status (200-599)`);
  try {
    return ds.respond(status, headers, endStream, trailers);
  } catch (err) {
    throw protocolError(host, `sent a response that cannot be relayed: ${(err as Error).message}`);
  }
}

function viaH2(a: Attempt, session: http2.ClientHttp2Session): Promise<number> {
  const { ds, o, feeder } = a;
  let stream: http2.ClientHttp2Stream;
  try {
    // The header object is ours (built per request): add the pseudo headers in place.
    const h = a.headers;
    h[':method'] = ds.method;
    h[':path'] = ds.path;
    h[':scheme'] = 'https';
    h[':authority'] = o.host;
    stream = session.request(h, {
      endStream: feeder === null,
      waitForTrailers: feeder !== null && ds.trailersAnnounced,
    });
  } catch (err) {
    // Only a session that started closing between get() and request() is replaced and the request
    // retried; any other throw is about the request itself (e.g. h2 CONNECT headers) and must not
    // cost healthy sessions.
    if (session.closed || session.destroyed) {
      o.pool.retire(o.host, session);
      if (canRetry(a)) return attempt(a);
      return Promise.reject(new RunsdError('RUNSD_UPSTREAM_RESET', `${o.host}: ${(err as Error).message}`));
    }
    return Promise.reject(
      new RunsdError(
        'RUNSD_UPSTREAM_CONNECT',
        `${o.host}: request refused by the HTTP/2 client: ${(err as Error).message}`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    let responded = false;
    let settled = false;
    let gone = false;
    let trailers: Headers | null = null;
    const timer = setTimeout(() => {
      if (responded) return;
      settled = true;
      stream.close(NGHTTP2_CANCEL);
      reject(timeoutError(a));
    }, o.timeoutMs);
    stream.on('response', (h, flags) => {
      feeder?.commit();
      const status = Number(h[':status']);
      // An interim response (100, 103): node emits the final one too. Until it comes, the response
      // timeout keeps running, so an upstream that never sends it still ends in a 504.
      if (status >= 100 && status < 200) return;
      // Headers racing the response timeout (or the stream's close): the app already has its answer.
      if (settled) return;
      responded = true;
      clearTimeout(timer);
      o.onHeaders?.();
      settled = true;
      try {
        relay(a, status, h as Headers, (flags & H2.FLAG_END_STREAM) !== 0, stream, () => trailers);
      } catch (err) {
        // Nothing reached the app: the 502 about to be sent must not be cut by the close below.
        responded = false;
        stream.close(NGHTTP2_CANCEL);
        reject(err);
        return;
      }
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
        feeder?.discard(stream);
        // After the response started: a reset mid-body must not look like a clean end to the app.
        // (Not after a timeout: the app is being sent its 504, which abort() would cut.)
        if (responded && stream.rstCode !== NGHTTP2_NO_ERROR && !stream.readableEnded) ds.abort();
        return;
      }
      settled = true;
      feeder?.detach();
      const refused = stream.rstCode === NGHTTP2_REFUSED_STREAM || stream.pending || stream.id === undefined;
      const lost = !responded && IDEMPOTENT.has(ds.method) && (session.destroyed || session.closed);
      // A stream we cancelled because the app left is not retried (it would look refused).
      if ((refused || lost) && !gone && canRetry(a)) {
        o.pool.retire(o.host, session);
        resolve(attempt(a));
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
      gone = true;
      if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
    });
    feeder?.attach(stream);
  });
}

function viaH1(a: Attempt, agent: Agent): Promise<number> {
  const { ds, o, feeder } = a;
  return new Promise((resolve, reject) => {
    let settled = false;
    let gone = false;
    const req = https().request({
      agent,
      host: o.host,
      servername: o.host,
      port: o.port,
      method: ds.method,
      path: ds.path,
      headers: h1Headers(a.headers, o.host),
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
      try {
        relay(a, status, res.headers as Headers, empty, res, () => res.trailers as Headers);
      } catch (err) {
        req.destroy();
        reject(err);
        return;
      }
      if (empty) res.resume();
      res.once('aborted', () => ds.abort());
      // A complete refusal of a body the upstream has not read in full (a 413, or any answer that
      // closes the connection): stop sending it. node's client would keep this request open until
      // the server's keep-alive timeout, and with it the app's paused body. A 2xx that does not close
      // is the server answering early while it keeps reading (RFC 9112 §9.5): the body goes on.
      res.once('end', () => {
        if (feeder && !feeder.complete && refusesBody(status, res.headers.connection)) {
          feeder.discard(req);
          req.destroy();
        }
      });
      resolve(status);
    });
    // A 101 with an Upgrade header to a request that asked for none: node's client hands the socket
    // to 'upgrade' listeners, and with none destroys it without an error, so the app waited for the
    // full response timeout. (A bare 101 arrives as 'response' and is refused by relay.)
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      feeder?.detach();
      reject(
        protocolError(
          o.host,
          `answered 101 Switching Protocols (Upgrade: ${res.headers.upgrade}) to a request that asked for no upgrade`,
        ),
      );
    });
    req.once('close', () => {
      if (settled) feeder?.discard(req);
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      feeder?.detach();
      // A kept-alive socket the server had just closed: nothing was processed. (Not when we destroyed
      // the request because the app left.)
      if (req.reusedSocket && !gone && (err as NodeJS.ErrnoException).code === 'ECONNRESET' && canRetry(a)) {
        resolve(attempt(a));
        return;
      }
      reject(new RunsdError('RUNSD_UPSTREAM_CONNECT', `${o.host}: ${err.message}`, { cause: err }));
    });
    ds.onGone(() => {
      gone = true;
      req.destroy();
    });
    if (feeder) feeder.attach(req);
    else req.end();
  });
}

function h1Headers(h: Headers, host: string): Record<string, string> {
  const out: Headers = {};
  for (const k in h) if (k.charCodeAt(0) !== 58 /* ':' */) out[k] = h[k];
  out['host'] = host;
  // HTTP/1.1 carries trailers only in chunked encoding; with a Content-Length node refuses the
  // Trailer header (ERR_HTTP_TRAILER_INVALID). An h2c request may have both: go chunked.
  if (out['trailer'] !== undefined) delete out['content-length'];
  return out as Record<string, string>;
}

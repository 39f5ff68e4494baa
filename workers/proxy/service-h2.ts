// One attempt of a service request over the origin's multiplexed HTTP/2 session: a stream the
// server refused (REFUSED_STREAM, GOAWAY before it was processed) or an idempotent request whose
// session died before any answer is handed back to `again` on a fresh session (service.ts).
import type http2 from 'node:http2';
import { addAbortSignal, Readable } from 'node:stream';
import type { Headers } from '../../src/domain/http-headers.ts';
import { RunsdError } from '../../src/errors.ts';
import { type Attempt, authorityOf, canRetry } from './attempt.ts';
import { H2 } from './builtins.ts';
import { relay } from './relay.ts';

const { REFUSED_STREAM: NGHTTP2_REFUSED_STREAM, NO_ERROR: NGHTTP2_NO_ERROR } = H2;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function viaH2(
  a: Attempt,
  session: http2.ClientHttp2Session,
  again: (a: Attempt) => Promise<number>,
): Promise<number> {
  const { ds, o, feeder } = a;
  let stream: http2.ClientHttp2Stream;
  try {
    // The header object is ours (built per request): add the pseudo headers in place.
    const h = a.headers;
    h[':method'] = ds.method;
    h[':path'] = o.path ?? ds.path;
    h[':scheme'] = 'https';
    h[':authority'] = authorityOf(o);
    stream = session.request(h, {
      endStream: feeder === null,
      waitForTrailers: feeder !== null && ds.trailersAnnounced,
    });
  } catch (err) {
    // Only a session that started closing between get() and request() is replaced and the request
    // retried; any other throw is about the request itself (e.g. h2 CONNECT headers) and must not
    // cost healthy sessions.
    if (session.closed || session.destroyed) {
      o.pool.retire(o.host, session, o.ownPort);
      if (canRetry(a)) return again(a);
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
      cancel(stream);
      reject(new RunsdError('RUNSD_UPSTREAM_TIMEOUT', `${o.host} sent no response within ${o.timeoutMs} ms`));
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
        relay(ds, o.host, status, h as Headers, (flags & H2.FLAG_END_STREAM) !== 0, stream, () => trailers);
      } catch (err) {
        // Nothing reached the app: the 502 about to be sent must not be cut by the close below.
        responded = false;
        cancel(stream);
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
        o.pool.retire(o.host, session, o.ownPort);
        resolve(again(a));
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
      if (!stream.destroyed) cancel(stream);
    });
    feeder?.attach(stream);
  });
}

/**
 * Resets an upstream stream with CANCEL and nothing else. Not close(CANCEL): on a stream whose
 * writable side is open, node first ends it (END_STREAM), so a request cut short by the app leaving,
 * a time-out or a malformed chunked body reached the service as complete — an empty or truncated
 * POST it may act on (test/workers/proxy/framing.test.ts). node resets without the end when a stream is
 * destroyed with its internal AbortError (what a request's `signal` does); that class is not
 * exported, so it is taken once from the error stream.addAbortSignal destroys a stream with.
 */
function cancel(stream: http2.ClientHttp2Stream): void {
  stream.destroy(new (abortError())());
}

let AbortErrorClass: (new () => Error) | undefined;
function abortError(): new () => Error {
  if (AbortErrorClass) return AbortErrorClass;
  const probe = new Readable({ read() {} });
  let seen: Error | undefined;
  probe.destroy = (e?: Error) => {
    seen = e;
    return probe;
  };
  addAbortSignal(AbortSignal.abort(), probe);
  AbortErrorClass = (seen?.constructor as new () => Error) ?? Error;
  return AbortErrorClass;
}

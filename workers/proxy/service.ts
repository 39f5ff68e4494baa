// Upstream kind 1: a Cloud Run service, over the pool's session for its host — one multiplexed
// HTTP/2 session (service-h2.ts) or, for an origin that offers only HTTP/1.1, the pool's keep-alive
// agent through the shared HTTP/1.1 helper (h1-request.ts). Sends headers + body, relays the
// response, and retries what the server provably never processed (a refused stream, a reset reused
// socket) while the body can still be replayed. Resolves with the status sent to the app; rejects
// with a RunsdError only while no response header was sent.
import type { ClientRequest } from 'node:http';
import type http2 from 'node:http2';
import type { Agent } from 'node:https';
import type { Writable } from 'node:stream';
import { forwardableTrailers, type Headers } from '../../src/domain/http-headers.ts';
import { serverName } from '../../src/net/server-name.ts';
import { type Attempt, authorityOf, canRetry, type ServiceOptions } from './attempt.ts';
import { BodyFeeder } from './body-feeder.ts';
import { https } from './builtins.ts';
import type { Downstream } from './downstream.ts';
import { refusesBody, relay } from './relay.ts';
import { viaH2 } from './service-h2.ts';

export function exchange(ds: Downstream, headers: Headers, o: ServiceOptions): Promise<number> {
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

function attempt(a: Attempt): Promise<number> {
  a.n++;
  const up = a.o.pool.get(a.o.host, a.o.ownPort);
  if ('then' in up)
    return up.then((u) => (u.kind === 'h2' ? viaH2(a, u.session, attempt) : viaH1(a, u.agent)));
  return up.kind === 'h2' ? viaH2(a, up.session, attempt) : viaH1(a, up.agent);
}

function viaH1(a: Attempt, agent: Agent): Promise<number> {
  const { ds, o, feeder } = a;
  const req = https().request({
    agent,
    host: o.host,
    servername: serverName(o.host),
    port: o.port,
    method: ds.method,
    path: o.path ?? ds.path,
    headers: h1Headers(a.headers, authorityOf(o)),
    setHost: false,
  });
  const done = o.h1.send(req, {
    label: o.host,
    timeoutMs: o.timeoutMs,
    response(res) {
      feeder?.commit();
      o.onHeaders?.();
      const status = res.statusCode ?? 502;
      const empty = ds.method === 'HEAD' || status === 204 || status === 304;
      relay(ds, o.host, status, res.headers as Headers, empty, res, () => res.trailers as Headers);
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
      return status;
    },
    retry: () => (canRetry(a) ? attempt(a) : null),
    onGone: (cb) => ds.onGone(cb),
    failed: () => feeder?.detach(),
    closed: () => feeder?.discard(req),
  });
  if (feeder) feeder.attach(req);
  else req.end();
  return done;
}

/** The request headers framed for HTTP/1.1: no pseudo headers (an earlier HTTP/2 attempt added
 * them), the service's Host. */
function h1Headers(h: Headers, host: string): Record<string, string> {
  const out: Headers = {};
  for (const k in h) if (k.charCodeAt(0) !== 58 /* ':' */) out[k] = h[k];
  out['host'] = host;
  // HTTP/1.1 carries trailers only in chunked encoding; with a Content-Length node refuses the
  // Trailer header (ERR_HTTP_TRAILER_INVALID). An h2c request may have both: go chunked.
  if (out['trailer'] !== undefined) delete out['content-length'];
  return out as Record<string, string>;
}

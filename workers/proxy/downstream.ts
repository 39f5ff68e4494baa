// The app's side of one request, whichever protocol it came in on. service.ts, plain.ts and relay.ts drive this
// interface; the two adapters below map it onto node:http (HTTP/1.1) and node:http2 (h2c) streams.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type http2 from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import { type Headers, requestFramingProblem } from '../../src/domain/http-headers.ts';
import { H2 } from './builtins.ts';
import { requestTarget } from './route.ts';

export type Protocol = 'http1' | 'h2c' | 'grpc';

export interface Downstream {
  readonly protocol: Protocol;
  readonly method: string;
  /** origin-form path + query */
  readonly path: string;
  /** Host / :authority as the app sent it (absolute-form requests: the URL's authority). */
  readonly authority: string;
  /** true when the request line was absolute-form (a client using us as HTTP_PROXY). */
  readonly absolute: boolean;
  readonly headers: Headers;
  /** Response body bytes relayed to the app so far (the access log's responseSize). */
  bytesOut: number;
  /** HTTP/1.1 framing that cannot be forwarded unambiguously (requestFramingProblem), else null. */
  readonly framingProblem: string | null;
  /** null when the request has no body. */
  readonly body: Readable | null;
  /** The request announced trailers (a `Trailer` header, RFC 9110 §6.6.2): the upstream request
   * then waits for them after the body. */
  readonly trailersAnnounced: boolean;
  /** The request's trailers, once the body has ended (null: none). */
  requestTrailers(): Headers | null;
  /** The client can take trailers (h2 with TE: trailers, i.e. gRPC). */
  readonly trailersOk: boolean;
  headersSent(): boolean;
  respond(status: number, headers: Headers, endStream: boolean, trailers: boolean): Writable;
  finish(trailers: Headers | null): void;
  /** Cut the response short (after headers were sent): the client must not see a clean end. */
  abort(): void;
  /** Called once if the client goes away before the response finished. */
  onGone(cb: () => void): void;
  /** Called once when the response is over, finished or cut (the access log's moment). */
  onClosed(cb: () => void): void;
}

function hasBody(h: IncomingMessage['headers']): boolean {
  const cl = h['content-length'];
  return h['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

export function fromHttp1(req: IncomingMessage, res: ServerResponse): Downstream {
  const { path, authority, absolute } = requestTarget(req);
  // A client that disconnects mid-request is handled through onGone, never as a thrown error.
  req.on('error', () => {});
  res.on('error', () => {});
  return {
    protocol: 'http1',
    method: req.method ?? 'GET',
    path,
    authority,
    absolute,
    headers: req.headers,
    bytesOut: 0,
    framingProblem: requestFramingProblem(req.headers),
    body: hasBody(req.headers) ? req : null,
    trailersAnnounced: req.headers['trailer'] !== undefined,
    requestTrailers: () => (Object.keys(req.trailers).length > 0 ? (req.trailers as Headers) : null),
    trailersOk: false,
    headersSent: () => res.headersSent,
    respond(status, headers, endStream) {
      // Headers, a small body and the end usually arrive in one read from the upstream, but node
      // hands them over in separate ticks: cork until the loop has run every callback of this read
      // (setImmediate), so they leave in one write instead of two or three. res.end() uncorks
      // fully, so a complete small response goes out at once; a streamed one is flushed right after.
      const sock = res.socket;
      if (sock && !endStream) {
        sock.cork();
        setImmediate(() => sock.uncork());
      }
      // HTTP/1.1 carries trailers only when chunked: a Trailer header beside Content-Length (legal
      // from an HTTP/2 upstream) is first tried without the Content-Length, so the response goes
      // chunked and the trailers still arrive.
      let chunkable = headers;
      if (headers['trailer'] !== undefined && headers['content-length'] !== undefined) {
        const { 'content-length': _, ...rest } = headers;
        chunkable = rest;
      }
      try {
        res.writeHead(status, chunkable as Record<string, string | string[]>);
      } catch (err) {
        // node refuses a Trailer header on a response it will not send chunked (HEAD, 204/304, an
        // HTTP/1.0 app): ERR_HTTP_TRAILER_INVALID, which thrown from the upstream's 'response'
        // listener killed the room. Those trailers could not be sent anyway: drop the announcement
        // and keep everything else as the upstream sent it (its Content-Length included).
        if ((err as NodeJS.ErrnoException).code !== 'ERR_HTTP_TRAILER_INVALID' || !('trailer' in headers))
          throw err;
        const { trailer: _, ...rest } = headers;
        res.writeHead(status, rest as Record<string, string | string[]>);
      }
      if (endStream) res.end();
      return res;
    },
    finish(trailers) {
      try {
        if (trailers && Object.keys(trailers).length > 0) res.addTrailers(trailers as Record<string, string>);
      } catch {
        // A trailer HTTP/1.1 cannot carry (a value with a control character from an h2 upstream):
        // the body is complete, so it ends without trailers rather than throwing in 'end'.
      }
      res.end();
    },
    abort() {
      res.destroy();
    },
    onGone(cb) {
      // The app may be gone already (it left while the token or the upstream connection was
      // awaited): then 'close' has fired and would never fire again.
      if (res.destroyed && !res.writableFinished) return void queueMicrotask(cb);
      res.once('close', () => {
        if (!res.writableFinished) cb();
      });
    },
    onClosed(cb) {
      if (res.closed) return void queueMicrotask(cb);
      res.once('close', cb);
    },
  };
}

export function fromHttp2(stream: http2.ServerHttp2Stream, h: http2.IncomingHttpHeaders): Downstream {
  const te = h['te'];
  const ct = h['content-type'];
  const grpc = typeof ct === 'string' && ct.startsWith('application/grpc');
  let pendingTrailers: Headers | null = null;
  let requestTrailers: Headers | null = null;
  // Stream errors (a client reset, a write after reset) are seen through 'close' and rstCode.
  stream.on('error', () => {});
  if (!stream.endAfterHeaders) stream.once('trailers', (t) => (requestTrailers = t as Headers));
  return {
    protocol: grpc ? 'grpc' : 'h2c',
    method: h[':method'] ?? 'GET',
    path: h[':path'] ?? '/',
    authority: h[':authority'] ?? h.host ?? '',
    absolute: false,
    headers: h as Headers,
    bytesOut: 0,
    framingProblem: null,
    body: stream.endAfterHeaders ? null : stream,
    trailersAnnounced: h['trailer'] !== undefined,
    requestTrailers: () => requestTrailers,
    trailersOk: grpc || (typeof te === 'string' && /trailers/i.test(te)),
    headersSent: () => stream.headersSent,
    respond(status, headers, endStream, trailers) {
      const out: http2.OutgoingHttpHeaders = { ...headers, ':status': status };
      stream.respond(out, { endStream, waitForTrailers: trailers && !endStream });
      if (trailers && !endStream)
        stream.once('wantTrailers', () => {
          // An empty trailer block still ends the stream cleanly (a HEADERS frame with END_STREAM).
          stream.sendTrailers(pendingTrailers ?? {});
        });
      return stream;
    },
    finish(trailers) {
      pendingTrailers = trailers;
      stream.end();
    },
    abort() {
      // Not close(code): on a stream whose writable side is open it first ends it (END_STREAM), so
      // the app saw a clean, truncated body. destroy(err) resets at once with INTERNAL_ERROR.
      if (!stream.destroyed) stream.destroy(new Error('response cut short'));
    },
    onGone(cb) {
      // Gone already (reset while the token or the upstream connection was awaited): 'close' has
      // fired; without this the request went upstream anyway and its response hit a dead stream.
      if (stream.destroyed) return void queueMicrotask(cb);
      stream.once('close', () => {
        if (stream.rstCode !== H2.NO_ERROR || !stream.writableFinished) cb();
      });
    },
    onClosed(cb) {
      if (stream.closed) return void queueMicrotask(cb);
      stream.once('close', cb);
    },
  };
}

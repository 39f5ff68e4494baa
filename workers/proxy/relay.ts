// The upstream's response, relayed to the app: status and headers checked before they are sent,
// the body streamed with backpressure, trailers passed on (gRPC), and a body cut short upstream cut
// short for the app too. Shared by every upstream kind that answers with an HTTP response.
import type http2 from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import { endToEnd, forwardableTrailers, type Headers } from '../../src/domain/http-headers.ts';
import { H2 } from './builtins.ts';
import type { Downstream } from './downstream.ts';
import { protocolError } from './errors.ts';

/** Whether a complete upstream answer means the rest of the request body is not wanted: an error
 * status, or the server closing the connection. */
export function refusesBody(status: number, connection: string | undefined): boolean {
  return status >= 400 || /(^|,)\s*close\s*(,|$)/i.test(connection ?? '');
}

/** ds.respond for an upstream's status and headers, which node:http / node:http2 validate by
 * throwing: a final status must be 200–599 (node:http2 refuses others and node:http refuses < 100;
 * a 1xx here is an unasked 101 or a 1xx sent as final), and the app may be gone (a destroyed h2
 * stream throws ERR_HTTP2_INVALID_STREAM). Throws RUNSD_UPSTREAM_PROTOCOL (nothing sent yet). */
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

/** Relay an upstream response body + trailers to the app. Throws RUNSD_UPSTREAM_PROTOCOL (nothing
 * sent to the app yet) when the response head cannot be relayed; the caller then fails the request
 * instead of letting the throw escape its 'response' listener, which would kill the room. */
export function relay(
  ds: Downstream,
  host: string,
  status: number,
  headers: Headers,
  endStream: boolean,
  body: Readable,
  trailers: () => Headers | null,
): void {
  const grpc =
    typeof headers['content-type'] === 'string' && headers['content-type'].startsWith('application/grpc');
  const w = respondSafely(ds, host, status, endToEnd(headers), endStream, ds.trailersOk || grpc);
  if (endStream) return;
  // A hand-rolled pipe: stream.pipe() sets up seven listeners per response, which shows for the
  // small responses that dominate service-to-service calls. Backpressure: pause until 'drain'.
  const resume = () => body.resume();
  body.on('data', (chunk: Buffer) => {
    if (w.destroyed) return void body.destroy();
    ds.bytesOut += chunk.length;
    if (!w.write(chunk)) {
      body.pause();
      w.once('drain', resume);
    }
  });
  body.once('end', () => {
    // node also ends an h2 stream's readable side when its session dies (rstCode CANCEL set, no
    // error): that body is cut short, and finishing it would hand the app a clean, truncated end.
    const rst = (body as Partial<http2.ClientHttp2Stream>).rstCode;
    if (rst !== undefined && rst !== H2.NO_ERROR) return void ds.abort();
    const t = trailers();
    ds.finish(t ? forwardableTrailers(t) : null);
  });
}

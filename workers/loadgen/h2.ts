// HTTP/2 load client: h2c with prior knowledge on http://, h2 over TLS (ALPN) on https://; one
// session per connection (h2-session.ts, raw frames), `streams` concurrent streams on each. With a
// proxy the session goes to the proxy and `:authority` names the target (runsd's port speaks h2c
// with prior knowledge and routes by :authority). A session that dies (GOAWAY, reset) is replaced
// on the next request; its failed streams are counted by error code. gRPC: the body goes as one
// length-prefixed message and grpc-status is read from the trailers (or from the headers of a
// trailers-only answer).
import { requestBlocks } from '../../src/domain/hpack.ts';
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import { deadlines } from './deadlines.ts';
import { type ClientContext, driveTask } from './drive.ts';
import { H2Session, type H2Stream } from './h2-session.ts';
import type { Outcome, TaskSpec } from './spec.ts';
import { dialOf, openSocket } from './target.ts';

// http/1.1 offered too, so a server without h2 says so by choosing it (the session then fails its
// streams as ALPN_NOT_H2) instead of ending the handshake with a bare protocol alert (EPROTO).
export const H2_ALPN = ['h2', 'http/1.1'];

/** gRPC's 5-byte prefix: compressed flag 0, then the message length (big-endian u32). */
export function grpcFrame(msg: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt32BE(msg.length, 1);
  out.set(msg, 5);
  return out;
}

// HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2); a -H naming one is left out, as
// node:http2 refuses them. TE may only say "trailers".
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** The request's fields, pseudo-headers first, as every stream of the run sends them. */
export function requestFields(
  spec: Pick<TaskSpec, 'url' | 'grpc' | 'method' | 'headers'>,
  tls: boolean,
  body: Buffer | null,
): [string, string][] {
  const url = new URL(spec.url);
  const fields: [string, string][] = [
    [':method', spec.method],
    [':scheme', tls ? 'https' : 'http'],
    [':authority', url.host],
    [':path', spec.grpc ?? url.pathname + url.search],
  ];
  if (spec.grpc) fields.push(['content-type', 'application/grpc'], ['te', 'trailers']);
  for (const [k, v] of spec.headers) {
    if (CONNECTION_HEADERS.has(k) || k === 'content-length' || (k === 'te' && v !== 'trailers')) continue;
    if (spec.grpc && (k === 'content-type' || k === 'te')) continue;
    fields.push([k, v]);
  }
  if (body) fields.push(['content-length', String(body.length)]);
  return fields;
}

export async function runH2(spec: TaskSpec, ctx: ClientContext): Promise<TaskResult> {
  const dial = dialOf(spec);
  const body = spec.grpc
    ? grpcFrame(spec.body ?? new Uint8Array())
    : spec.body
      ? Buffer.from(spec.body)
      : null;
  const blocks = requestBlocks(requestFields(spec, dial.tls, body));
  const options = { blocks, body, grpc: spec.grpc !== null };
  const sessions: (H2Session | null)[] = Array.from({ length: spec.connections }, () => null);
  const session = (i: number): H2Session => {
    const s = sessions[i];
    if (s?.usable) return s;
    const fresh: H2Session = new H2Session(openSocket(dial, spec.ca, H2_ALPN), options, () => {
      if (sessions[i] === fresh) sessions[i] = null;
    });
    sessions[i] = fresh;
    return fresh;
  };

  const timeouts = deadlines<H2Stream>(spec.timeoutMs, (s) => {
    const resolve = s.resolve;
    s.session.cancel(s);
    resolve?.({ kind: 'error', code: 'TIMEOUT' });
  });
  let next = 0;
  const send = () =>
    new Promise<Outcome>((resolve) => {
      // Streams are spread round-robin over the sessions (connections × streams loops in all).
      // `s` is null while request() runs: a session that answers at once (closed) settles before it
      let s: H2Stream | null = null;
      s = session(next++ % spec.connections).request((o) => {
        if (s) timeouts.delete(s);
        resolve(o);
      });
      if (s.resolve) timeouts.add(s, performance.now());
    });

  const cutAll = () => {
    timeouts.stop();
    for (const s of sessions) s?.destroy();
    sessions.fill(null);
  };
  return driveTask(spec, ctx, spec.connections * spec.streams, send, cutAll);
}

// HTTP/2 client (node:http2): h2c with prior knowledge on http://, h2 over TLS (ALPN) on https://;
// one session per connection, `streams` concurrent streams on each. With a proxy the session goes
// to the proxy and `:authority` names the target (runsd's port speaks h2c with prior knowledge and
// routes by :authority). A session that dies (GOAWAY, reset) is replaced on the next request; its
// failed streams are counted by error code. gRPC: the body goes as one length-prefixed message and
// grpc-status is read from the trailers (or from the headers of a trailers-only answer).
import http2 from 'node:http2';
import tls from 'node:tls';
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import { type ClientContext, driveTask } from './drive.ts';
import { errorCode, type Outcome, type TaskSpec } from './spec.ts';
import { dialOf } from './target.ts';

/** gRPC's 5-byte prefix: compressed flag 0, then the message length (big-endian u32). */
export function grpcFrame(msg: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt32BE(msg.length, 1);
  out.set(msg, 5);
  return out;
}

export async function runH2(spec: TaskSpec, ctx: ClientContext): Promise<TaskResult> {
  const url = new URL(spec.url);
  const dial = dialOf(spec);
  const body = spec.grpc
    ? grpcFrame(spec.body ?? new Uint8Array())
    : spec.body
      ? Buffer.from(spec.body)
      : null;
  const reqHeaders: http2.OutgoingHttpHeaders = {
    ':method': spec.method,
    ':path': spec.grpc ?? url.pathname + url.search,
    ':scheme': dial.tls ? 'https' : 'http',
    ':authority': url.host,
  };
  if (spec.grpc) {
    reqHeaders['content-type'] = 'application/grpc';
    reqHeaders.te = 'trailers';
  }
  for (const [k, v] of spec.headers) reqHeaders[k] = v;
  if (body) reqHeaders['content-length'] = String(body.length);
  const authority = `${dial.tls ? 'https' : 'http'}://${url.host}`;
  const connect = (): http2.ClientHttp2Session =>
    dial.tls
      ? http2.connect(authority, {
          createConnection: () =>
            tls.connect({
              host: dial.host,
              port: dial.port,
              ALPNProtocols: ['h2'],
              ...(dial.servername ? { servername: dial.servername } : {}),
              ...(spec.ca ? { ca: spec.ca } : {}),
            }),
        })
      : http2.connect(`http://${dial.host.includes(':') ? `[${dial.host}]` : dial.host}:${dial.port}`);

  const sessions: (http2.ClientHttp2Session | null)[] = Array.from({ length: spec.connections }, () => null);
  const session = (i: number): http2.ClientHttp2Session => {
    const s = sessions[i];
    if (s && !s.closed && !s.destroyed) return s;
    const fresh = connect();
    // Errors surface on the streams; without a listener a session error would throw.
    fresh.on('error', () => {});
    const forget = () => {
      if (sessions[i] === fresh) sessions[i] = null;
    };
    fresh.on('goaway', forget);
    fresh.on('close', forget);
    sessions[i] = fresh;
    return fresh;
  };

  let next = 0;
  const send = () =>
    new Promise<Outcome>((resolve) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (o: Outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(o);
      };
      let stream: http2.ClientHttp2Stream;
      try {
        // Streams are spread round-robin over the sessions (connections × streams loops in all).
        stream = session(next++ % spec.connections).request(reqHeaders, { endStream: body === null });
      } catch (err) {
        finish({ kind: 'error', code: errorCode(err) });
        return;
      }
      timer = setTimeout(() => {
        finish({ kind: 'error', code: 'TIMEOUT' });
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, spec.timeoutMs);
      let status = 0;
      let runsdError: string | null = null;
      let grpcStatus: string | null = null;
      let bytes = 0;
      stream.on('response', (h) => {
        status = Number(h[':status'] ?? 0);
        const e = h['x-runsd-error'];
        runsdError = typeof e === 'string' ? e : null;
        if (spec.grpc && h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      });
      if (spec.grpc)
        stream.on('trailers', (h) => {
          if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
        });
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      stream.on('end', () => {
        if (status === 0) finish({ kind: 'error', code: 'NO_RESPONSE' });
        // a gRPC answer without grpc-status is broken (grpc-js calls it UNKNOWN, 2)
        else
          finish({
            kind: 'response',
            status,
            runsdError,
            grpcStatus: spec.grpc && status === 200 ? (grpcStatus ?? '2') : grpcStatus,
            bytes,
          });
      });
      stream.on('error', (err) => finish({ kind: 'error', code: errorCode(err) }));
      stream.on('close', () => {
        const rst = stream.rstCode;
        finish({ kind: 'error', code: rst ? `RST_STREAM_${rst}` : 'STREAM_CLOSED' });
      });
      if (body) stream.end(body);
    });

  const cutAll = () => {
    for (const s of sessions) s?.destroy();
    sessions.fill(null);
  };
  return driveTask(spec, ctx, spec.connections * spec.streams, send, cutAll);
}

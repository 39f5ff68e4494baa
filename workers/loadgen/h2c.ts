// HTTP/2 cleartext with prior knowledge (node:http2): one session per connection, `streams` concurrent
// streams on each. With a proxy the session goes to the proxy and `:authority` names the target
// (runsd's port speaks h2c with prior knowledge and routes by :authority). A session that dies
// (GOAWAY, reset) is replaced on the next request; its failed streams are counted by error code.
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import { drive } from './drive.ts';
import { errorCode, type Outcome, type TaskSpec } from './spec.ts';

export async function runH2c(spec: TaskSpec): Promise<TaskResult> {
  const url = new URL(spec.url);
  const origin = spec.proxy ?? url.origin;
  const body = spec.bodySize > 0 ? Buffer.alloc(spec.bodySize, 'x') : null;
  const reqHeaders: http2.OutgoingHttpHeaders = {
    ':method': spec.method,
    ':path': url.pathname + url.search,
    ':scheme': 'http',
    ':authority': url.host,
  };
  for (const [k, v] of spec.headers) reqHeaders[k] = v;
  if (body) reqHeaders['content-length'] = String(body.length);

  const sessions: (http2.ClientHttp2Session | null)[] = Array.from({ length: spec.connections }, () => null);
  const session = (i: number): http2.ClientHttp2Session => {
    const s = sessions[i];
    if (s && !s.closed && !s.destroyed) return s;
    const fresh = http2.connect(origin);
    // Errors surface on the streams; without a listener a session error would throw.
    fresh.on('error', () => {});
    fresh.on('goaway', () => {
      if (sessions[i] === fresh) sessions[i] = null;
    });
    fresh.on('close', () => {
      if (sessions[i] === fresh) sessions[i] = null;
    });
    sessions[i] = fresh;
    return fresh;
  };

  let next = 0;
  const send = () =>
    new Promise<Outcome>((resolve) => {
      const t0 = performance.now();
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
      let bytes = 0;
      stream.on('response', (h) => {
        status = Number(h[':status'] ?? 0);
        const e = h['x-runsd-error'];
        runsdError = typeof e === 'string' ? e : null;
      });
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      stream.on('end', () => {
        if (status === 0) finish({ kind: 'error', code: 'NO_RESPONSE' });
        else finish({ kind: 'response', status, runsdError, bytes, us: (performance.now() - t0) * 1000 });
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
  return drive(spec, spec.connections * spec.streams, send, cutAll);
}

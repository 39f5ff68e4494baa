// HTTP/1.1 keep-alive client (node:http Agent, one socket per connection); with a proxy, requests go
// to the proxy in absolute form (`GET http://hello/ HTTP/1.1`), as an app in runsd's env mode sends them.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import { drive } from './drive.ts';
import { errorCode, type Outcome, type TaskSpec } from './spec.ts';

export async function runHttp1(spec: TaskSpec): Promise<TaskResult> {
  const url = new URL(spec.url);
  const via = spec.proxy ? new URL(spec.proxy) : url;
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: spec.connections,
    maxFreeSockets: spec.connections,
  });
  const body = spec.bodySize > 0 ? Buffer.alloc(spec.bodySize, 'x') : null;
  const headers: Record<string, string> = { host: url.host };
  for (const [k, v] of spec.headers) headers[k] = v;
  if (body) headers['content-length'] = String(body.length);
  const base = {
    agent,
    host: via.hostname.replace(/^\[|\]$/g, ''),
    port: Number(via.port || 80),
    method: spec.method,
    path: spec.proxy ? url.href : url.pathname + url.search,
    headers,
  };

  const send = () =>
    new Promise<Outcome>((resolve) => {
      const t0 = performance.now();
      let done = false;
      const finish = (o: Outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = http.request(base, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
        });
        res.on('end', () => {
          const e = res.headers['x-runsd-error'];
          finish({
            kind: 'response',
            status: res.statusCode ?? 0,
            runsdError: typeof e === 'string' ? e : null,
            bytes,
            us: (performance.now() - t0) * 1000,
          });
        });
        res.on('error', (err) => finish({ kind: 'error', code: errorCode(err) }));
        res.on('aborted', () => finish({ kind: 'error', code: 'ECONNRESET' }));
      });
      const timer = setTimeout(() => {
        finish({ kind: 'error', code: 'TIMEOUT' });
        req.destroy();
      }, spec.timeoutMs);
      req.on('error', (err) => finish({ kind: 'error', code: errorCode(err) }));
      req.on('close', () => finish({ kind: 'error', code: 'ECONNRESET' }));
      req.end(body ?? undefined);
    });

  return drive(spec, spec.connections, send, () => agent.destroy());
}

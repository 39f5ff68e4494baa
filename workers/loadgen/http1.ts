// HTTP/1.1 keep-alive client (node:http/https Agent, one socket per connection); with a proxy,
// requests go to the proxy in absolute form (`GET http://hello/ HTTP/1.1`), as an app in runsd's
// env mode sends them. The driver times each request; this only reports what came back.
import http from 'node:http';
import https from 'node:https';
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import { type ClientContext, driveTask } from './drive.ts';
import { errorCode, type Outcome, type TaskSpec } from './spec.ts';
import { dialOf } from './target.ts';

export async function runHttp1(spec: TaskSpec, ctx: ClientContext): Promise<TaskResult> {
  const url = new URL(spec.url);
  const dial = dialOf(spec);
  const agentOpts = { keepAlive: true, maxSockets: spec.connections, maxFreeSockets: spec.connections };
  const agent = dial.tls
    ? new https.Agent({ ...agentOpts, ...(spec.ca ? { ca: spec.ca } : {}), servername: dial.servername })
    : new http.Agent(agentOpts);
  const body = spec.body ? Buffer.from(spec.body) : null;
  const headers: Record<string, string> = { host: url.host };
  for (const [k, v] of spec.headers) headers[k] = v;
  if (body) headers['content-length'] = String(body.length);
  const base = {
    agent,
    host: dial.host,
    port: dial.port,
    method: spec.method,
    path: spec.proxy ? url.href : url.pathname + url.search,
    headers,
    ...(dial.servername ? { servername: dial.servername } : {}),
  };
  const request = dial.tls ? https.request : http.request;

  const send = () =>
    new Promise<Outcome>((resolve) => {
      let done = false;
      const finish = (o: Outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = request(base, (res) => {
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
            grpcStatus: null,
            bytes,
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

  return driveTask(spec, ctx, spec.connections, send, () => agent.destroy());
}

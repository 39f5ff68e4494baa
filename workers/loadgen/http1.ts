// HTTP/1.1 keep-alive client on raw sockets (net, or tls with ALPN http/1.1): one request in flight
// per connection, never pipelined, the request's bytes built once and written whole. node:http's
// Agent, ClientRequest and IncomingMessage cost several times what the emulator's front end spends
// per request — a load tool slower than its target measures itself — so this does only what a load
// report needs (src/domain/loadgen-http1-parser.ts reads the answer). With a proxy, requests go to
// the proxy in absolute form (`GET http://hello/ HTTP/1.1`), as an app in runsd's env mode sends
// them. The driver times each request; this only reports what came back.
import type net from 'node:net';
import {
  type ParsedResponse,
  ResponseParseError,
  ResponseParser,
} from '../../src/domain/loadgen-http1-parser.ts';
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import { deadlines } from './deadlines.ts';
import { type ClientContext, driveTask } from './drive.ts';
import { errorCode, type Outcome, type TaskSpec } from './spec.ts';
import { dialOf, openSocket } from './target.ts';

// Methods whose empty body goes without Content-Length (node:http's choice, kept: servers differ).
const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/** The whole request, once: request line, Host (unless -H gives one), the -H headers, the body. */
export function requestBytes(spec: Pick<TaskSpec, 'url' | 'proxy' | 'method' | 'headers' | 'body'>): Buffer {
  const url = new URL(spec.url);
  const target = spec.proxy ? url.href : url.pathname + url.search;
  const lines = [`${spec.method} ${target} HTTP/1.1`];
  if (!spec.headers.some(([k]) => k === 'host')) lines.push(`host: ${url.host}`);
  for (const [k, v] of spec.headers) if (k !== 'content-length') lines.push(`${k}: ${v}`);
  const body = spec.body ? Buffer.from(spec.body) : null;
  if (body) lines.push(`content-length: ${body.length}`);
  else if (!NO_BODY_METHODS.has(spec.method)) lines.push('content-length: 0');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}

const outcome = (r: ParsedResponse): Outcome => ({
  kind: 'response',
  status: r.status,
  runsdError: r.runsdError,
  grpcStatus: null,
  bytes: r.bytes,
});

interface Conn {
  socket: net.Socket;
  parser: ResponseParser;
  /** the request in flight's resolver (null while idle) */
  done: ((o: Outcome) => void) | null;
  /** the socket's error, reported when it closes */
  error: string | null;
}

export async function runHttp1(spec: TaskSpec, ctx: ClientContext): Promise<TaskResult> {
  const dial = dialOf(spec);
  const request = requestBytes(spec);
  const headRequest = spec.method === 'HEAD';
  // LIFO: at low open-loop rates the same few connections stay warm, and the rest idle until the
  // server closes them (their 'close' takes them out) instead of all going stale at once.
  const idle: Conn[] = [];
  const open = new Set<Conn>();

  const finish = (c: Conn, o: Outcome) => {
    const done = c.done;
    if (!done) return;
    c.done = null;
    timeouts.delete(c);
    done(o);
  };
  const timeouts = deadlines<Conn>(spec.timeoutMs, (c) => {
    finish(c, { kind: 'error', code: 'TIMEOUT' });
    c.socket.destroy();
  });
  const retire = (c: Conn) => {
    open.delete(c);
    const i = idle.indexOf(c);
    if (i >= 0) idle.splice(i, 1);
  };

  const connect = (): Conn => {
    const socket = openSocket(dial, spec.ca, ['http/1.1']);
    const c: Conn = { socket, parser: new ResponseParser(headRequest), done: null, error: null };
    open.add(c);
    socket.on('data', (chunk: Buffer) => {
      // bytes nobody asked for: the connection's framing can no longer be trusted
      if (!c.done) return void socket.destroy();
      let r: ReturnType<ResponseParser['feed']>;
      try {
        r = c.parser.feed(chunk);
      } catch (err) {
        finish(c, { kind: 'error', code: err instanceof ResponseParseError ? err.code : errorCode(err) });
        return void socket.destroy();
      }
      if (!r) return;
      if (r.close) {
        retire(c);
        socket.destroy();
      } else idle.push(c);
      finish(c, outcome(r));
    });
    socket.on('error', (err) => {
      c.error = errorCode(err);
    });
    // The server closed its side (a keep-alive timeout): never hand this one out again, even in the
    // moment before 'close'. A body read to EOF ends in 'close' below.
    socket.on('end', () => retire(c));
    socket.on('close', () => {
      retire(c);
      if (!c.done) return;
      const r = c.parser.end();
      if (r) finish(c, outcome(r));
      else finish(c, { kind: 'error', code: c.error ?? 'ECONNRESET' });
    });
    return c;
  };

  const send = () =>
    new Promise<Outcome>((resolve) => {
      const c = idle.pop() ?? connect();
      c.done = resolve;
      timeouts.add(c, performance.now());
      c.socket.write(request);
    });

  const cutAll = () => {
    timeouts.stop();
    for (const c of open) c.socket.destroy();
  };
  return driveTask(spec, ctx, spec.connections, send, cutAll);
}

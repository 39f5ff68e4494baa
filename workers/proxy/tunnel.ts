// Upstream kind 3: WebSocket (and any non-h2c) upgrades. The handshake goes upstream over its own
// HTTP/1.1 connection (shared helper, h1-request.ts) with the credential added; after the
// upstream's 101 both sockets are piped raw. A refusal (any non-101 answer) is passed back to the
// app as it came.
import http, { type IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { endToEnd } from '../../src/domain/http-headers.ts';
import { routePath } from '../../src/domain/routes.ts';
import { type ErrorCode, RunsdError, toWire } from '../../src/errors.ts';
import { serverName } from '../../src/net/server-name.ts';
import { authorityOf } from './attempt.ts';
import { https } from './builtins.ts';
import type { Credentials } from './credential.ts';
import { errorBody, rawErrorResponse, statusFor } from './errors.ts';
import type { H1Client } from './h1-request.ts';
import { type Router, requestTarget } from './route.ts';
import type { ServiceCheck } from './service-check.ts';

export interface TunnelOptions {
  router: Router;
  credentials: Credentials;
  h1: H1Client;
  lookup: LookupFunction;
  secureContext: () => tls.SecureContext;
  port: number;
  /** Time to the upstream's answer to the handshake before a 504. */
  timeoutMs: number;
  /** -check_services, as for every other request: a name that is no service is answered 404
   * RUNSD_NO_SERVICE here instead of being tunnelled to the front end (whose 404 says nothing). */
  check?: ServiceCheck;
  onDone(service: string, status: number): void;
  onError(code: ErrorCode): void;
}

// Framing headers of a refused upgrade's answer: its body reaches the app decoded (res.pipe), so
// the upstream's chunked framing must not be announced; the app reads to the close instead.
const FRAMING = /^(transfer-encoding|connection|keep-alive)$/i;

function head(res: IncomingMessage, refused = false): string {
  let s = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2)
    if (!refused || !FRAMING.test(raw[i]!)) s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  if (refused) s += 'Connection: close\r\n';
  return `${s}\r\n`;
}

export async function tunnelUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  first: Buffer,
  o: TunnelOptions,
): Promise<void> {
  socket.on('error', () => {});
  const { path, authority, absolute } = requestTarget(req);
  let service = '-';
  try {
    const r = o.router.route(authority, absolute);
    const headers = endToEnd(req.headers);
    headers['connection'] = 'Upgrade';
    headers['upgrade'] = req.headers.upgrade;
    let up: http.ClientRequest;
    let label: string;
    if (r.kind === 'plain') {
      service = '-external';
      label = `${r.host}:${r.port}`;
      headers['host'] = authority;
      up = http.request({
        host: r.host,
        port: r.port,
        path,
        method: req.method,
        headers: headers as Record<string, string>,
        lookup: o.lookup,
        setHost: false,
      });
    } else {
      service = r.service;
      label = r.host;
      const refused = await o.check?.(r);
      if (refused) throw refused;
      const credential = await o.credentials.for(req.headers, r);
      if (credential !== null) headers[o.credentials.header] = credential;
      const port = r.port ?? o.port;
      headers['host'] = authorityOf({ host: r.host, ...(r.port !== undefined ? { ownPort: r.port } : {}) });
      // The app may have gone while the token was fetched: its close listener below would never
      // fire, and the upstream tunnel opened for nobody would stay open.
      if (socket.destroyed) return;
      up = https().request({
        host: r.host,
        servername: serverName(r.host),
        port,
        path: r.prefix === undefined ? path : routePath(r.prefix, path),
        method: req.method,
        headers: headers as Record<string, string>,
        lookup: o.lookup,
        secureContext: o.secureContext(),
        ALPNProtocols: ['http/1.1'],
        agent: false,
        setHost: false,
      } as RequestOptions);
    }
    const done = o.h1.send(up, {
      label,
      timeoutMs: o.timeoutMs,
      // An upstream that accepts the connection but never answers the handshake must not hold the
      // app's socket forever.
      timeoutMessage: `${label} did not answer the upgrade within ${o.timeoutMs} ms`,
      upgrade(res, upSocket, upHead) {
        socket.write(head(res));
        if (upHead.length) socket.write(upHead);
        if (first.length) upSocket.write(first);
        upSocket.on('error', () => socket.destroy());
        socket.on('error', () => upSocket.destroy());
        upSocket.pipe(socket);
        socket.pipe(upSocket);
        upSocket.once('close', () => socket.destroy());
        socket.once('close', () => upSocket.destroy());
        o.onDone(service, res.statusCode ?? 101);
      },
      response(res) {
        // Refused upgrade: relay the answer and close.
        socket.write(head(res, true));
        res.pipe(socket);
        o.onDone(service, res.statusCode ?? 502);
      },
      // The socket's own words (ECONNREFUSED, a TLS failure) after the authority, as before.
      connectError: (err) => new RunsdError('RUNSD_UPSTREAM_CONNECT', err.message, { cause: err }),
      onGone: (cb) => socket.once('close', cb),
    });
    up.end();
    await done;
  } catch (err) {
    const w = toWire(err, 'RUNSD_UPSTREAM_CONNECT');
    const status = statusFor(w.code);
    o.onError(w.code);
    o.onDone(service, status);
    // Raw bytes on the app's socket, but the same status, headers and body as the normal path.
    socket.end(rawErrorResponse(status, w.code, errorBody(authority, w.code, w.message)));
  }
}

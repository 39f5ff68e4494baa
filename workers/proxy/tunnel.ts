// WebSocket (and any non-h2c) upgrades: the handshake goes upstream over its own HTTP/1.1
// connection with the token added; after the upstream's 101 both sockets are piped raw. A refusal
// (any non-101 answer) is passed back to the app as it came.
import http, { type IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { endToEnd, hasCredential } from '../../src/domain/http-headers.ts';
import type { AuthHeader } from '../../src/domain/vocabulary.ts';
import { type ErrorCode, RunsdError, toWire } from '../../src/errors.ts';
import { https } from './builtins.ts';
import { requestTarget } from './downstream.ts';
import { rawErrorResponse, statusFor } from './errors.ts';
import type { Route } from './proxy.ts';

export interface TunnelOptions {
  route(authority: string, absolute: boolean): Route;
  token(audience: string): Promise<string>;
  authHeader: AuthHeader;
  lookup: LookupFunction;
  secureContext: () => tls.SecureContext;
  port: number;
  /** Time to the upstream's answer to the handshake before a 504. */
  timeoutMs: number;
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
    const r = o.route(authority, absolute);
    const headers = endToEnd(req.headers);
    headers['connection'] = 'Upgrade';
    headers['upgrade'] = req.headers.upgrade;
    let up: http.ClientRequest;
    if (r.kind === 'plain') {
      service = '-external';
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
      if (!hasCredential(req.headers, o.authHeader))
        headers[o.authHeader] = `Bearer ${await o.token(r.audience)}`;
      headers['host'] = r.host;
      // The app may have gone while the token was fetched: its close listener below would never
      // fire, and the upstream tunnel opened for nobody would stay open.
      if (socket.destroyed) return;
      up = https().request({
        host: r.host,
        servername: r.host,
        port: o.port,
        path,
        method: req.method,
        headers: headers as Record<string, string>,
        lookup: o.lookup,
        secureContext: o.secureContext(),
        ALPNProtocols: ['http/1.1'],
        agent: false,
        setHost: false,
      } as RequestOptions);
    }
    await new Promise<void>((resolve, reject) => {
      // An upstream that accepts the connection but never answers the handshake must not hold the
      // app's socket forever.
      const timer = setTimeout(() => {
        up.destroy(
          new RunsdError(
            'RUNSD_UPSTREAM_TIMEOUT',
            `${r.kind === 'plain' ? `${r.host}:${r.port}` : r.host} did not answer the upgrade within ${o.timeoutMs} ms`,
          ),
        );
      }, o.timeoutMs);
      up.once('close', () => clearTimeout(timer));
      up.on('upgrade', (res, upSocket, upHead) => {
        clearTimeout(timer);
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
        resolve();
      });
      up.on('response', (res) => {
        // Refused upgrade: relay the answer and close.
        clearTimeout(timer);
        socket.write(head(res, true));
        res.pipe(socket);
        o.onDone(service, res.statusCode ?? 502);
        resolve();
      });
      up.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('close', () => up.destroy());
      up.end();
    });
  } catch (err) {
    const w = toWire(err, 'RUNSD_UPSTREAM_CONNECT');
    const status = statusFor(w.code === 'RUNSD_INTERNAL' ? 'RUNSD_UPSTREAM_CONNECT' : w.code);
    o.onError(w.code);
    o.onDone(service, status);
    const body = `runsd: ${authority}: ${w.message}\n`;
    socket.end(rawErrorResponse(status, w.code, body));
  }
}

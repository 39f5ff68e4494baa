// WebSocket (and any non-h2c) upgrades: the handshake goes upstream over its own HTTP/1.1
// connection with the token added; after the upstream's 101 both sockets are piped raw. A refusal
// (any non-101 answer) is passed back to the app as it came.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { endToEnd, hasCredential } from '../../src/domain/http-headers.ts';
import { type ErrorCode, toWire } from '../../src/errors.ts';
import { requestTarget } from './downstream.ts';
import { statusFor } from './errors.ts';
import type { Route } from './proxy.ts';

export interface TunnelOptions {
  route(authority: string, absolute: boolean): Route;
  token(audience: string): Promise<string>;
  authHeader: 'x-serverless-authorization' | 'authorization';
  lookup: LookupFunction;
  secureContext: tls.SecureContext;
  port: number;
  onDone(service: string, status: number): void;
  onError(code: ErrorCode): void;
}

function head(res: IncomingMessage): string {
  let s = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) s += `${raw[i]}: ${raw[i + 1]}\r\n`;
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
      up = https.request({
        host: r.host,
        servername: r.host,
        port: o.port,
        path,
        method: req.method,
        headers: headers as Record<string, string>,
        lookup: o.lookup,
        secureContext: o.secureContext,
        ALPNProtocols: ['http/1.1'],
        agent: false,
        setHost: false,
      } as https.RequestOptions);
    }
    await new Promise<void>((resolve, reject) => {
      up.on('upgrade', (res, upSocket, upHead) => {
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
        // Refused upgrade: relay the answer and close (the connection's framing is the upstream's).
        socket.write(head(res));
        res.pipe(socket);
        o.onDone(service, res.statusCode ?? 502);
        resolve();
      });
      up.on('error', reject);
      socket.once('close', () => up.destroy());
      up.end();
    });
  } catch (err) {
    const w = toWire(err, 'RUNSD_UPSTREAM_CONNECT');
    const status = statusFor(w.code === 'RUNSD_INTERNAL' ? 'RUNSD_UPSTREAM_CONNECT' : w.code);
    o.onError(w.code);
    o.onDone(service, status);
    const body = `runsd: ${authority}: ${w.message}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Runsd-Error: ${w.code}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
}

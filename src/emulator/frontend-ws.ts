// WebSocket echo on the front end (HTTP/1.1 upgrade; the invoker check runs before the handshake).
import type { IncomingMessage } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Admission, FrontendRequest } from './frontend-types.ts';

export function attachWebSocketEcho(
  server: Http2SecureServer,
  admit: (host: string, headers: IncomingMessage['headers']) => Admission,
  record: (r: FrontendRequest) => void,
  notFound: () => void,
): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const hostHeader = String(req.headers.host ?? '');
    const a = admit(hostHeader, req.headers);
    const entry: FrontendRequest = {
      service: a.kind === 'not-found' ? null : a.m.service,
      region: a.m?.region ?? null,
      host: hostHeader,
      protocol: 'ws',
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'https://x').pathname,
      status: 101,
      authVia: a.kind === 'ok' ? (a.auth?.via ?? null) : null,
      authFailure: a.kind === 'denied' ? a.auth.reason : null,
      aud: a.kind === 'ok' && a.auth ? String(a.auth.claims.aud) : null,
    };
    if (a.kind !== 'ok') {
      entry.status = a.kind === 'not-found' ? 404 : a.auth.status;
      if (a.kind === 'not-found') notFound();
      record(entry);
      const text = entry.status === 404 ? 'Not Found' : entry.status === 401 ? 'Unauthorized' : 'Forbidden';
      socket.end(`HTTP/1.1 ${entry.status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    record(entry);
    const service = a.m.service;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => {
        const text = data.toString();
        if (!isBinary && text === 'close') return ws.close(1000, 'bye');
        ws.send(isBinary ? data : `${service}: ${text}`, { binary: isBinary });
      });
      ws.on('error', () => {});
    });
  });
  return wss;
}

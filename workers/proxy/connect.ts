// CONNECT (env mode, HTTP/1.1): opened only for internal service names, then served by this same
// proxy — the tunnelled bytes go through the listener's sniffing dispatcher, so HTTP/1.1 and h2c
// over CONNECT both work. A refusal is a complete HTTP/1.1 answer on the raw socket.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorCode, toWire } from '../../src/errors.ts';
import { rawErrorResponse } from './errors.ts';
import type { Router } from './route.ts';

export function openConnect(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  router: Router,
  dispatch: (socket: Duplex) => void,
  onError: (code: ErrorCode) => void,
): void {
  try {
    router.checkConnect(req.url ?? '');
  } catch (err) {
    const w = toWire(err);
    onError(w.code);
    socket.end(rawErrorResponse(w.code === 'RUNSD_NOT_RELAY' ? 403 : 400, w.code, `runsd: ${w.message}\n`));
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) socket.unshift(head);
  dispatch(socket);
}

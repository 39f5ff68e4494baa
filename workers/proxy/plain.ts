// Env mode's "other http:// hosts": forwarded unchanged, never with a token; and CONNECT tunnels,
// which are only opened for internal names and then served by this same proxy (the tunnelled bytes
// go through the sniffing dispatcher, so h2c over CONNECT works too).
import http, { type IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import { endToEnd, forwardableTrailers, type Headers } from '../../src/domain/http-headers.ts';
import { parseHost, splitHostPort } from '../../src/domain/names.ts';
import { type ErrorCode, RunsdError, toWire } from '../../src/errors.ts';
import type { Downstream } from './downstream.ts';
import { protocolError, rawErrorResponse } from './errors.ts';
import { refusesBody, respondSafely } from './exchange.ts';
import type { ProxySettings } from './settings.ts';

let agent: http.Agent | undefined;

export function forwardPlain(
  ds: Downstream,
  host: string,
  port: number,
  lookup: LookupFunction,
  timeoutMs: number,
  retry = true,
): Promise<number> {
  agent ??= new http.Agent({ keepAlive: true, lookup } as http.AgentOptions);
  return new Promise((resolve, reject) => {
    let settled = false;
    let gone = false;
    const headers = endToEnd(ds.headers);
    headers['host'] = ds.authority;
    const req = http.request({
      agent,
      host,
      port,
      method: ds.method,
      path: ds.path,
      headers: headers as Record<string, string>,
      setHost: false,
    });
    req.setTimeout(timeoutMs, () => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(
        new RunsdError('RUNSD_UPSTREAM_TIMEOUT', `${host}:${port} sent no response within ${timeoutMs} ms`),
      );
    });
    req.on('response', (res) => {
      settled = true;
      const status = res.statusCode ?? 502;
      const empty = ds.method === 'HEAD' || status === 204 || status === 304;
      let w: Writable;
      try {
        // Same guard as the exchange: a status or header the app's protocol refuses must fail this
        // request, not throw out of this 'response' listener.
        w = respondSafely(ds, `${host}:${port}`, status, endToEnd(res.headers as Headers), empty, false);
      } catch (err) {
        req.destroy();
        reject(err);
        return;
      }
      if (empty) res.resume();
      else {
        res.pipe(w, { end: false });
        res.once('end', () => ds.finish(forwardableTrailers(res.trailers as Headers)));
      }
      res.once('aborted', () => ds.abort());
      // A complete refusal of a body not sent in full (a 413, or any answer that closes the
      // connection): stop sending it and drop the rest, else the pipe waits for a 'drain' that never
      // comes and the app's keep-alive connection is never read again. A 2xx that does not close is
      // the server answering early while it keeps reading (RFC 9112 §9.5): the body goes on.
      res.once('end', () => {
        const b = ds.body;
        if (b && !b.readableEnded && refusesBody(status, res.headers.connection)) {
          b.unpipe(req);
          b.resume();
          req.destroy();
        }
      });
      resolve(status);
    });
    // A 101 to a request that asked for no upgrade: without this listener node drops the socket
    // and emits neither 'response' nor 'error', and the app would wait forever.
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      if (settled) return;
      settled = true;
      reject(
        protocolError(
          `${host}:${port}`,
          'answered 101 Switching Protocols to a request that asked for no upgrade',
        ),
      );
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      // A pooled connection the host had just closed (its idle timeout ran out): nothing was
      // processed, so a body-less request is sent once more on a fresh connection.
      // (Not when we destroyed the request ourselves because the app left.)
      if (
        retry &&
        !gone &&
        req.reusedSocket &&
        (err as NodeJS.ErrnoException).code === 'ECONNRESET' &&
        !ds.body
      ) {
        resolve(forwardPlain(ds, host, port, lookup, timeoutMs, false));
        return;
      }
      reject(
        new RunsdError('RUNSD_UPSTREAM_CONNECT', `cannot reach ${host}:${port}: ${err.message}`, {
          cause: err,
        }),
      );
    });
    ds.onGone(() => {
      gone = true;
      req.destroy();
    });
    if (ds.body) ds.body.pipe(req);
    else req.end();
  });
}

export function plainConnect(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  s: ProxySettings,
  dispatch: (socket: Duplex) => void,
  onError: (code: ErrorCode) => void,
): void {
  const target = req.url ?? '';
  let code: ErrorCode | null = null;
  let message = '';
  try {
    const t = parseHost(target, s.domain);
    if (t.kind !== 'service')
      throw new RunsdError(
        'RUNSD_NOT_RELAY',
        `CONNECT "${target}": only internal service names are tunnelled`,
      );
    // CONNECT to :443 means the client is about to speak TLS (an https:// URL), which this proxy
    // can neither terminate nor add a token to: say so instead of answering its ClientHello with
    // an HTTP 400 from inside the tunnel.
    if (splitHostPort(target).port === 443)
      throw new RunsdError(
        'RUNSD_NOT_RELAY',
        `CONNECT "${target}": internal names are served over plain HTTP; call http://${t.service}${t.region ? `.${t.region}` : ''} instead of https://`,
      );
  } catch (err) {
    const w = toWire(err);
    code = w.code;
    message = w.message;
  }
  if (code !== null) {
    onError(code);
    const body = `runsd: ${message}\n`;
    socket.end(rawErrorResponse(code === 'RUNSD_NOT_RELAY' ? 403 : 400, code, body));
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) socket.unshift(head);
  dispatch(socket);
}

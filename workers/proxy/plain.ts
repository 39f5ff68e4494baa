// Upstream kind 2, env mode only: an http:// URL for a host that is not an internal name, which the
// app sent to runsd as its HTTP_PROXY. Forwarded unchanged over the room's plain keep-alive agent,
// never with a token.
import http from 'node:http';
import { endToEnd, type Headers } from '../../src/domain/http-headers.ts';
import { RunsdError } from '../../src/errors.ts';
import type { Downstream } from './downstream.ts';
import type { H1Client } from './h1-request.ts';
import { refusesBody, relay } from './relay.ts';

export interface PlainOptions {
  h1: H1Client;
  host: string;
  port: number;
  timeoutMs: number;
}

export function forwardPlain(ds: Downstream, o: PlainOptions, retry = true): Promise<number> {
  const label = `${o.host}:${o.port}`;
  const headers = endToEnd(ds.headers);
  headers['host'] = ds.authority;
  const req = http.request({
    agent: o.h1.plainAgent,
    host: o.host,
    port: o.port,
    method: ds.method,
    path: ds.path,
    headers: headers as Record<string, string>,
    setHost: false,
  });
  const done = o.h1.send(req, {
    label,
    timeoutMs: o.timeoutMs,
    response(res) {
      const status = res.statusCode ?? 502;
      const empty = ds.method === 'HEAD' || status === 204 || status === 304;
      relay(ds, label, status, res.headers as Headers, empty, res, () => res.trailers as Headers);
      if (empty) res.resume();
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
      return status;
    },
    // A pooled connection the host had just closed (its idle timeout ran out): a body-less request
    // is sent once more on a fresh connection.
    retry: () => (retry && !ds.body ? forwardPlain(ds, o, false) : null),
    connectError: (err) =>
      new RunsdError('RUNSD_UPSTREAM_CONNECT', `cannot reach ${label}: ${err.message}`, { cause: err }),
    onGone: (cb) => ds.onGone(cb),
  });
  if (ds.body) ds.body.pipe(req);
  else req.end();
  return done;
}

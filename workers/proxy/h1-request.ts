// The one HTTP/1.1 client request helper, shared by the three upstream kinds (a service over the
// pool's keep-alive agent, env mode's plain http:// forwarding, tunnels). It owns what every
// HTTP/1.1 upstream request needs: a deadline for the response head (504), an unasked 101 refused
// (502), a kept-alive socket the server had just closed retried, the app leaving (the request is
// destroyed and never retried), and one settlement however the events race.
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { RunsdError } from '../../src/errors.ts';
import { protocolError } from './errors.ts';

export interface H1Call<T> {
  /** Names the upstream in errors: "host" or "host:port". */
  label: string;
  timeoutMs: number;
  /** The upstream's response head: relay it and return the result; a throw fails the call (502). */
  response(res: IncomingMessage): T;
  /** An asked-for upgrade (tunnels); without it a 101 with Upgrade is refused as unasked. */
  upgrade?(res: IncomingMessage, socket: Duplex, head: Buffer): T;
  /** Sends the request again when a reused keep-alive socket was reset before any answer (nothing
   * was processed); null (or absent) when it cannot be retried: it then fails like any other. */
  retry?(): Promise<T> | null;
  /** The failure when the request cannot be sent (default: RUNSD_UPSTREAM_CONNECT "label: why"). */
  connectError?(err: Error): RunsdError;
  /** The timeout's message (default: "label sent no response within N ms"). */
  timeoutMessage?: string;
  /** Registers the app leaving (Downstream.onGone, a socket's close). */
  onGone?(cb: () => void): void;
  /** The request failed before a response (an error, an unasked 101): stop feeding the body. */
  failed?(): void;
  /** The request closed after the call settled. */
  closed?(): void;
}

/** Runs one HTTP/1.1 request to its end. The request must not have been ended yet only if the caller
 * still feeds its body; the caller ends it (or pipes into it) after calling send. */
function send<T>(req: ClientRequest, c: H1Call<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let gone = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      return true;
    };
    const timer = setTimeout(() => {
      if (!settle()) return;
      // Not failed(): the request's 'close' then hands the body to closed(), which drains it.
      req.destroy();
      reject(
        new RunsdError(
          'RUNSD_UPSTREAM_TIMEOUT',
          c.timeoutMessage ?? `${c.label} sent no response within ${c.timeoutMs} ms`,
        ),
      );
    }, c.timeoutMs);
    req.on('response', (res) => {
      if (!settle()) return;
      try {
        resolve(c.response(res));
      } catch (err) {
        req.destroy();
        reject(err);
      }
    });
    // A 101 with an Upgrade header to a request that asked for none: node's client hands the socket
    // to 'upgrade' listeners, and with none destroys it without an error, so the app waited for the
    // full response timeout (test/workers/proxy/upstream-responses.test.ts, h1-request.test.ts). A bare 101 arrives as
    // 'response' and is refused there.
    req.on('upgrade', (res, socket, head) => {
      if (c.upgrade && !settled) {
        settle();
        resolve(c.upgrade(res, socket, head));
        return;
      }
      socket.destroy();
      if (!settle()) return;
      c.failed?.();
      reject(
        protocolError(
          c.label,
          `answered 101 Switching Protocols (Upgrade: ${res.headers.upgrade}) to a request that asked for no upgrade`,
        ),
      );
    });
    req.once('close', () => {
      if (settled) c.closed?.();
    });
    req.on('error', (err) => {
      if (!settle()) return;
      c.failed?.();
      // A kept-alive socket the server had just closed: nothing was processed. (Not when we destroyed
      // the request because the app left.)
      const again =
        req.reusedSocket && !gone && (err as NodeJS.ErrnoException).code === 'ECONNRESET'
          ? (c.retry?.() ?? null)
          : null;
      if (again) {
        resolve(again);
        return;
      }
      reject(
        c.connectError?.(err) ??
          new RunsdError('RUNSD_UPSTREAM_CONNECT', `${c.label}: ${err.message}`, { cause: err }),
      );
    });
    c.onGone?.(() => {
      gone = true;
      req.destroy();
    });
  });
}

/** The room's HTTP/1.1 client: the helper above, and the keep-alive agent for env mode's plain
 * http:// forwarding, created with the room's lookup and destroyed when the room closes. */
export class H1Client {
  readonly plainAgent: http.Agent;

  constructor(lookup: LookupFunction) {
    this.plainAgent = new http.Agent({ keepAlive: true, lookup } as http.AgentOptions);
  }

  send<T>(req: ClientRequest, c: H1Call<T>): Promise<T> {
    return send(req, c);
  }

  close(): void {
    this.plainAgent.destroy();
  }
}

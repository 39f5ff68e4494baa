// Responses the proxy makes itself: a status per error code, an x-runsd-error header, and a short
// plain-text body that names the host, says what failed and what to do.
import { STATUS_CODES } from 'node:http';
import { type ErrorCode, RunsdError, toWire } from '../../src/errors.ts';
import type { Downstream } from './downstream.ts';

/** The status of every code the proxy answers apps with (x-runsd-error); anything else is a 500.
 * A silent token room never reaches here as RUNSD_PORT_TIMEOUT: credential.ts turns every token
 * failure into RUNSD_TOKEN_FETCH. */
const STATUS = {
  RUNSD_BAD_HOST: 400,
  RUNSD_BAD_REQUEST: 400,
  RUNSD_NOT_RELAY: 403,
  RUNSD_NO_SERVICE: 404,
  RUNSD_METHOD: 405,
  RUNSD_TOKEN_FETCH: 503,
  RUNSD_FACT_MISSING: 503,
  RUNSD_UPSTREAM_TIMEOUT: 504,
  RUNSD_UPSTREAM_CONNECT: 502,
  RUNSD_UPSTREAM_RESET: 502,
  RUNSD_UPSTREAM_PROTOCOL: 502,
} as const satisfies Partial<Record<ErrorCode, number>>;

/** The codes the proxy answers apps with; the errors counter starts each at 0. */
export const ANSWERED_CODES = Object.keys(STATUS) as (keyof typeof STATUS)[];

export function statusFor(code: ErrorCode): number {
  return (STATUS as Partial<Record<ErrorCode, number>>)[code] ?? 500;
}

const HINT: Partial<Record<ErrorCode, string>> = {
  RUNSD_BAD_HOST:
    'call a service as http://SERVICE, http://SERVICE.REGION or http://SERVICE.REGION.run.internal',
  RUNSD_BAD_REQUEST: 'send an origin-form path (/...), or an http:// URL when using runsd as HTTP proxy',
  RUNSD_NOT_RELAY: 'runsd only forwards requests for internal service names',
  RUNSD_NO_SERVICE:
    'check the name and region (the list comes from the Cloud Run Admin API; -check_services=false turns the check off)',
  RUNSD_METHOD: 'send the request itself over h2c, or CONNECT over HTTP/1.1 in env mode',
  RUNSD_TOKEN_FETCH: 'check the metadata server and the service account; retry shortly',
  RUNSD_FACT_MISSING: 'retry shortly, or pass the missing value as a flag',
  RUNSD_UPSTREAM_CONNECT: 'check that the service exists and its URL resolves',
  RUNSD_UPSTREAM_TIMEOUT: 'the service did not answer in time',
  RUNSD_UPSTREAM_RESET: 'the service closed the request; retry',
  RUNSD_UPSTREAM_PROTOCOL: 'the server sent a response that is not valid HTTP or cannot be relayed',
};

/** The body of every error the proxy answers for a host: names it, says what failed, and the hint.
 * One function, so a refused WebSocket upgrade (tunnel.ts) reads exactly like a refused request. */
export function errorBody(authority: string, code: ErrorCode, message: string): string {
  const hint = HINT[code];
  return `runsd: ${authority || '(no host)'}: ${message}${hint ? `\n${hint}` : ''}\n`;
}

/** Sends the error response if no header was sent yet, else cuts the response. Returns the status. */
export function sendError(ds: Downstream, err: unknown): { status: number; code: ErrorCode } {
  const w = toWire(err);
  const status = statusFor(w.code);
  if (ds.headersSent()) {
    ds.abort();
    return { status, code: w.code };
  }
  const body = errorBody(ds.authority, w.code, w.message);
  try {
    const out = ds.respond(
      status,
      {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
        'x-runsd-error': w.code,
        'cache-control': 'no-store',
        // A request the proxy could not read as HTTP/1.1 leaves the connection in an unknown state.
        ...(ds.protocol === 'http1' && w.code === 'RUNSD_BAD_REQUEST' ? { connection: 'close' } : {}),
      },
      false,
      false,
    );
    out.end(body);
    ds.bytesOut += Buffer.byteLength(body);
    // The request body (if any) is not wanted; draining it keeps an HTTP/1.1 connection reusable.
    ds.body?.resume();
  } catch {
    ds.abort();
  }
  return { status, code: w.code };
}

/** The upstream's response cannot be relayed (the app gets a 502 naming why). */
export function protocolError(host: string, what: string): RunsdError {
  return new RunsdError('RUNSD_UPSTREAM_PROTOCOL', `${host} ${what}`);
}

/** A complete HTTP/1.1 error response for a raw socket (a refused CONNECT or upgrade, a request the
 * parser rejected), closing the connection: the same x-runsd-error contract as sendError. */
export function rawErrorResponse(status: number, code: ErrorCode, body: string): string {
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `X-Runsd-Error: ${code}\r\nCache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: close\r\n\r\n${body}`
  );
}

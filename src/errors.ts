// Errors with a stable string `code`. Error subclasses do not survive postMessage, so an error
// crosses a thread as a WireError {code, message} and is a RunsdError again on the other side.
// One way to do that: on a comlink port (every room's control API, the token room's peer API) an
// exposed method just throws a RunsdError and the caller's promise rejects with a RunsdError of the
// same code — comlink's 'throw' transfer handler is extended once per thread for that, in
// port-endpoint.ts, which every comlink user goes through. Chosen over result unions
// ({ok:false, error}) because it needs nothing from the APIs themselves: each method keeps its
// natural type, the control port's methods (src/room.ts) carry codes with no wrapper, and a caller
// cannot mistake a failure for a value. Plain postMessage protocols (RoomStatus, the dns helper's
// DnsHelperStatus in protocol.ts) put the same WireError in their failure message (toWire).

export type ErrorCode =
  | 'RUNSD_USAGE' // bad command line: exit 2
  | 'RUNSD_CONFIG' // a valid flag whose value cannot work here (e.g. PORT clash)
  | 'RUNSD_USER' // -user names no user/group on this system
  | 'RUNSD_RESOLV_CONF' // resolv.conf could not be read or written
  | 'RUNSD_ROOM_BOOTSTRAP' // a worker room failed before READY
  | 'RUNSD_ROOM_TIMEOUT' // a worker room did not answer in time
  | 'RUNSD_PORT_TIMEOUT' // a request over a MessagePort got no answer in time
  | 'RUNSD_METADATA' // the metadata server failed or answered something unusable
  | 'RUNSD_TOKEN_FETCH' // no ID token could be had for an audience
  | 'RUNSD_BAD_HOST' // a Host that is not a Cloud Run service name
  | 'RUNSD_NO_SERVICE' // -check_services: the project has no such service in that region
  | 'RUNSD_NOT_RELAY' // a Host outside the internal names in DNS mode
  | 'RUNSD_BAD_REQUEST' // a malformed request (unparseable HTTP/1.1, a request target that is no path)
  | 'RUNSD_METHOD' // a request the proxy cannot forward (h2 CONNECT / extended CONNECT)
  | 'RUNSD_UPSTREAM_CONNECT' // TCP/TLS to the upstream failed
  | 'RUNSD_UPSTREAM_TIMEOUT'
  | 'RUNSD_UPSTREAM_RESET'
  | 'RUNSD_UPSTREAM_PROTOCOL' // the upstream answered something the app's protocol cannot carry
  | 'RUNSD_DNS_UPSTREAM'
  | 'RUNSD_FACT_MISSING' // a fact (region, project number) not known yet: 503
  | 'RUNSD_INTERNAL';

export interface WireError {
  code: ErrorCode;
  message: string;
}

export class RunsdError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunsdError';
    this.code = code;
  }
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

export function isWireError(v: unknown): v is WireError {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as WireError).code === 'string' &&
    typeof (v as WireError).message === 'string'
  );
}

/** Any thrown value → a wire error; unknown errors keep their message under RUNSD_INTERNAL. */
export function toWire(err: unknown, fallback: ErrorCode = 'RUNSD_INTERNAL'): WireError {
  if (err instanceof RunsdError) return err.toWire();
  if (isWireError(err) && err.code.startsWith('RUNSD_')) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: fallback, message: err.message };
  return { code: fallback, message: String(err) };
}

export function fromWire(w: WireError): RunsdError {
  return new RunsdError(w.code, w.message);
}

// What the pool hands each load task (plain data: it crosses postMessage).
import type { WireProtocol } from '../../src/domain/loadgen-options.ts';
import type { SchedulePlan } from '../../src/domain/loadgen-schedule.ts';

export interface TaskSpec {
  url: string;
  proxy: string | null;
  protocol: WireProtocol;
  /** gRPC method path (/pkg.Svc/Method): the body is framed and grpc-status read */
  grpc: string | null;
  method: string;
  headers: [string, string][];
  /** the request body (already read from --body/--body-file/--body-size); null = none */
  body: Uint8Array | null;
  /** open connections here instead of the URL's host (Host and TLS SNI stay the URL's) */
  connectTo: { host: string; port: number } | null;
  /** PEM CA to trust for https:// (else Node's defaults, incl. NODE_EXTRA_CA_CERTS) */
  ca: string | null;
  /** this task's share of --connections */
  connections: number;
  streams: number;
  /** this task's share of the plan: its rate and request count; startMs is set by the task */
  plan: Omit<SchedulePlan, 'startMs'>;
  /** requests still in flight this long after the task's deadline are cut (counted as abandoned) */
  graceMs: number;
  timeoutMs: number;
}

/** One request's outcome, as a client reports it to the driver (the driver times it). */
export type Outcome =
  | { kind: 'response'; status: number; runsdError: string | null; grpcStatus: string | null; bytes: number }
  | { kind: 'error'; code: string };

export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null;
  if (e && typeof e.code === 'string' && e.code) return e.code;
  if (e && typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return 'UNKNOWN';
}

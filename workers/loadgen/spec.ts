// What the pool hands each load task (plain data: it crosses postMessage).
import type { LoadProtocol } from '../../src/domain/loadgen-options.ts';

export interface TaskSpec {
  url: string;
  proxy: string | null;
  protocol: LoadProtocol;
  method: string;
  headers: [string, string][];
  bodySize: number;
  /** this task's share of --connections */
  connections: number;
  streams: number;
  /** each task runs this long from its own start (worker threads start at slightly different times) */
  durationMs: number;
  /** requests still in flight this long after the task's deadline are cut (counted as abandoned) */
  graceMs: number;
  timeoutMs: number;
}

/** One request's outcome, as a client reports it to the driver. */
export type Outcome =
  | { kind: 'response'; status: number; runsdError: string | null; bytes: number; us: number }
  | { kind: 'error'; code: string };

export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null;
  if (e && typeof e.code === 'string' && e.code) return e.code;
  if (e && typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return 'UNKNOWN';
}

// What one load task returns, and how the tasks of a run merge into the report (pure). The report
// is the --json output: its shape is versioned by `schema` (docs/loadgen.md documents every field);
// add fields freely, but rename or change one only with a new schema version.
import {
  createHistogram,
  type LatencySummary,
  mergeWire,
  type PercentileCurve,
  percentileCurve,
  summarize,
  type WireHistogram,
} from './loadgen-histogram.ts';

export const REPORT_SCHEMA = 'runsd-loadtest/1';

/** One second (or the last, shorter interval) of one task, measured part only. */
export interface Tick {
  /** interval end, ms since the measured part began */
  t: number;
  responses: number;
  errors: number;
  latency: WireHistogram;
}

/** One piscina task's result; plain data (it crosses postMessage). */
export interface TaskResult {
  /** latency of every counted response, µs (open loop: from the intended send time) */
  latency: WireHistogram;
  /** responses by HTTP status */
  statuses: Record<string, number>;
  /** gRPC calls by grpc-status (trailers, or headers of a trailers-only answer) */
  grpcStatuses: Record<string, number>;
  /** responses carrying `x-runsd-error: CODE` (the proxy's own errors), by code */
  runsdErrors: Record<string, number>;
  /** requests that got no response, by error code (ECONNREFUSED, TIMEOUT, ERR_HTTP2_…) */
  errors: Record<string, number>;
  /** requests still in flight when the deadline's grace period ended (cut, not counted above) */
  abandoned: number;
  /** open loop: requests due in the measured time that were never sent (could not keep up) */
  missed: number;
  bytesIn: number;
  /** from the start of the measured part to its last completion */
  elapsedMs: number;
  timeline: Tick[];
}

/** a task that has recorded nothing yet */
export function emptyResult(): TaskResult {
  return {
    latency: [],
    statuses: {},
    grpcStatuses: {},
    runsdErrors: {},
    errors: {},
    abandoned: 0,
    missed: 0,
    bytesIn: 0,
    elapsedMs: 0,
    timeline: [],
  };
}

export interface LoadSettings {
  model: 'closed' | 'open';
  connections: number;
  streams: number;
  threads: number;
  durationMs: number | null;
  requests: number | null;
  /** requests/s asked for (open loop) */
  rate: number | null;
  warmupMs: number;
  timeoutMs: number;
}

export interface TimelinePoint {
  /** seconds since the measured part began (interval end) */
  t: number;
  reqPerSec: number;
  errors: number;
  /** ms; null in a second without responses */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface LoadReport {
  schema: typeof REPORT_SCHEMA;
  kind: 'run';
  target: { url: string; proxy: string | null; protocol: string; method: string; grpc: string | null };
  load: LoadSettings;
  /** responses received (any status) */
  responses: number;
  /** responses with 2xx/3xx status (and, for gRPC, grpc-status 0) */
  ok: number;
  errorsTotal: number;
  abandoned: number;
  missed: number;
  reqPerSec: number;
  bytesIn: number;
  elapsedMs: number;
  /** null when there were no responses (there are no percentiles of nothing) */
  latencyMs: LatencySummary | null;
  percentiles: PercentileCurve;
  statuses: Record<string, number>;
  grpcStatuses: Record<string, number>;
  runsdErrors: Record<string, number>;
  errors: Record<string, number>;
  timeline: TimelinePoint[];
  /** --emulator only: identity-token calls the emulator's metadata server answered, by audience */
  emulator?: { identityCalls: Record<string, number> };
}

export function addInto(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const sorted = (r: Record<string, number>) =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const round1 = (n: number) => Math.round(n * 10) / 10;

/** Ticks of all tasks merged by second (tasks start within a few ms of each other). */
export function mergeTimeline(results: readonly TaskResult[]): TimelinePoint[] {
  const bySecond = new Map<
    number,
    { spanMs: number; responses: number; errors: number; parts: WireHistogram[] }
  >();
  for (const r of results) {
    let prev = 0;
    for (const tick of r.timeline) {
      const sec = Math.ceil(tick.t / 1000 - 1e-9);
      const b = bySecond.get(sec) ?? { spanMs: 0, responses: 0, errors: 0, parts: [] };
      b.spanMs = Math.max(b.spanMs, tick.t - prev);
      prev = tick.t;
      b.responses += tick.responses;
      b.errors += tick.errors;
      b.parts.push(tick.latency);
      bySecond.set(sec, b);
    }
  }
  return [...bySecond.entries()]
    .sort(([a], [b]) => a - b)
    .map(([sec, b]) => {
      const s = summarize(mergeWire(b.parts));
      return {
        t: sec,
        reqPerSec: b.spanMs > 0 ? round1((b.responses / b.spanMs) * 1000) : 0,
        errors: b.errors,
        p50: s?.p50 ?? null,
        p90: s?.p90 ?? null,
        p99: s?.p99 ?? null,
        max: s?.max ?? null,
      };
    });
}

export function mergeResults(
  results: readonly TaskResult[],
  meta: Pick<LoadReport, 'target' | 'load'>,
): LoadReport {
  const statuses: Record<string, number> = {};
  const grpcStatuses: Record<string, number> = {};
  const runsdErrors: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let abandoned = 0;
  let missed = 0;
  let bytesIn = 0;
  let reqPerSec = 0;
  let elapsedMs = 0;
  for (const r of results) {
    addInto(statuses, r.statuses);
    addInto(grpcStatuses, r.grpcStatuses);
    addInto(runsdErrors, r.runsdErrors);
    addInto(errors, r.errors);
    abandoned += r.abandoned;
    missed += r.missed;
    bytesIn += r.bytesIn;
    elapsedMs = Math.max(elapsedMs, r.elapsedMs);
    // Tasks run side by side (each from its own start): their rates add up.
    if (r.elapsedMs > 0) reqPerSec += (total(r.statuses) / r.elapsedMs) * 1000;
  }
  const merged = results.length > 0 ? mergeWire(results.map((r) => r.latency)) : createHistogram();
  const goodStatus = Object.entries(statuses)
    .filter(([s]) => Number(s) >= 200 && Number(s) < 400)
    .reduce((a, [, n]) => a + n, 0);
  // A gRPC call answered 200 can still have failed: its grpc-status says so.
  const grpcFailed = total(grpcStatuses) - (grpcStatuses['0'] ?? 0);
  return {
    schema: REPORT_SCHEMA,
    kind: 'run',
    ...meta,
    responses: total(statuses),
    ok: goodStatus - grpcFailed,
    errorsTotal: total(errors),
    abandoned,
    missed,
    reqPerSec: round1(reqPerSec),
    bytesIn,
    elapsedMs: Math.round(elapsedMs),
    latencyMs: summarize(merged),
    percentiles: percentileCurve(merged),
    statuses: sorted(statuses),
    grpcStatuses: sorted(grpcStatuses),
    runsdErrors: sorted(runsdErrors),
    errors: sorted(errors),
    timeline: mergeTimeline(results),
  };
}

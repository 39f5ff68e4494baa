// What one load task returns, how the tasks of a run merge, and how the result is printed (pure).
import { type LatencySummary, mergeWire, summarize, type WireHistogram } from './loadgen-histogram.ts';

/** One piscina task's result; plain data (it crosses postMessage). */
export interface TaskResult {
  /** latency of every response (status line to end of body), µs */
  latency: WireHistogram;
  /** responses by HTTP status */
  statuses: Record<string, number>;
  /** responses carrying `x-runsd-error: CODE` (the proxy's own errors), by code */
  runsdErrors: Record<string, number>;
  /** requests that got no response, by error code (ECONNREFUSED, TIMEOUT, ERR_HTTP2_…) */
  errors: Record<string, number>;
  /** requests still in flight when the deadline's grace period ended (cut, not counted above) */
  abandoned: number;
  bytesIn: number;
  /** from the task's first request to its last completion */
  elapsedMs: number;
}

export interface LoadReport {
  target: { url: string; proxy: string | null; protocol: string; method: string };
  durationMs: number;
  connections: number;
  threads: number;
  /** responses received (any status) */
  responses: number;
  /** responses with 2xx/3xx status and no x-runsd-error */
  ok: number;
  errorsTotal: number;
  reqPerSec: number;
  bytesIn: number;
  latencyMs: LatencySummary;
  statuses: Record<string, number>;
  runsdErrors: Record<string, number>;
  errors: Record<string, number>;
  abandoned: number;
  /** --emulator only: identity-token calls the emulator's metadata server answered, by audience */
  emulator?: { identityCalls: Record<string, number> };
}

function addInto(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

const sorted = (r: Record<string, number>) =>
  Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export function mergeResults(
  results: readonly TaskResult[],
  meta: Pick<LoadReport, 'target' | 'durationMs' | 'connections' | 'threads'>,
): LoadReport {
  const statuses: Record<string, number> = {};
  const runsdErrors: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let abandoned = 0;
  let bytesIn = 0;
  let reqPerSec = 0;
  for (const r of results) {
    addInto(statuses, r.statuses);
    addInto(runsdErrors, r.runsdErrors);
    addInto(errors, r.errors);
    abandoned += r.abandoned;
    bytesIn += r.bytesIn;
    // Tasks run side by side (each for the duration, from its own start): their rates add up.
    const n = Object.values(r.statuses).reduce((a, b) => a + b, 0);
    if (r.elapsedMs > 0) reqPerSec += (n / r.elapsedMs) * 1000;
  }
  const latencyMs = summarize(mergeWire(results.map((r) => r.latency)));
  const responses = Object.values(statuses).reduce((a, b) => a + b, 0);
  const goodStatus = Object.entries(statuses)
    .filter(([s]) => Number(s) >= 200 && Number(s) < 400)
    .reduce((a, [, n]) => a + n, 0);
  // A runsd error always has an error status (4xx/5xx), so it is never inside goodStatus.
  const ok = goodStatus;
  const errorsTotal = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    ...meta,
    responses,
    ok,
    errorsTotal,
    reqPerSec: Math.round(reqPerSec * 10) / 10,
    bytesIn,
    latencyMs,
    statuses: sorted(statuses),
    runsdErrors: sorted(runsdErrors),
    errors: sorted(errors),
    abandoned,
  };
}

const fmtMs = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const list = (r: Record<string, number>) =>
  Object.keys(r).length === 0
    ? 'none'
    : Object.entries(r)
        .map(([k, n]) => `${k}×${n}`)
        .join('  ');

export function formatReport(r: LoadReport): string {
  const t = r.target;
  const via = t.proxy ? ` via proxy ${t.proxy}` : '';
  const lines = [
    `${t.method} ${t.url}${via}  ${t.protocol}, ${r.durationMs / 1000} s, ${r.connections} connections, ${r.threads} threads`,
    `  requests   ${r.responses} responses (${r.ok} ok), ${r.errorsTotal} errors, ${r.abandoned} cut at the deadline`,
    `  rate       ${r.reqPerSec} req/s, ${(r.bytesIn / 1024).toFixed(1)} KiB received`,
    `  latency    p50 ${fmtMs(r.latencyMs.p50)} ms  p90 ${fmtMs(r.latencyMs.p90)} ms  p99 ${fmtMs(r.latencyMs.p99)} ms  max ${fmtMs(r.latencyMs.max)} ms`,
    `  status     ${list(r.statuses)}`,
    `  x-runsd-error  ${list(r.runsdErrors)}`,
    `  errors     ${list(r.errors)}`,
  ];
  if (r.emulator) lines.push(`  emulator   identity calls: ${list(r.emulator.identityCalls)}`);
  return lines.join('\n');
}

// The text forms of a load test: the report, the --compare report and the progress line (pure).
import type { CompareReport } from './loadgen-compare.ts';
import type { LatencySummary } from './loadgen-histogram.ts';
import type { LoadReport, LoadSettings } from './loadgen-report.ts';

export const fmtMs = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const list = (r: Record<string, number>) =>
  Object.keys(r).length === 0
    ? 'none'
    : Object.entries(r)
        .map(([k, n]) => `${k}×${n}`)
        .join('  ');

function latencyLine(l: LatencySummary | null): string {
  if (l === null) return 'none: no responses, so no percentiles';
  return `p50 ${fmtMs(l.p50)} ms  p90 ${fmtMs(l.p90)} ms  p99 ${fmtMs(l.p99)} ms  p99.9 ${fmtMs(l.p999)} ms  max ${fmtMs(l.max)} ms`;
}

export function describeLoad(l: LoadSettings): string {
  const how =
    l.model === 'open' ? `open loop at ${l.rate} req/s (latency from the intended send time)` : 'closed loop';
  const limit = [
    l.durationMs !== null ? `${l.durationMs / 1000} s` : null,
    l.requests !== null ? `${l.requests} requests` : null,
  ]
    .filter(Boolean)
    .join(' or ');
  const streams = l.streams > 1 ? ` × ${l.streams} streams` : '';
  const warm = l.warmupMs > 0 ? `, ${l.warmupMs / 1000} s warm-up` : '';
  return `${how}, ${limit}${warm}, ${l.connections} connections${streams}, ${l.threads} threads`;
}

export function formatReport(r: LoadReport): string {
  const t = r.target;
  const via = t.proxy ? ` via proxy ${t.proxy}` : '';
  const call = t.grpc ? `gRPC ${t.grpc} at ${t.url}` : `${t.method} ${t.url}`;
  const lines = [
    `${call}${via}  ${t.protocol}, ${describeLoad(r.load)}`,
    `  requests   ${r.responses} responses (${r.ok} ok), ${r.errorsTotal} errors, ${r.abandoned} cut at the deadline`,
  ];
  if (r.load.model === 'open')
    lines.push(`  missed     ${r.missed} due but never sent (the target or -c could not keep up)`);
  lines.push(
    `  rate       ${r.reqPerSec} req/s over ${(r.elapsedMs / 1000).toFixed(1)} s, ${(r.bytesIn / 1024).toFixed(1)} KiB received`,
    `  latency    ${latencyLine(r.latencyMs)}`,
    `  status     ${list(r.statuses)}`,
  );
  if (t.grpc) lines.push(`  grpc-status ${list(r.grpcStatuses)}`);
  lines.push(`  x-runsd-error  ${list(r.runsdErrors)}`, `  errors     ${list(r.errors)}`);
  if (r.emulator) lines.push(`  emulator   identity calls: ${list(r.emulator.identityCalls)}`);
  return lines.join('\n');
}

const ms = (n: number | null) => (n === null ? '–' : fmtMs(n));
const signed = (n: number | null) =>
  n === null ? 'n/a' : `${n < 0 ? '-' : '+'}${fmtMs(Math.abs(n))} ms added`;

export function formatCompare(c: CompareReport): string {
  const rows = c.rounds.map((r) =>
    [
      String(r.round).padStart(5),
      r.first.padEnd(6),
      String(r.direct.reqPerSec).padStart(12),
      String(r.runsd.reqPerSec).padStart(12),
      `${ms(r.direct.p50)} / ${ms(r.direct.p99)}`.padStart(18),
      `${ms(r.runsd.p50)} / ${ms(r.runsd.p99)}`.padStart(18),
    ].join('  '),
  );
  const ratio = c.ratios.throughput === null ? 'n/a' : `${c.ratios.throughput.toFixed(3)}`;
  const lines = [
    `compare: ${c.rounds.length} rounds, alternating which side goes first`,
    `round  first   direct req/s   runsd req/s  direct p50/p99 ms   runsd p50/p99 ms`,
    ...rows,
    '',
    `straight to the upstream:`,
    formatReport(c.direct),
    '',
    `through runsd:`,
    formatReport(c.runsd),
    '',
    `runsd vs direct: throughput ×${ratio}, p50 ${signed(c.ratios.p50AddedMs)}, p99 ${signed(c.ratios.p99AddedMs)}`,
  ];
  if (c.emulator) lines.push(`emulator identity calls: ${list(c.emulator.identityCalls)}`);
  return lines.join('\n');
}

export interface Progress {
  phase: 'warm-up' | 'run' | string;
  elapsedMs: number;
  reqPerSec: number;
  errors: number;
  /** cumulative p99 of the measured part; null before the first response */
  p99: number | null;
}

export function formatProgress(p: Progress): string {
  const p99 = p.p99 === null ? 'p99 –' : `p99 ${fmtMs(p.p99)} ms`;
  return `${p.phase} ${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s  ${p.reqPerSec.toFixed(0).padStart(7)} req/s  ${p.errors} errors  ${p99}`;
}

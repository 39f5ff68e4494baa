// --compare: the same load straight to the upstream and through runsd, in alternating rounds (so a
// machine that slows down during the run slows both sides alike), merged per side and compared.
import type { LatencySummary } from './loadgen-histogram.ts';
import { type LoadReport, mergeResults, REPORT_SCHEMA, type TaskResult } from './loadgen-report.ts';

export type Side = 'direct' | 'runsd';

export interface Leg {
  side: Side;
  round: number;
  results: TaskResult[];
}

export interface RoundSummary {
  round: number;
  first: Side;
  direct: { reqPerSec: number; p50: number | null; p99: number | null };
  runsd: { reqPerSec: number; p50: number | null; p99: number | null };
}

export interface CompareReport {
  schema: typeof REPORT_SCHEMA;
  kind: 'compare';
  rounds: RoundSummary[];
  direct: LoadReport;
  runsd: LoadReport;
  ratios: {
    /** runsd req/s ÷ direct req/s (closed loop: how much throughput is left through runsd) */
    throughput: number | null;
    /** ms runsd adds at the median and at p99; null when a side had no responses */
    p50AddedMs: number | null;
    p99AddedMs: number | null;
  };
  emulator?: { identityCalls: Record<string, number> };
}

/** Round r's order: ABBA… so that neither side always runs on the warmer (or more tired) machine. */
export function roundOrder(round: number): [Side, Side] {
  return round % 2 === 1 ? ['direct', 'runsd'] : ['runsd', 'direct'];
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const added = (a: LatencySummary | null, b: LatencySummary | null, k: 'p50' | 'p99') =>
  a && b ? round2(b[k] - a[k]) : null;

/** Legs of one side, run one after another: counts and histograms add, rates do not. */
export function combineLegs(legs: readonly Leg[], meta: Pick<LoadReport, 'target' | 'load'>): LoadReport {
  const perLeg = legs.map((l) => mergeResults(l.results, meta));
  const all = mergeResults(
    legs.flatMap((l) => l.results),
    meta,
  );
  const elapsed = perLeg.reduce((a, r) => a + r.elapsedMs, 0);
  const responses = perLeg.reduce((a, r) => a + r.responses, 0);
  let offset = 0;
  const timeline = perLeg.flatMap((r) => {
    const shifted = r.timeline.map((p) => ({ ...p, t: p.t + offset }));
    offset += Math.ceil(r.elapsedMs / 1000);
    return shifted;
  });
  return {
    ...all,
    reqPerSec: elapsed > 0 ? Math.round((responses / elapsed) * 10_000) / 10 : 0,
    elapsedMs: elapsed,
    timeline,
  };
}

export function compareReport(
  legs: readonly Leg[],
  meta: Record<Side, Pick<LoadReport, 'target' | 'load'>>,
): CompareReport {
  const side = (s: Side) =>
    combineLegs(
      legs.filter((l) => l.side === s),
      meta[s],
    );
  const direct = side('direct');
  const runsd = side('runsd');
  const rounds: RoundSummary[] = [];
  for (const r of [...new Set(legs.map((l) => l.round))].sort((a, b) => a - b)) {
    const of = (s: Side) => {
      const leg = legs.find((l) => l.round === r && l.side === s);
      const rep = leg ? mergeResults(leg.results, meta[s]) : null;
      return {
        reqPerSec: rep?.reqPerSec ?? 0,
        p50: rep?.latencyMs?.p50 ?? null,
        p99: rep?.latencyMs?.p99 ?? null,
      };
    };
    rounds.push({ round: r, first: roundOrder(r)[0], direct: of('direct'), runsd: of('runsd') });
  }
  return {
    schema: REPORT_SCHEMA,
    kind: 'compare',
    rounds,
    direct,
    runsd,
    ratios: {
      throughput:
        direct.reqPerSec > 0 ? Math.round((runsd.reqPerSec / direct.reqPerSec) * 1000) / 1000 : null,
      p50AddedMs: added(direct.latencyMs, runsd.latencyMs, 'p50'),
      p99AddedMs: added(direct.latencyMs, runsd.latencyMs, 'p99'),
    },
  };
}

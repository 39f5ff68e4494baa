// The load loop shared by both clients: `loops` concurrent senders, each sending one request after
// another until the task's deadline, recording every outcome. At deadline + graceMs whatever is still in flight
// is cut (the client's `cutAll` destroys its sockets), so a task always ends.
import { createHistogram, histogramToWire } from '../../src/domain/loadgen-histogram.ts';
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import type { Outcome, TaskSpec } from './spec.ts';

// After a failed request, wait a little before the next one: a refused or dead target would
// otherwise be hammered in a tight loop that only measures how fast we can fail.
const ERROR_PAUSE_MS = 10;

export async function drive(
  spec: Pick<TaskSpec, 'durationMs' | 'graceMs'>,
  loops: number,
  send: () => Promise<Outcome>,
  cutAll: () => void,
): Promise<TaskResult> {
  const hist = createHistogram();
  const result: TaskResult = {
    latency: [],
    statuses: {},
    runsdErrors: {},
    errors: {},
    abandoned: 0,
    bytesIn: 0,
    elapsedMs: 0,
  };
  const started = Date.now();
  const endAt = started + spec.durationMs;
  let lastDone = started;
  let cut = false;
  const inc = (r: Record<string, number>, k: string) => {
    r[k] = (r[k] ?? 0) + 1;
  };
  const loop = async () => {
    while (!cut && Date.now() < endAt) {
      const o = await send();
      if (cut) {
        result.abandoned++;
        return;
      }
      lastDone = Date.now();
      if (o.kind === 'response') {
        hist.recordValue(Math.max(1, Math.round(o.us)));
        inc(result.statuses, String(o.status));
        if (o.runsdError) inc(result.runsdErrors, o.runsdError);
        result.bytesIn += o.bytes;
      } else {
        inc(result.errors, o.code);
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
    }
  };
  const timer = setTimeout(() => {
    cut = true;
    cutAll();
  }, spec.durationMs + spec.graceMs);
  try {
    await Promise.all(Array.from({ length: loops }, loop));
  } finally {
    clearTimeout(timer);
    cutAll();
  }
  result.latency = histogramToWire(hist);
  result.elapsedMs = Math.min(lastDone, endAt + spec.graceMs) - started;
  return result;
}

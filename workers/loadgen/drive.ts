// The load loop shared by both clients: `loops` concurrent senders, each sending one request after
// another until the deadline, recording every outcome. At endAt + graceMs whatever is still in flight
// is cut (the client's `cutAll` destroys its sockets), so a task always ends.
import { createHistogram, histogramToWire } from '../../src/domain/loadgen-histogram.ts';
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import type { Outcome, TaskSpec } from './spec.ts';

// After a failed request, wait a little before the next one: a refused or dead target would
// otherwise be hammered in a tight loop that only measures how fast we can fail.
const ERROR_PAUSE_MS = 10;

export async function drive(
  spec: Pick<TaskSpec, 'startAt' | 'endAt' | 'graceMs'>,
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
  const wait = spec.startAt - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const started = Date.now();
  let lastDone = started;
  let cut = false;
  const inc = (r: Record<string, number>, k: string) => {
    r[k] = (r[k] ?? 0) + 1;
  };
  const loop = async () => {
    while (!cut && Date.now() < spec.endAt) {
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
  const timer = setTimeout(
    () => {
      cut = true;
      cutAll();
    },
    Math.max(0, spec.endAt + spec.graceMs - Date.now()),
  );
  try {
    await Promise.all(Array.from({ length: loops }, loop));
  } finally {
    clearTimeout(timer);
    cutAll();
  }
  result.latency = histogramToWire(hist);
  result.elapsedMs = Math.min(lastDone, spec.endAt + spec.graceMs) - started;
  return result;
}

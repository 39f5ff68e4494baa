// Task results and run settings for the load generator's pure tests.
import { createHistogram, histogramToWire } from '../../src/domain/loadgen-histogram.ts';
import { emptyResult, type LoadReport, type TaskResult } from '../../src/domain/loadgen-report.ts';

export function task(latenciesMs: number[], over: Partial<TaskResult> = {}): TaskResult {
  const h = createHistogram();
  for (const ms of latenciesMs) h.recordValue(ms * 1000);
  return { ...emptyResult(), elapsedMs: 1000, latency: histogramToWire(h), ...over };
}

export const meta: Pick<LoadReport, 'target' | 'load'> = {
  target: {
    url: 'http://hello/',
    proxy: 'http://127.0.0.1:1234',
    protocol: 'http1',
    method: 'GET',
    grpc: null,
  },
  load: {
    model: 'closed',
    connections: 4,
    streams: 1,
    threads: 2,
    durationMs: 1000,
    requests: null,
    rate: null,
    warmupMs: 0,
    timeoutMs: 10_000,
  },
};

/**
 * One task's `seconds` one-second ticks of `perSec` responses, latencies from `baseMs` up to 5× it
 * and growing each second (so no line is flat), with `errorsPerSec` requests that got no response.
 */
export function timedTask(seconds: number, baseMs: number, errorsPerSec = 0, perSec = 200): TaskResult {
  const timeline: TaskResult['timeline'] = [];
  const all: number[] = [];
  for (let s = 1; s <= seconds; s++) {
    const ms = Array.from(
      { length: perSec },
      (_, i) => baseMs * (1 + s / 10) * (1 + ((4 * i) / perSec) ** 2 / 4),
    );
    all.push(...ms);
    timeline.push({ t: s * 1000, responses: ms.length, errors: errorsPerSec, latency: task(ms).latency });
  }
  return task(all, {
    statuses: { '200': all.length },
    errors: errorsPerSec > 0 ? { ECONNRESET: errorsPerSec * seconds } : {},
    elapsedMs: seconds * 1000,
    timeline,
  });
}

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

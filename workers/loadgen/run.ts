// One load run: a piscina pool of --threads workers, one task per worker with its share of the
// connections, each running for the duration; results merged into a LoadReport. The pool is always
// destroyed, and a run that overstays (startup allowance + duration + grace + STUCK_MS) is given up.
import { Piscina } from 'piscina';
import type { LoadgenOptions } from '../../src/domain/loadgen-options.ts';
import { type LoadReport, mergeResults, type TaskResult } from '../../src/domain/loadgen-report.ts';
import type { TaskSpec } from './spec.ts';

const GRACE_MS = 1000;
const STUCK_MS = 5000;
// Worker threads take a moment to start and import the clients (longer on a loaded machine): each
// task's clock starts when the task does; a pool that has not finished this long after the
// duration + grace is given up.
const STARTUP_ALLOWANCE_MS = 15_000;

export type RunOptions = Pick<
  LoadgenOptions,
  | 'durationMs'
  | 'connections'
  | 'streams'
  | 'threads'
  | 'protocol'
  | 'method'
  | 'headers'
  | 'bodySize'
  | 'timeoutMs'
> & { url: string; proxy: string | null };

/** n split into k near-equal positive parts (k ≤ n) */
export function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

export async function runLoad(o: RunOptions): Promise<LoadReport> {
  const threads = Math.min(o.threads, o.connections);
  const pool = new Piscina({
    filename: new URL('./task.ts', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // One task per thread, each long-running and async: never park a worker in Atomics.wait.
    atomics: 'disabled',
    concurrentTasksPerWorker: 1,
  });
  const abort = new AbortController();
  let stuck: NodeJS.Timeout | undefined;
  try {
    const tasks = split(o.connections, threads).map((connections) => {
      const spec: TaskSpec = {
        url: o.url,
        proxy: o.proxy,
        protocol: o.protocol,
        method: o.method,
        headers: o.headers,
        bodySize: o.bodySize,
        connections,
        streams: o.streams,
        durationMs: o.durationMs,
        graceMs: Math.min(GRACE_MS, o.timeoutMs),
        timeoutMs: o.timeoutMs,
      };
      return pool.run(spec, { signal: abort.signal }) as Promise<TaskResult>;
    });
    stuck = setTimeout(() => abort.abort(), STARTUP_ALLOWANCE_MS + o.durationMs + GRACE_MS + STUCK_MS);
    const results = await Promise.all(tasks);
    return mergeResults(results, {
      target: { url: o.url, proxy: o.proxy, protocol: o.protocol, method: o.method },
      durationMs: o.durationMs,
      connections: o.connections,
      threads,
    });
  } finally {
    clearTimeout(stuck);
    await pool.destroy();
  }
}

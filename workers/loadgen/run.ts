// One load run: a piscina pool of --threads workers, one task per worker with its share of the
// connections, requests and rate; results returned raw (the caller merges: one run, or the legs of
// --compare). Each task gets a MessagePort for its per-second ticks (the progress line). The pool is
// always destroyed, and a timed run that overstays (start-up allowance + warm-up + duration + grace
// + STUCK_MS) is given up.
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { LoadSettings, TaskResult, Tick } from '../../src/domain/loadgen-report.ts';
import { poolFiles } from './pool-files.ts';
import type { TaskSpec } from './spec.ts';
import type { TaskInput } from './task.ts';

const GRACE_MS = 1000;
const STUCK_MS = 5000;
// Worker threads take a moment to start and import the clients (longer on a loaded machine): each
// task's clock starts when the task does.
const STARTUP_ALLOWANCE_MS = 15_000;

/** what to load: the task spec's request half (the load half comes from LoadSettings) */
export type RunTarget = Pick<
  TaskSpec,
  'url' | 'proxy' | 'protocol' | 'grpc' | 'method' | 'headers' | 'body' | 'connectTo' | 'ca'
>;

/** n split into k near-equal parts */
export function split(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/** The tasks' specs: connections split evenly, requests likewise, the rate in proportion to connections. */
export function taskSpecs(t: RunTarget, load: LoadSettings): TaskSpec[] {
  const threads = Math.min(load.threads, load.connections, load.requests ?? Number.POSITIVE_INFINITY);
  const conns = split(load.connections, threads);
  const reqs = load.requests === null ? null : split(load.requests, threads);
  return conns.map((connections, i) => ({
    ...t,
    connections,
    streams: load.streams,
    plan: {
      warmupMs: load.warmupMs,
      durationMs: load.durationMs,
      requests: reqs?.[i] ?? null,
      rate: load.rate === null ? null : (load.rate * connections) / load.connections,
    },
    graceMs: Math.min(GRACE_MS, load.timeoutMs),
    timeoutMs: load.timeoutMs,
  }));
}

export async function runTasks(
  t: RunTarget,
  load: LoadSettings,
  onTick?: (tick: Tick) => void,
): Promise<TaskResult[]> {
  const specs = taskSpecs(t, load);
  const files = poolFiles();
  const pool = new Piscina({
    filename: files.task,
    minThreads: specs.length,
    maxThreads: specs.length,
    // One task per thread, each long-running and async: never park a worker in Atomics.wait.
    atomics: 'disabled',
    concurrentTasksPerWorker: 1,
  });
  const abort = new AbortController();
  let stuck: NodeJS.Timeout | undefined;
  try {
    const tasks = specs.map((spec) => {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (tick: Tick) => onTick?.(tick));
      port1.unref();
      const input: TaskInput = { spec, progress: port2 };
      return (
        pool.run(input, { signal: abort.signal, transferList: [port2] }) as Promise<TaskResult>
      ).finally(() => setImmediate(() => port1.close()));
    });
    if (load.durationMs !== null)
      stuck = setTimeout(
        () => abort.abort(),
        STARTUP_ALLOWANCE_MS + load.warmupMs + load.durationMs + GRACE_MS + STUCK_MS,
      );
    // a worker that cannot start (a missing file, a crash) is an 'error' on the pool, not on a task
    const failed = new Promise<never>((_, reject) => pool.once('error', reject));
    return await Promise.race([Promise.all(tasks), failed]);
  } finally {
    clearTimeout(stuck);
    await pool.destroy();
    files.cleanup();
  }
}

// The piscina task (this file is the pool's worker entry): run one share of the load until the
// schedule ends and return plain data (histogram as [µs, count] pairs, counts by status and error
// code, one tick per second). Ticks also go out at once on `progress` (the progress line).
import type { MessagePort } from 'node:worker_threads';
import type { TaskResult, Tick } from '../../src/domain/loadgen-report.ts';
import type { DriveClock } from './drive.ts';
import { runH2 } from './h2.ts';
import { runHttp1 } from './http1.ts';
import type { TaskSpec } from './spec.ts';

// performance.now: sub-millisecond latencies. Timers stay ref'd: a sender waiting for its next
// open-loop slot must keep the worker's event loop alive.
const realClock: DriveClock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

export interface TaskInput {
  spec: TaskSpec;
  progress: MessagePort;
}

export default async function loadTask({ spec, progress }: TaskInput): Promise<TaskResult> {
  const onTick = (tick: Tick) => progress.postMessage(tick);
  try {
    const run = spec.protocol === 'http1' ? runHttp1 : runH2;
    return await run(spec, { clock: realClock, startMs: realClock.now(), onTick });
  } finally {
    progress.close();
  }
}

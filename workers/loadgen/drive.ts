// The load loop all clients share: `loops` concurrent senders take slots from the Schedule (closed
// or open loop), send, and record each outcome by the driver's clock: latency runs from the slot's
// due time in an open loop (coordinated omission corrected) and from the actual send otherwise.
// Every second the interval is closed into a Tick (onTick: the progress line; the timeline). At
// deadline + graceMs whatever is still in flight is cut (`cutAll` destroys the sockets), so a task
// always ends. The clock is injected: test/workers/loadgen/drive.test.ts runs this on a fake one.
import { createHistogram, histogramToWire } from '../../src/domain/loadgen-histogram.ts';
import { emptyResult, type TaskResult, type Tick } from '../../src/domain/loadgen-report.ts';
import { Schedule, type SchedulePlan } from '../../src/domain/loadgen-schedule.ts';
import type { Outcome, TaskSpec } from './spec.ts';

export interface DriveClock {
  now(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

// After a failed request a closed-loop sender waits a little: a refused or dead target would
// otherwise be hammered in a tight loop that only measures how fast we can fail. (An open loop
// keeps its schedule: the rate is the point.)
const ERROR_PAUSE_MS = 10;
const TICK_MS = 1000;

export interface DriveOptions {
  plan: SchedulePlan;
  loops: number;
  graceMs: number;
  send: () => Promise<Outcome>;
  cutAll: () => void;
  clock: DriveClock;
  onTick?: (tick: Tick) => void;
}

export async function drive(o: DriveOptions): Promise<TaskResult> {
  const { clock } = o;
  const schedule = new Schedule(o.plan);
  const total = createHistogram();
  let interval = createHistogram();
  let intervalResponses = 0;
  let intervalErrors = 0;
  let intervalStart = schedule.measureFrom;
  const result = emptyResult();
  let lastDone = schedule.measureFrom;
  let cut = false;
  const inc = (r: Record<string, number>, k: string) => {
    r[k] = (r[k] ?? 0) + 1;
  };
  const sleep = (ms: number) => new Promise<void>((r) => clock.setTimer(r, ms));

  const closeInterval = (at: number) => {
    if (at <= intervalStart) return;
    const tick: Tick = {
      t: at - schedule.measureFrom,
      responses: intervalResponses,
      errors: intervalErrors,
      latency: histogramToWire(interval),
    };
    result.timeline.push(tick);
    o.onTick?.(tick);
    interval = createHistogram();
    intervalResponses = 0;
    intervalErrors = 0;
    intervalStart = at;
  };
  let tickTimer: { cancel(): void } | null = null;
  const armTick = () => {
    const at = intervalStart + TICK_MS;
    // The last interval is closed when the run ends, answers still in flight at the deadline
    // included: a separate tick for that tail would be a few ms long and show a rate it never had.
    if (at >= schedule.endAt) return;
    tickTimer = clock.setTimer(() => {
      closeInterval(at);
      armTick();
    }, at - clock.now());
  };
  armTick();

  const loop = async () => {
    for (;;) {
      if (cut) return;
      const slot = schedule.take(clock.now());
      if (!slot) return;
      const wait = slot.due - clock.now();
      if (wait > 0) await sleep(wait);
      const sentAt = clock.now();
      const out = await o.send();
      if (cut) {
        result.abandoned++;
        return;
      }
      const doneAt = clock.now();
      if (!slot.counted) {
        if (out.kind === 'error' && o.plan.rate === null) await sleep(ERROR_PAUSE_MS);
        continue;
      }
      lastDone = doneAt;
      if (out.kind === 'response') {
        // Open loop: from the due time — but a timer can wake up to 1 ms early (libuv counts whole
        // milliseconds), and a request sent early is timed from when it really went out.
        const from = o.plan.rate === null ? sentAt : Math.min(slot.due, sentAt);
        const us = Math.max(1, Math.round((doneAt - from) * 1000));
        total.recordValue(us);
        interval.recordValue(us);
        intervalResponses++;
        inc(result.statuses, String(out.status));
        if (out.runsdError) inc(result.runsdErrors, out.runsdError);
        if (out.grpcStatus !== null) inc(result.grpcStatuses, out.grpcStatus);
        result.bytesIn += out.bytes;
      } else {
        inc(result.errors, out.code);
        intervalErrors++;
        if (o.plan.rate === null) await sleep(ERROR_PAUSE_MS);
      }
    }
  };
  // The cut comes graceMs after the schedule's end (with -n only, there is no end: no cut).
  const cutTimer = Number.isFinite(schedule.endAt)
    ? clock.setTimer(
        () => {
          cut = true;
          o.cutAll();
        },
        schedule.endAt + o.graceMs - clock.now(),
      )
    : null;
  try {
    await Promise.all(Array.from({ length: o.loops }, loop));
  } finally {
    cutTimer?.cancel();
    (tickTimer as { cancel(): void } | null)?.cancel();
    o.cutAll();
  }
  const end = Math.min(lastDone, schedule.endAt + o.graceMs);
  closeInterval(Math.max(end, intervalStart));
  result.missed = schedule.missed(clock.now());
  result.latency = histogramToWire(total);
  result.elapsedMs = Math.max(0, end - schedule.measureFrom);
  return result;
}

/** What a client's run gets besides its spec: the clock, the task's start, where ticks go. */
export interface ClientContext {
  clock: DriveClock;
  startMs: number;
  onTick?: (tick: Tick) => void;
}

/** A client's share of the task: its senders (connections × streams) driven on the task's plan. */
export function driveTask(
  spec: TaskSpec,
  ctx: ClientContext,
  loops: number,
  send: () => Promise<Outcome>,
  cutAll: () => void,
): Promise<TaskResult> {
  return drive({
    plan: { ...spec.plan, startMs: ctx.startMs },
    loops,
    graceMs: spec.graceMs,
    send,
    cutAll,
    clock: ctx.clock,
    ...(ctx.onTick ? { onTick: ctx.onTick } : {}),
  });
}

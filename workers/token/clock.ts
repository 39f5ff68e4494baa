// Time as the cache sees it: injectable so refresh-ahead, expiry and idle eviction are unit-tested
// without waiting.
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Calls fn after ms; real timers are unref'd (a pending refresh never keeps the thread alive). */
  setTimer(fn: () => void, ms: number): Timer;
}

// setTimeout overflows above 2^31-1 ms (it would fire at once); callers re-check when it fires.
const MAX_DELAY = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_DELAY));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

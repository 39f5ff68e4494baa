// A manual clock for unit tests: timers fire only when advance() passes their time.
import type { Clock, Timer } from '../../workers/token/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

/** Lets promise chains (then/finally, awaited mints) run to completion. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Pending[] = [];
  constructor(start = 1_800_000_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): Timer {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.timers.push(p);
    return {
      cancel: () => {
        p.live = false;
      },
    };
  }
  pending(): number {
    return this.timers.filter((p) => p.live).length;
  }
  /** Moves time forward, firing due timers in order and letting their promise chains settle. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await flush();
      this.timers = this.timers.filter((p) => p.live);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      next.live = false;
      this.t = next.at;
      next.fn();
    }
    this.t = target;
    await flush();
  }
}

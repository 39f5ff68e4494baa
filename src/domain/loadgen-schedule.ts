// Which request a load task sends next, and when (pure: time is passed in, so the open-loop
// arithmetic is tested on a fake clock). Closed loop: a sender sends again as soon as its previous
// answer arrives. Open loop (--rate): slot i is *due* at start + i/rate whatever happened before,
// and its latency is counted from that due time, not from when a free connection finally sent it
// — a slow answer delays the requests queued behind it, and that delay is what users feel
// (coordinated omission; wrk2 and k6's constant-arrival-rate measure the same way).

export interface SchedulePlan {
  /** ms, on the clock that will be passed to take() */
  startMs: number;
  warmupMs: number;
  /** measured time after the warm-up; null = until `requests` are done */
  durationMs: number | null;
  /** counted requests (warm-up ones excluded); null = until the duration ends */
  requests: number | null;
  /** requests per second for this task; null = closed loop */
  rate: number | null;
}

export interface Slot {
  /** when it should be sent (open loop: its intended time; closed loop: now) */
  due: number;
  /** false during the warm-up: sent but not reported */
  counted: boolean;
}

export class Schedule {
  private next = 0;
  private countedTaken = 0;
  readonly measureFrom: number;
  /** no request is due at or after this time */
  readonly endAt: number;

  private readonly plan: SchedulePlan;

  constructor(plan: SchedulePlan) {
    this.plan = plan;
    if (plan.rate !== null && !(plan.rate > 0)) throw new RangeError('rate must be > 0');
    this.measureFrom = plan.startMs + plan.warmupMs;
    this.endAt = plan.durationMs === null ? Number.POSITIVE_INFINITY : this.measureFrom + plan.durationMs;
  }

  /** intended send time of open-loop slot i */
  dueAt(i: number): number {
    // multiplied from the start each time (not accumulated) so rounding never drifts the rate
    return this.plan.startMs + (i * 1000) / (this.plan.rate ?? 1);
  }

  /** the next slot for a sender that is free at `now`, or null when the task has nothing left to send */
  take(now: number): Slot | null {
    const { plan } = this;
    let due: number;
    let counted: boolean;
    if (plan.rate === null) {
      due = now;
      if (due >= this.endAt) return null;
      counted = due >= this.measureFrom;
    } else {
      // Compared as offsets from the start, not as start + offset: startMs is a fractional clock
      // reading, and (start + 300) + 2200 can land a hair above start + 2500 — one slot too many.
      const offset = (this.next * 1000) / plan.rate;
      if (plan.durationMs !== null && offset >= plan.warmupMs + plan.durationMs) return null;
      due = plan.startMs + offset;
      counted = offset >= plan.warmupMs;
    }
    if (counted && this.plan.requests !== null && this.countedTaken >= this.plan.requests) return null;
    this.next++;
    if (counted) this.countedTaken++;
    return { due, counted };
  }

  /**
   * Open loop: counted slots that were due before `now` (capped at the end) but never handed out —
   * the target (or the connection limit) could not keep up with the rate. 0 for a closed loop.
   */
  missed(now: number): number {
    if (this.plan.rate === null) return 0;
    const until = Math.min(now, this.endAt);
    if (until <= this.measureFrom) return 0;
    const perMs = this.plan.rate / 1000;
    // slots due in [measureFrom, until): indices ceil((measureFrom-start)·rate) … ceil((until-start)·rate)-1
    const first = Math.ceil((this.measureFrom - this.plan.startMs) * perMs - 1e-9);
    let dueBefore = Math.ceil((until - this.plan.startMs) * perMs - 1e-9) - first;
    if (this.plan.requests !== null) dueBefore = Math.min(dueBefore, this.plan.requests);
    return Math.max(0, dueBefore - this.countedTaken);
  }

  /** counted slots handed out so far */
  get counted(): number {
    return this.countedTaken;
  }
}

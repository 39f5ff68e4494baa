// The progress line on stderr, once a second: redrawn in place on a terminal (\r + clear to end of
// line), one plain line per second otherwise (a CI log, a file). Ticks come from the workers'
// progress ports; the cumulative p99 is merged here from their per-second histograms.

import { formatProgress } from '../../src/domain/loadgen-format.ts';
import { createHistogram, summarize } from '../../src/domain/loadgen-histogram.ts';
import type { Tick } from '../../src/domain/loadgen-report.ts';

const CLEAR = '\r\x1b[2K';

export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export class ProgressLine {
  private hist = createHistogram();
  private responses = 0;
  private errors = 0;
  private lastResponses = 0;
  private lastAt = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;

  private readonly out: ProgressSink;
  private readonly label: string;
  private readonly warmupMs: number;

  constructor(out: ProgressSink, label: string, warmupMs: number) {
    this.out = out;
    this.label = label;
    this.warmupMs = warmupMs;
  }

  tick(t: Tick): void {
    this.responses += t.responses;
    this.errors += t.errors;
    for (const [v, n] of t.latency) this.hist.recordValueWithCount(v, n);
  }

  start(): void {
    this.startedAt = this.lastAt = performance.now();
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }

  private draw(): void {
    const now = performance.now();
    const dt = now - this.lastAt;
    const rps = dt > 0 ? ((this.responses - this.lastResponses) / dt) * 1000 : 0;
    this.lastAt = now;
    this.lastResponses = this.responses;
    const elapsedMs = now - this.startedAt;
    // no tick yet and inside the warm-up: the workers are loading, not measuring
    const phase =
      this.responses === 0 && this.errors === 0 && elapsedMs <= this.warmupMs + 1000 && this.warmupMs > 0
        ? 'warm-up'
        : this.label;
    const line = formatProgress({
      phase,
      elapsedMs,
      reqPerSec: rps,
      errors: this.errors,
      p99: summarize(this.hist)?.p99 ?? null,
    });
    this.out.write(this.out.isTTY ? `${CLEAR}${line}` : `${line}\n`);
    this.drawn = true;
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.drawn && this.out.isTTY) this.out.write(CLEAR);
  }
}

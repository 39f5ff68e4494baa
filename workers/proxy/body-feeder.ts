// Streams the app's request body to the current upstream stream with backpressure, and keeps a copy
// of what it sent until the upstream answers, so a stream the server refused (GOAWAY, REFUSED_STREAM)
// can be replayed on a fresh session. Bodies larger than the replay budget are streamed without a
// copy and are then not retried.
import type { Readable, Writable } from 'node:stream';

const REPLAY_BUDGET = 1024 * 1024;

export class BodyFeeder {
  private readonly src: Readable;
  private chunks: Buffer[] = [];
  private size = 0;
  private target: Writable | null = null;
  private ended = false;
  private replayable = true;
  private readonly onDrain = () => this.src.resume();
  private readonly finish: (t: Writable) => void;

  /** `finish` ends a target once the body has ended (default: end(); the exchange passes one that
   * sends the request's trailers first). */
  constructor(src: Readable, finish: (t: Writable) => void = (t) => t.end()) {
    this.src = src;
    this.finish = finish;
    src.on('data', (c: Buffer) => {
      if (this.replayable) {
        this.size += c.length;
        if (this.size > REPLAY_BUDGET) this.commit();
        else this.chunks.push(c);
      }
      const t = this.target;
      if (t && !guard(t, () => t.write(c))) {
        src.pause();
        t.once('drain', this.onDrain);
      }
    });
    src.once('end', () => {
      this.ended = true;
      const t = this.target;
      if (t) guard(t, () => this.finish(t));
    });
    // The app went away mid-upload: the exchange learns it through Downstream.onGone.
    src.on('error', () => {});
    src.pause();
  }

  /** The app's body has ended (all of it was handed to the target). */
  get complete(): boolean {
    return this.ended;
  }

  /** Whether a fresh attempt could resend everything sent so far. */
  get canReplay(): boolean {
    return this.replayable;
  }

  attach(t: Writable): void {
    this.target = t;
    guard(t, () => {
      for (const c of this.chunks) t.write(c);
      if (this.ended) this.finish(t);
    });
    if (!this.ended) this.src.resume();
  }

  detach(): void {
    this.target?.off('drain', this.onDrain);
    this.target = null;
    this.src.pause();
  }

  /** The upstream stream `from` is done (closed after its response, or cut): read and drop the rest
   * of the app's body, as node does for an unread request body. Left paused, an HTTP/1.1 app's
   * socket was never read again (an upstream that answers a large upload without reading it): the
   * connection, and its close, went unnoticed forever. No-op if another attempt took over. */
  discard(from: Writable): void {
    if (this.target !== from) return;
    this.detach();
    this.src.resume();
  }

  /** The upstream answered: no more replays, drop the copy. */
  commit(): void {
    this.replayable = false;
    this.chunks = [];
  }
}

/** A write the upstream client refuses (it throws, e.g. ERR_HTTP_TRAILER_INVALID) would be thrown in
 * the app stream's 'data' listener and kill the room: it fails this request's upstream side instead,
 * which the exchange reports. Returns the write's result (false = wait for 'drain'). */
function guard(t: Writable, fn: () => unknown): boolean {
  try {
    return fn() !== false;
  } catch (err) {
    t.destroy(err as Error);
    return true;
  }
}

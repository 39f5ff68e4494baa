// Cache of forwarded answers, kept as wire bytes (ID zeroed) with the offsets of their TTLs, so a
// hit is a copy + three small rewrites: the client's ID, its question case, and aged TTLs.
// Bounded: the least recently used entry goes first (a Map keeps insertion order).
import { ageTtls, questionNameSpan, ttlOffsets, writeId } from '../../src/domain/dns-wire.ts';

interface Entry {
  wire: Buffer;
  ttlOffsets: number[];
  storedAt: number;
  expiresAt: number;
}

export class AnswerCache {
  private readonly map = new Map<string, Entry>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(max: number, now: () => number = Date.now) {
    this.max = max;
    this.now = now;
  }

  get size(): number {
    return this.map.size;
  }

  set(key: string, reply: Uint8Array, ttlSec: number): void {
    if (ttlSec <= 0 || this.max <= 0) return;
    const offs = ttlOffsets(reply);
    if (!offs) return;
    const now = this.now();
    this.map.delete(key);
    while (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.map.delete(oldest);
    }
    const wire = Buffer.from(reply);
    writeId(wire, 0);
    this.map.set(key, { wire, ttlOffsets: offs, storedAt: now, expiresAt: now + ttlSec * 1000 });
  }

  /** A reply for this query (its ID and question bytes), or null on a miss. */
  get(key: string, query: Uint8Array): Buffer | null {
    const e = this.map.get(key);
    if (!e) return null;
    const now = this.now();
    if (now >= e.expiresAt) {
      this.map.delete(key);
      return null;
    }
    // Refresh recency.
    this.map.delete(key);
    this.map.set(key, e);
    const out = Buffer.allocUnsafe(e.wire.length);
    e.wire.copy(out);
    writeId(out, ((query[0] ?? 0) << 8) | (query[1] ?? 0));
    copyQuestionName(query, out);
    ageTtls(out, e.ttlOffsets, Math.floor((now - e.storedAt) / 1000));
    return out;
  }

  clear(): void {
    this.map.clear();
  }
}

/** Copies the question name bytes of `from` over those of `to` (same name, maybe other case). */
export function copyQuestionName(from: Uint8Array, to: Uint8Array): void {
  const a = questionNameSpan(from);
  const b = questionNameSpan(to);
  if (!a || !b || a[1] - a[0] !== b[1] - b[0]) return;
  to.set(from.subarray(a[0], a[1]), b[0]);
}

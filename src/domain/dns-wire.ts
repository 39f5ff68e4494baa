// Small raw-wire helpers for forwarded messages. Forwarded queries and answers are passed on as
// bytes (EDNS0 options, unknown record types and DNSSEC data survive untouched); these helpers find
// the few fields runsd rewrites: the ID, the question name's case, and the TTLs of cached answers.

/** End offset of the (possibly compressed) name at `off`, or -1 when it runs past the buffer. */
export function skipName(buf: Uint8Array, off: number): number {
  let o = off;
  for (let guard = 0; guard < 128; guard++) {
    if (o >= buf.length) return -1;
    const len = buf[o] ?? 0;
    if (len === 0) return o + 1;
    if ((len & 0xc0) === 0xc0) return o + 2 <= buf.length ? o + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    o += len + 1;
  }
  return -1;
}

function u16(buf: Uint8Array, off: number): number {
  return ((buf[off] ?? 0) << 8) | (buf[off + 1] ?? 0);
}

/** Byte range of the first question's name: [12, end). Null when malformed. */
export function questionNameSpan(buf: Uint8Array): [number, number] | null {
  if (buf.length < 12 || u16(buf, 4) < 1) return null;
  const end = skipName(buf, 12);
  return end < 0 || end + 4 > buf.length ? null : [12, end];
}

/**
 * Offsets of the 32-bit TTL field of every resource record outside the question section, except
 * OPT (type 41), whose "TTL" carries EDNS flags. Null when the message is malformed.
 */
export function ttlOffsets(buf: Uint8Array): number[] | null {
  if (buf.length < 12) return null;
  const qd = u16(buf, 4);
  const rrs = u16(buf, 6) + u16(buf, 8) + u16(buf, 10);
  let o = 12;
  for (let i = 0; i < qd; i++) {
    o = skipName(buf, o);
    if (o < 0 || o + 4 > buf.length) return null;
    o += 4;
  }
  const out: number[] = [];
  for (let i = 0; i < rrs; i++) {
    o = skipName(buf, o);
    if (o < 0 || o + 10 > buf.length) return null;
    const type = u16(buf, o);
    if (type !== 41) out.push(o + 4);
    const rdlen = u16(buf, o + 8);
    o += 10 + rdlen;
    if (o > buf.length) return null;
  }
  return out;
}

/**
 * Whether the section counts could fit in the message: a question takes at least 5 bytes (root
 * name, type, class), a record at least 11. A message claiming more is malformed (dns-packet
 * throws on it, or "decodes" records from past its end); checking first spares decoding it:
 * dns-packet allocates arrays of the claimed sizes first, 4 × 65535 slots (~2 MB) for a header of
 * 0xff bytes, which held the room to ~5k garbage packets/s (bench/dns-fuzz.ts).
 */
export function countsFit(buf: Uint8Array): boolean {
  if (buf.length < 12) return false;
  return u16(buf, 4) * 5 + (u16(buf, 6) + u16(buf, 8) + u16(buf, 10)) * 11 <= buf.length - 12;
}

export function writeId(buf: Uint8Array, id: number): void {
  buf[0] = (id >> 8) & 0xff;
  buf[1] = id & 0xff;
}

export function readId(buf: Uint8Array): number {
  return u16(buf, 0);
}

/** Writes each TTL at the given offsets as max(0, ttl - elapsed). */
export function ageTtls(buf: Uint8Array, offsets: readonly number[], elapsedSec: number): void {
  for (const off of offsets) {
    const ttl =
      (((buf[off] ?? 0) << 24) |
        ((buf[off + 1] ?? 0) << 16) |
        ((buf[off + 2] ?? 0) << 8) |
        (buf[off + 3] ?? 0)) >>>
      0;
    const t = Math.max(0, ttl - elapsedSec);
    buf[off] = (t >>> 24) & 0xff;
    buf[off + 1] = (t >>> 16) & 0xff;
    buf[off + 2] = (t >>> 8) & 0xff;
    buf[off + 3] = t & 0xff;
  }
}

/**
 * A copy of `buf` without the EDNS0 options of the given code (e.g. COOKIE, 10: cookies are
 * hop-by-hop, RFC 7873, so a forwarder must not pass the client's on). Returns `buf` itself when
 * there is nothing to strip, null when the message is malformed.
 */
export function stripEdnsOption(buf: Uint8Array, code: number): Uint8Array | null {
  if (buf.length < 12) return null;
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  let o = 12;
  for (let i = 0; i < qd; i++) {
    o = skipName(buf, o);
    if (o < 0 || o + 4 > buf.length) return null;
    o += 4;
  }
  for (let i = 0; i < an + ns + ar; i++) {
    o = skipName(buf, o);
    if (o < 0 || o + 10 > buf.length) return null;
    const type = u16(buf, o);
    const rdlen = u16(buf, o + 8);
    const rdStart = o + 10;
    const rdEnd = rdStart + rdlen;
    if (rdEnd > buf.length) return null;
    if (type === 41 && i >= an + ns) {
      const keep: Uint8Array[] = [];
      let removed = 0;
      for (let p = rdStart; p < rdEnd; ) {
        if (p + 4 > rdEnd) return null;
        const olen = u16(buf, p + 2);
        if (p + 4 + olen > rdEnd) return null;
        if (u16(buf, p) === code) removed += 4 + olen;
        else keep.push(buf.subarray(p, p + 4 + olen));
        p += 4 + olen;
      }
      if (removed === 0) return buf;
      const out = new Uint8Array(buf.length - removed);
      out.set(buf.subarray(0, o + 8), 0);
      const newLen = rdlen - removed;
      out[o + 8] = (newLen >> 8) & 0xff;
      out[o + 9] = newLen & 0xff;
      let w = rdStart;
      for (const k of keep) {
        out.set(k, w);
        w += k.length;
      }
      out.set(buf.subarray(rdEnd), w);
      return out;
    }
    o = rdEnd;
  }
  return buf;
}

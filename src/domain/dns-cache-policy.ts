// How long a forwarded answer may be served from the cache. Positive answers: the smallest TTL of
// their records. Negative answers (NXDOMAIN, or NOERROR without answers = NODATA): RFC 2308 §5,
// min(SOA TTL, SOA MINIMUM) from the authority section; without an SOA they are not cached.
// SERVFAIL, REFUSED and truncated answers are never cached.
import type { Packet } from 'dns-packet';

export const MAX_CACHE_TTL = 3600;
export const MAX_NEGATIVE_TTL = 900;

export function cacheTtl(reply: Packet): number {
  const flags = reply.flags ?? 0;
  if (flags & (1 << 9)) return 0; // TC
  const rcode = flags & 0xf;
  const answers = (reply.answers ?? []).filter((a) => a.type !== 'OPT');
  if (rcode === 0 && answers.length > 0) {
    const min = Math.min(...answers.map((a) => a.ttl ?? 0));
    return Math.max(0, Math.min(min, MAX_CACHE_TTL));
  }
  if (rcode === 3 || (rcode === 0 && answers.length === 0)) {
    const soa = (reply.authorities ?? []).find((a) => a.type === 'SOA');
    if (!soa) return 0;
    const minimum = (soa.data as { minimum?: number }).minimum ?? 0;
    return Math.max(0, Math.min(soa.ttl ?? 0, minimum, MAX_NEGATIVE_TTL));
  }
  return 0;
}

/** Cache key of a query: name (case-folded), type, class, and the EDNS bits that change answers. */
export function cacheKey(q: Packet): string | null {
  const question = q.questions?.[0];
  if (!question) return null;
  const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { flags?: number } | undefined;
  const flags = q.flags ?? 0;
  const edns = opt ? ((opt.flags ?? 0) & 0x8000 ? 'D' : 'E') : 'N';
  const cd = flags & (1 << 4) ? 'C' : '';
  return `${question.name.toLowerCase().replace(/\.$/, '')}|${question.type}|${question.class ?? 'IN'}|${edns}${cd}`;
}

/** The largest UDP reply a client accepts: 512, or its EDNS0 payload size (capped at 4096). */
export function clientUdpLimit(q: Packet): number {
  const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  if (!opt) return 512;
  return Math.max(512, Math.min(opt.udpPayloadSize ?? 512, 4096));
}

// When to refresh, drop and retry ID tokens. Pure: every function takes the time (ms since the
// epoch) and, where it needs chance, a random() in [0, 1) — so the schedule is table-testable.

/** Seconds-since-epoch `exp` from a JWT's payload, or null. Not verified: we only mint and forward
 * tokens, the receiving Cloud Run front end verifies them. base64url JSON needs no library. */
export function jwtExp(token: string): number | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null) return null;
    const exp = (payload as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp : null;
  } catch {
    return null;
  }
}

/**
 * When to fetch a replacement for a token fetched at `fetchedAt` that expires at `expiresAt`:
 * `refreshAheadMs` before expiry (Google's client libraries use 5 min), or halfway through its life
 * for tokens that live less than twice that — a 2-minute token is renewed after 1 minute.
 */
export function refreshAt(fetchedAt: number, expiresAt: number, refreshAheadMs: number): number {
  const lifetime = expiresAt - fetchedAt;
  if (lifetime <= 0) return fetchedAt;
  if (lifetime < 2 * refreshAheadMs) return fetchedAt + Math.floor(lifetime / 2);
  return expiresAt - refreshAheadMs;
}

/** A token with less than this left is not handed out: the request it rides on still has to reach
 * the upstream (10 s, or a tenth of a short token's life). */
export function safetyMarginMs(fetchedAt: number, expiresAt: number): number {
  return Math.min(10_000, Math.max(0, Math.floor((expiresAt - fetchedAt) / 10)));
}

export function usable(now: number, fetchedAt: number, expiresAt: number): boolean {
  return now < expiresAt - safetyMarginMs(fetchedAt, expiresAt);
}

/** An audience nobody asked for in `idleMs` is dropped instead of refreshed. */
export function idle(now: number, lastUsed: number, idleMs: number): boolean {
  return now - lastUsed >= idleMs;
}

/**
 * The proxy's local mirror: when to ask the token room again. Later than the room's own refresh
 * (so the room has the new token ready by then), earlier than the safety margin: a minute before
 * expiry, or a quarter of the remaining life for short tokens. `receivedAt` is when the mirror got it.
 */
export function mirrorStaleAt(receivedAt: number, expiresAt: number): number {
  const remaining = expiresAt - receivedAt;
  if (remaining <= 0) return receivedAt;
  return expiresAt - Math.min(60_000, Math.floor(remaining / 4));
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (0 = the first retry): exponential, capped, with "equal
 * jitter" — half fixed, half random — so many callers that failed together do not retry together,
 * yet every delay is at least half the nominal one.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const nominal = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(nominal / 2 + (nominal / 2) * r);
}

export type FailureKind =
  | { kind: 'timeout' }
  | { kind: 'network' }
  | { kind: 'status'; status: number }
  /** An answer that is not the metadata server's (no Metadata-Flavor), or unusable. */
  | { kind: 'invalid' };

/** Timeouts, connection failures, 5xx and 429 are worth retrying; any other 4xx will not change. */
export function retryable(f: FailureKind): boolean {
  if (f.kind === 'invalid') return false;
  if (f.kind !== 'status') return true;
  return f.status === 429 || f.status >= 500;
}

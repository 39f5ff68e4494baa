// The project's Cloud Run services, as the Admin API lists them (-check_services): what a name is
// (a service, no service, or "cannot tell": today's behaviour), when to ask again, and which
// existing service a mistyped name probably meant. Pure: the token room's catalog and the dns and
// proxy rooms' mirrors drive it (test/domain/service-list.test.ts).

/** One region's list as a room holds it. `names` null: never listed (or the API refused). */
export interface RegionList {
  region: string;
  names: readonly string[] | null;
  /** ms since the epoch of the last good list (0: none). */
  fetchedAt: number;
  /** The last refresh's outcome. */
  state: ListState;
}

export type ListState = 'ok' | 'refused' | 'unavailable' | 'pending';

export type Verdict = 'known' | 'missing' | 'unchecked';

/** A list older than this is not trusted to say "no such service" (refreshes have been failing). */
export const MAX_LIST_AGE_MS = 10 * 60_000;

/** Whether `service` exists in `list`; "unchecked" whenever the list cannot be trusted. */
export function verdict(list: RegionList | undefined, service: string, now: number): Verdict {
  if (!list || list.names === null || now - list.fetchedAt > MAX_LIST_AGE_MS) return 'unchecked';
  return list.names.includes(service) ? 'known' : 'missing';
}

/**
 * Milliseconds until the next refresh: the interval ±10 % (instances started together must not ask
 * together), doubled per consecutive failure (429, 5xx, unreachable) up to 10× the interval; a
 * refusal (403: no run.services.list) asks again only every 10 intervals.
 */
export function nextRefreshMs(intervalSec: number, state: ListState, failures: number, rand: number): number {
  const base = intervalSec * 1000;
  const factor = state === 'refused' ? 10 : state === 'unavailable' ? Math.min(2 ** failures, 10) : 1;
  const jitter = 0.9 + 0.2 * Math.min(Math.max(rand, 0), 1);
  return Math.round(base * factor * jitter);
}

/** A miss asks the API again at once, but not more often than this per region (a typo storm). */
export const MISS_REFRESH_SPACING_MS = 5_000;

/** Levenshtein distance (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The existing service closest to `name` (ties: alphabetical), or null when none is near enough
 * to be a likely typo (more than a third of the longer name differs). */
export function closestService(name: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Number.POSITIVE_INFINITY;
  for (const n of [...names].sort()) {
    const d = editDistance(name, n);
    if (d < bestD) {
      best = n;
      bestD = d;
    }
  }
  if (best === null) return null;
  return bestD <= Math.max(2, Math.ceil(Math.max(name.length, best.length) / 3)) ? best : null;
}

/** The service names in one Admin API services.list page: `name` is
 * projects/P/locations/R/services/NAME. Anything else in the page is ignored. */
export function pageNames(body: unknown): { names: string[]; next: string | null } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as {
    services?: { name?: unknown }[];
    nextPageToken?: unknown;
  };
  const names: string[] = [];
  for (const s of Array.isArray(b.services) ? b.services : []) {
    const m = typeof s?.name === 'string' ? /\/services\/([a-z][a-z0-9-]*)$/.exec(s.name) : null;
    if (m) names.push(m[1]!);
  }
  const next = typeof b.nextPageToken === 'string' && b.nextPageToken !== '' ? b.nextPageToken : null;
  return { names, next };
}

/** What the proxy tells the app about a name that is no service. */
export function noServiceMessage(service: string, region: string, names: readonly string[]): string {
  const near = closestService(service, names);
  return `no Cloud Run service "${service}" in ${region}${near ? `: did you mean ${near}?` : ` (${names.length} services there)`}`;
}

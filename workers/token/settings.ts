// The token room's settings slice (built by the supervisor from Config; see room-settings.ts).
export interface TokenSettings {
  /** `-metadata_host`, else GCE_METADATA_HOST / GCE_METADATA_IP; null = metadata.google.internal. */
  metadataHost: string | null;
  /** The original nameservers, used to resolve metadata.google.internal (never runsd's own DNS). */
  upstreams: string[];
  /** CLOUD_RUN_ID_TOKEN: used as-is for every audience. */
  staticToken: string | null;
  /** Identity calls in flight at most (p-queue concurrency). */
  maxConcurrent: number;
  refreshAheadSec: number;
  idleSec: number;
  /** Per metadata HTTP request: name lookup + TCP connect. */
  connectTimeoutMs: number;
  /** Per metadata HTTP request: from the connection to the end of the answer. */
  responseTimeoutMs: number;
  /** -check_services: list the project's services (Admin API); null = off. */
  services?: { intervalSec: number; adminPort?: number } | null;
  /** Metadata calls per identity fetch at most (retries included). */
  attempts: number;
  /** Bound on one identity fetch: every attempt, backoff sleep and queue wait. */
  deadlineMs: number;
}

/**
 * The production budget (docs/token.md "Timeouts"): a request whose token the cache cannot serve
 * gets its 503 within 5 s even when the metadata server never answers. 3 × (1.2 s + backoff ≤ 0.2 s)
 * fits the 4 s deadline; the proxy waits the deadline plus 0.5 s for the room's answer.
 */
export const METADATA_BUDGET = {
  connectTimeoutMs: 1000,
  responseTimeoutMs: 1200,
  attempts: 3,
  deadlineMs: 4000,
} as const satisfies Pick<
  TokenSettings,
  'connectTimeoutMs' | 'responseTimeoutMs' | 'attempts' | 'deadlineMs'
>;

/** How long the proxy waits for the token room (a backstop: the room answers by its deadline). */
export const TOKEN_WAIT_MS = METADATA_BUDGET.deadlineMs + 500;

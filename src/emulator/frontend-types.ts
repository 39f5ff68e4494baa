// The front end's public shapes (options, knobs, counters) and the routing/auth decision.
import type { AuthResult } from './frontend-auth.ts';
import type { Jwk } from './jwt.ts';
import type { HostMatch } from './routing.ts';

export interface ServiceSpec {
  name: string;
  /** allow unauthenticated invocations (no token needed) */
  public?: boolean;
  /** regions it is deployed in (default: all of the front end's regions) */
  regions?: string[];
  /** extra accepted audiences (Cloud Run "custom audiences") */
  audiences?: string[];
  /** traffic tags: TAG---SERVICE-… hosts reach the service (other tags: 404) */
  tags?: string[];
  /** custom domains mapped to the service (in its first region); the DNS answers them with the front end */
  domains?: string[];
}

export interface FrontendOptions {
  host?: string;
  port?: number;
  projectNumber: string;
  projectHash?: string;
  /** also accepted as PROJECT by the Admin API (besides the number) */
  projectId?: string;
  regions?: string[];
  /** keys that verify ID tokens: the metadata server's `jwks` (a function is read on every request) */
  jwks?: { keys: Jwk[] } | (() => { keys: Jwk[] });
  services?: ServiceSpec[];
  /** write the CA certificate (PEM) there */
  caPath?: string;
  /** Admin API (run.googleapis.com) services.list: the most services per page, whatever the client
   * asks (default 2, so nextPageToken paging is always exercised) */
  adminApi?: { pageSize?: number };
  /** h2 SETTINGS_MAX_CONCURRENT_STREAMS the front end advertises (default 100, like Google's front ends) */
  maxConcurrentStreams?: number;
}

export interface FrontendKnobs {
  /** h2: send GOAWAY (graceful close) when a session's Nth stream arrives; http/1.1: Connection: close. 0 = off */
  goawayAfterStreams: number;
  /** reset the next N requests (RST_STREAM INTERNAL_ERROR on h2, socket destroyed on http/1.1) */
  resetStreams: number;
  /** added before every response */
  delayMs: number;
  /** destroy every new connection at once */
  refuseConnections: boolean;
  /** the Admin API's services.list answers 403 PERMISSION_DENIED (no run.services.list) */
  adminApiForbidden: boolean;
}

export interface FrontendRequest {
  service: string | null;
  region: string | null;
  host: string;
  protocol: 'h2' | 'http/1.1' | 'grpc' | 'ws';
  method: string;
  path: string;
  status: number;
  authVia: string | null;
  authFailure: string | null;
  aud: string | null;
}

export interface FrontendStats {
  requests: Record<string, Record<string, number>>;
  notFound: number;
  authFailures: Record<string, number>;
  /** Admin API list calls (pages), by region */
  adminListCalls: Record<string, number>;
  connections: number;
  /** TLS connections by the server name (SNI) the client sent; "(none)" when it sent none. */
  serverNames: Record<string, number>;
  goaways: number;
  resets: number;
}

export interface Frontend {
  host: string;
  port: number;
  url: (service: string, region?: string, form?: 'deterministic' | 'legacy') => string;
  /** custom domains of the services (answered by the emulator DNS) */
  domains: string[];
  caPem: string;
  caPath: string | undefined;
  writeCa(path: string): string;
  knobs: FrontendKnobs;
  /** every request in order (the last 10000) */
  log: FrontendRequest[];
  stats(): FrontendStats;
  requestCount(service?: string, protocol?: string): number;
  resetStats(): void;
  closeConnections(): void;
  close(): Promise<void>;
}

/** What the front end decided about a request before any service sees it. */
export type Admission =
  | { kind: 'not-found'; m: HostMatch | null }
  | { kind: 'ok'; m: HostMatch; auth: Extract<AuthResult, { ok: true }> | null }
  | { kind: 'denied'; m: HostMatch; auth: Extract<AuthResult, { ok: false }> };

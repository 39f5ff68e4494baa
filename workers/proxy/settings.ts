// The proxy room's settings slice (built by the supervisor from Config, see room-settings.ts) and
// its defaults. Test-only fields are marked; production never sets them.
import type { RouteSpec } from '../../src/domain/routes.ts';
import type { ActiveMode, AuthHeader, UrlFormat } from '../../src/domain/vocabulary.ts';

export interface ProxySettings {
  mode: ActiveMode;
  host4: string;
  host6: string | null;
  /** 0 = a free port (env mode); the bound port is reported in handle.info.port. */
  port: number;
  /** Internal zone, e.g. "run.internal." */
  domain: string;
  urlFormat: UrlFormat;
  authHeader: AuthHeader;
  projectHash: string | null;
  /** From -project_number; else from facts (metadata server). */
  projectNumber: string | null;
  /** -route entries: short names sent to any HTTPS URL, before the Cloud Run naming. */
  routes?: readonly RouteSpec[];
  /** -check_services: a name that is no service gets 404 RUNSD_NO_SERVICE (lists from the token room). */
  services?: { intervalSec: number };
  /** The original nameservers ("IP" or "IP:PORT"): upstream names are resolved through them. */
  upstreams: string[];
  /** Time to the upstream's response headers before a 504 (default 300 s, Cloud Run's default timeout). */
  timeoutMs?: number;
  /** TCP+TLS connect budget before a 504 (default 10 s). */
  connectTimeoutMs?: number;
  /** A new connection that sends nothing (not even the first bytes of a request) is closed after
   * this long (default 30 s); afterwards the HTTP servers' own idle timeouts apply. */
  firstBytesTimeoutMs?: number;
  /** -access_log: one Cloud Logging httpRequest line per proxied request on stderr. */
  accessLog?: boolean;
  /** Bound on one wait for the token room (default TOKEN_WAIT_MS: its deadline plus 0.5 s). */
  tokenWaitMs?: number;
  /** Test-only: upstream HTTPS port (default 443). */
  upstreamPort?: number;
  /** Test-only: an extra CA (PEM) trusted besides the system CAs and NODE_EXTRA_CA_CERTS. */
  ca?: string;
  /** Test-only: fixed answers, e.g. {"*.run.app": "127.0.0.1"}, instead of asking the nameservers. */
  staticHosts?: Record<string, string>;
}

export interface Resolved {
  timeoutMs: number;
  firstBytesTimeoutMs: number;
  connectTimeoutMs: number;
  upstreamPort: number;
}

export function withDefaults(s: ProxySettings): Resolved {
  return {
    timeoutMs: s.timeoutMs ?? 300_000,
    firstBytesTimeoutMs: s.firstBytesTimeoutMs ?? 30_000,
    connectTimeoutMs: s.connectTimeoutMs ?? 10_000,
    upstreamPort: s.upstreamPort ?? 443,
  };
}

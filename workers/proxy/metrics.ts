// The proxy room's metrics (names per the README; the Grafana dashboard uses no others). The request
// counter and duration follow OpenTelemetry's http.client.request.duration in meaning (a client's
// view of each call), with Prometheus names and status classes.
import { Counter, Gauge, Histogram, type MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { TOKEN_HITS_HELP } from '../token/metrics.ts';
import { ANSWERED_CODES } from './errors.ts';
import { UPSTREAM_EVENTS, type UpstreamEvent } from './upstream-pool.ts';

/** Distinct service label values kept; past this, new names count as "-other" (a typo storm or an
 * app calling many names must not grow the series without bound). */
export const MAX_SERVICES = 100;

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function proxyMetrics(registry: Registry, routes: readonly string[] = []) {
  // Per-request label hashing costs more than the rest of the bookkeeping: count in a Map keyed by a
  // joined string and hand the totals to the counter when it is scraped.
  type Count = {
    service: string;
    region: string;
    protocol: string;
    code_class: string;
    code: string;
    n: number;
  };
  const counts = new Map<string, Count>();
  const services = new Set<string>();
  const requests = new Counter({
    name: 'runsd_proxy_requests_total',
    help: 'Requests proxied, by service, its region, client protocol, status class and (4xx) exact status',
    labelNames: ['service', 'region', 'protocol', 'code_class', 'code'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counts.values()) {
        const { n, code, ...labels } = c;
        this.inc(code ? { ...labels, code } : labels, n);
      }
    },
  });
  const duration = new Histogram({
    name: 'runsd_proxy_request_duration_seconds',
    help: 'Time from a request arriving to its response headers being sent, by service, protocol and status class',
    labelNames: ['service', 'protocol', 'code_class'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const durations = new Map<string, { observe(v: number): void }>();
  const errors = new Counter({
    name: 'runsd_proxy_errors_total',
    help: 'Error responses the proxy made itself, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  // The token client's local mirror answers most token lookups in this room: counted here, merged
  // with the token room's own hits by the supervisor (one family, label cache).
  const mirrorHits = new Counter({
    name: 'runsd_token_cache_hits_total',
    help: TOKEN_HITS_HELP,
    labelNames: ['cache'] as const,
    registers: [registry],
  });
  const mirrorHit = mirrorHits.labels('proxy');
  const connections = new Counter({
    name: 'runsd_proxy_upstream_connections_total',
    help: 'Upstream connection events: opened as h2 or http1, failed (timeout, tls_failed, connect_failed), h2 session ended (session_error, idle_closed)',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  for (const event of UPSTREAM_EVENTS) connections.inc({ event }, 0);
  // Every code at 0 from the start: rate() then sees the first error (issue 13).
  for (const code of ANSWERED_CODES) errors.inc({ code }, 0);
  // -route names are known at start-up: each route's series exist at 0 from the first scrape.
  const routeRequests = new Counter({
    name: 'runsd_proxy_route_requests_total',
    help: 'Requests sent through each -route, by status class',
    labelNames: ['route', 'code_class'] as const,
    registers: [registry],
  });
  for (const route of routes)
    for (const cls of CLASSES.slice(2)) routeRequests.inc({ route, code_class: cls }, 0);
  const bounded = (service: string): string => {
    if (services.has(service)) return service;
    if (services.size >= MAX_SERVICES) return '-other';
    services.add(service);
    return service;
  };
  return {
    requests,
    /** One request done: service "-" (refused before routing), "-external" (env mode) or a name. */
    countRequest(service: string, region: string, protocol: string, status: number, seconds?: number): void {
      const svc = bounded(service);
      const cls = CLASSES[Math.floor(status / 100)] ?? 'other';
      // The exact status where it tells causes apart: 401/403 (no roles/run.invoker) from 404/429.
      const code = cls === '4xx' ? String(status) : '';
      const key = `${svc}\u0000${region}\u0000${protocol}\u0000${code || cls}`;
      const c = counts.get(key);
      if (c) c.n++;
      else counts.set(key, { service: svc, region, protocol, code_class: cls, code, n: 1 });
      if (seconds === undefined) return;
      const dkey = `${svc}\u0000${protocol}\u0000${cls}`;
      let d = durations.get(dkey);
      if (!d) {
        d = duration.labels(svc, protocol, cls);
        durations.set(dkey, d);
      }
      d.observe(seconds);
    },
    upstreamDuration: new Histogram({
      name: 'runsd_proxy_upstream_duration_seconds',
      help: 'Time from sending a request upstream to its response headers',
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    activeStreams: new Gauge({
      name: 'runsd_proxy_active_streams',
      help: 'Requests (HTTP/1.1 exchanges, h2c streams, tunnels) in flight',
      registers: [registry],
    }),
    activeSockets: new Gauge({
      name: 'runsd_proxy_active_sockets',
      help: 'Client connections open to the proxy',
      registers: [registry],
    }),
    upstreamSessions: new Gauge({
      name: 'runsd_proxy_upstream_sessions',
      help: 'HTTP/2 sessions open to upstream services',
      registers: [registry],
    }),
    goaways: new Counter({
      name: 'runsd_proxy_goaways_total',
      help: 'GOAWAY frames received from upstream services',
      registers: [registry],
    }),
    errors,
    connection: (event: UpstreamEvent) => connections.inc({ event }),
    /** One request through a -route done. */
    countRoute(route: string, status: number): void {
      routeRequests.inc({ route, code_class: CLASSES[Math.floor(status / 100)] ?? 'other' });
    },
    /** A token taken from the local mirror (no round trip to the token room). */
    mirrorHit: () => mirrorHit.inc(),
  };
}

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export type ProxyMetrics = ReturnType<typeof proxyMetrics>;

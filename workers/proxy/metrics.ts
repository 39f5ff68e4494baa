// The proxy room's metrics (names per the README; the Grafana dashboard uses no others).
import { Counter, Gauge, Histogram, type MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { ANSWERED_CODES } from './errors.ts';

export function proxyMetrics(registry: Registry) {
  // Per-request label hashing in prom-client costs more than the rest of the bookkeeping: count in a
  // Map keyed by a joined string and hand the totals to the counter when it is scraped.
  const counts = new Map<string, { service: string; protocol: string; code_class: string; n: number }>();
  const requests = new Counter({
    name: 'runsd_proxy_requests_total',
    help: 'Requests proxied, by service, client protocol and response status class',
    labelNames: ['service', 'protocol', 'code_class'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counts.values())
        this.inc({ service: c.service, protocol: c.protocol, code_class: c.code_class }, c.n);
    },
  });
  const errors = new Counter({
    name: 'runsd_proxy_errors_total',
    help: 'Error responses the proxy made itself, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  // Every code at 0 from the start: rate() then sees the first error (issue 13).
  for (const code of ANSWERED_CODES) errors.inc({ code }, 0);
  return {
    requests,
    countRequest(service: string, protocol: string, status: number): void {
      const cls = CLASSES[Math.floor(status / 100)] ?? 'other';
      const key = `${service}\u0000${protocol}\u0000${cls}`;
      const c = counts.get(key);
      if (c) c.n++;
      else counts.set(key, { service, protocol, code_class: cls, n: 1 });
    },
    upstreamDuration: new Histogram({
      name: 'runsd_proxy_upstream_duration_seconds',
      help: 'Time from sending a request upstream to its response headers',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
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
  };
}

const CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

export type ProxyMetrics = ReturnType<typeof proxyMetrics>;

// The proxy room's metrics (names per the README; the Grafana dashboard uses no others).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function proxyMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'runsd_proxy_requests_total',
      help: 'Requests proxied, by service, client protocol and response status class',
      labelNames: ['service', 'protocol', 'code_class'] as const,
      registers: [registry],
    }),
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
    errors: new Counter({
      name: 'runsd_proxy_errors_total',
      help: 'Error responses the proxy made itself, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
  };
}

export type ProxyMetrics = ReturnType<typeof proxyMetrics>;

// GET /metrics on -metrics_addr (loopback only: config.ts refuses other hosts). Rooms are asked on each scrape;
// a room that does not answer in time is left out of that scrape rather than failing it. The only
// place prom-client runs: it renders the merge of every thread's metrics (src/room-metrics.ts) and
// the process metrics it collects itself (collectDefaultMetrics), loaded when the endpoint starts.
import { createServer, type Server } from 'node:http';
import { buildInfo } from '../build-info.ts';
import type { HostPort } from '../config.ts';
import type { Logger } from '../log.ts';
import { AggregatorRegistry, collectDefaultMetrics, Gauge, Registry } from '../prom.ts';
import type { MetricsJson } from '../protocol.ts';
import type { MetricsRegistry } from '../room-metrics.ts';

export interface MetricsSource {
  own: MetricsRegistry;
  rooms(): Promise<MetricsJson[]>;
}

/** Merges the supervisor's and the rooms' metrics (and Node's process metrics) into Prometheus text:
 * each part is one registry's getMetricsAsJSON(), ours (MetricsJson) or prom-client's. */
async function renderMetrics(parts: Parameters<typeof AggregatorRegistry.aggregate>[0]): Promise<string> {
  return AggregatorRegistry.aggregate(parts).metrics();
}

export async function startMetricsEndpoint(
  addr: HostPort,
  source: MetricsSource,
  log: Logger,
): Promise<Server> {
  const processMetrics = new Registry();
  collectDefaultMetrics({ register: processMetrics, prefix: 'runsd_' });
  // prom-client's gauges named *_total break the exposition rules (promtool check metrics: "non-counter
  // metrics should not have _total suffix"); the same numbers are sum() of the by-type gauges kept.
  for (const n of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    processMetrics.removeSingleMetric(`runsd_nodejs_${n}`);
  const b = buildInfo();
  new Gauge({
    name: 'runsd_build_info',
    help: 'runsd build: version, git revision and Node.js version (always 1)',
    labelNames: ['version', 'revision', 'node_version'],
    registers: [processMetrics],
  }).set({ version: b.version, revision: b.revision, node_version: b.node_version }, 1);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('runsd: only GET /metrics is served here\n');
      return;
    }
    Promise.all([source.own.getMetricsAsJSON(), processMetrics.getMetricsAsJSON(), source.rooms()])
      .then(([own, proc, rooms]) => renderMetrics([own, proc, ...rooms]))
      .then(
        (text) =>
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (err: unknown) => {
          log.warn('metrics scrape failed', { error: String(err) });
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`runsd: metrics failed: ${String(err)}\n`);
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  log.info(1, 'metrics endpoint listening', { addr: `${addr.host}:${addr.port}` });
  return server;
}

// GET /metrics on -metrics_addr (loopback only: config.ts refuses other hosts). Rooms are asked on each scrape;
// a room that does not answer in time is left out of that scrape rather than failing it.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { HostPort } from '../config.ts';
import type { Logger } from '../log.ts';
import { renderMetrics } from '../metrics.ts';
import type { MetricsJson } from '../protocol.ts';

export interface MetricsSource {
  own: Registry;
  rooms(): Promise<MetricsJson[]>;
}

export async function startMetricsEndpoint(
  addr: HostPort,
  source: MetricsSource,
  log: Logger,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('runsd: only GET /metrics is served here\n');
      return;
    }
    source
      .rooms()
      .then((rooms) => renderMetrics(source.own, rooms))
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

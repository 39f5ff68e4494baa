// Runs the proxy in-process against an upstream on loopback, with a fake token source.
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { createLogger } from '../../src/log.ts';
import type { Facts } from '../../src/protocol.ts';
import { MetricsRegistry } from '../../src/room-metrics.ts';
import { staticLookup } from '../../workers/proxy/lookup.ts';
import { proxyMetrics } from '../../workers/proxy/metrics.ts';
import { createProxy, type RunningProxy, type TokenSource } from '../../workers/proxy/room.ts';
import type { ProxySettings } from '../../workers/proxy/settings.ts';
import type { ServicesMirror } from '../../workers/token/services-client.ts';
import { type TextRegistry, textRegistry } from './metrics-text.ts';
import { baseProxySettings } from './proxy-settings.ts';

export const FACTS: Facts = { region: 'us-central1', projectNumber: '123456789012', projectId: 'proj' };

export interface Fixture {
  proxy: RunningProxy;
  port: number;
  registry: TextRegistry;
  tokenCalls: string[];
  /** -access_log lines (with accessLog: true in the settings). */
  accessLines: string[];
}

export async function startProxy(
  upstream: { port: number; caPem: string },
  over: Partial<ProxySettings> = {},
  tokens?: TokenSource | null,
  facts: Facts = FACTS,
  /** Replaces the static table (e.g. a lookup that fails). */
  lookup?: LookupFunction,
  /** -check_services: the service lists the proxy checks names against (a fake in tests). */
  services?: ServicesMirror,
): Promise<Fixture> {
  const registry = new MetricsRegistry();
  const tokenCalls: string[] = [];
  const accessLines: string[] = [];
  const src: TokenSource | null =
    tokens === undefined
      ? {
          get: async (aud) => {
            tokenCalls.push(aud);
            return `tok-for-${aud}`;
          },
        }
      : tokens;
  const settings: ProxySettings = {
    ...baseProxySettings(),
    upstreams: [],
    upstreamPort: upstream.port,
    ca: upstream.caPem,
    staticHosts: { '*.run.app': '127.0.0.1' },
    ...over,
  };
  const proxy = await createProxy({
    settings,
    facts,
    tokens: () => src,
    lookup: lookup ?? staticLookup(settings.staticHosts ?? {}, dns.lookup as unknown as LookupFunction),
    metrics: proxyMetrics(registry),
    log: createLogger({ verbosity: 0, format: 'text', write: () => {} }),
    writeAccess: (line) => accessLines.push(line),
    ...(services ? { services } : {}),
  });
  return { proxy, port: proxy.ports[0]!, registry: textRegistry(registry), tokenCalls, accessLines };
}

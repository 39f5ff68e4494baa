// Builds the dns room from its settings: cache, forwarder, resolver, listeners. Kept apart from
// worker.ts so it can also be started in-process (fuzzing, benchmarks).
import { availableParallelism } from 'node:os';
import { DEFAULT_ZONE_TTL } from '../../src/domain/dns-answer.ts';
import { canonicalName } from '../../src/domain/dns-names.ts';
import { type Nameserver, parseNameserver } from '../../src/domain/nameserver.ts';
import { RunsdError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { RoomHandle } from '../../src/room.ts';
import type { MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { AnswerCache } from './cache.ts';
import { Forwarder, warmForwarding } from './forwarder.ts';
import { createDnsMetrics, type DnsMetrics } from './metrics.ts';
import { Resolver } from './resolver.ts';
import { listen } from './server.ts';
import type { DnsSettings } from './settings.ts';
import { type Helpers, startHelpers } from './threads.ts';

export interface DnsCore {
  resolver: Resolver;
  forwarder: Forwarder;
  cache: AnswerCache;
  metrics: DnsMetrics;
  upstreams: Nameserver[];
}

/** Everything but the sockets: what a query goes through. */
export function buildDnsCore(settings: DnsSettings, registry: Registry): DnsCore {
  const upstreams: Nameserver[] = [];
  for (const text of settings.upstreams) {
    const ns = parseNameserver(text);
    if (!ns)
      throw new RunsdError(
        'RUNSD_CONFIG',
        `dns: cannot use nameserver "${text}": expected IP, IP:PORT or [IPv6]:PORT`,
      );
    upstreams.push(ns);
  }
  const cache = new AnswerCache(settings.cacheSize ?? 10_000);
  const metrics = createDnsMetrics(registry, () => cache.size);
  const forwarder = new Forwarder(
    upstreams,
    { attemptMs: settings.attemptMs ?? 1000, totalMs: settings.totalMs ?? 3000 },
    metrics,
  );
  const zone = {
    domain: canonicalName(settings.domain),
    ipv6: settings.host6 !== null,
    ttl: DEFAULT_ZONE_TTL,
  };
  const resolver = new Resolver(zone, cache, forwarder, metrics);
  return { resolver, forwarder, cache, metrics, upstreams };
}

export async function startDns(settings: DnsSettings, registry: Registry, log?: Logger): Promise<RoomHandle> {
  const { resolver, forwarder, cache, metrics, upstreams } = buildDnsCore(settings, registry);
  // Two threads on one port measured +40 % (local) and +85 % (cached) on 2 CPUs (docs/dns.md).
  const threads = Math.max(1, settings.threads ?? Math.min(2, availableParallelism()));
  const listeners = await listen(
    {
      host4: settings.host4,
      host6: settings.host6,
      port: settings.port,
      tcpIdleMs: settings.tcpIdleMs,
      reusePort: threads > 1,
    },
    resolver,
    metrics,
  );
  let helpers: Helpers | null = null;
  try {
    if (threads > 1)
      helpers = await startHelpers(threads - 1, { ...settings, port: listeners.port }, registry);
  } catch (err) {
    await listeners.close();
    forwarder.close();
    throw err;
  }
  // After READY (posted when this returns), before the command's first forwarded query.
  setImmediate(warmForwarding);
  log?.info(1, 'dns listening', {
    port: listeners.port,
    ipv6: settings.host6 !== null,
    upstreams: upstreams.map((u) => u.label).join(','),
  });
  return {
    info: { port: listeners.port, ipv6: settings.host6 !== null, threads },
    close: async () => {
      await helpers?.close();
      await listeners.close();
      forwarder.close();
      cache.clear();
    },
  };
}

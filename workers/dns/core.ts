// What a query goes through in the dns room, without the sockets: nameservers parsed, cache,
// forwarder, resolver. The primary thread (room.ts) and each helper thread (helper.ts) build one;
// fuzzing and benchmarks build one in-process.
import { DEFAULT_ZONE_TTL } from '../../src/domain/dns-answer.ts';
import { canonicalName } from '../../src/domain/dns-names.ts';
import { type Nameserver, parseNameserver } from '../../src/domain/nameserver.ts';
import { RunsdError } from '../../src/errors.ts';
import type { MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { AnswerCache } from './cache.ts';
import { Forwarder } from './forwarder.ts';
import { createDnsMetrics, type DnsMetrics } from './metrics.ts';
import { Resolver, type ServiceChecker } from './resolver.ts';
import type { DnsSettings } from './settings.ts';
export interface DnsCore {
  resolver: Resolver;
  forwarder: Forwarder;
  cache: AnswerCache;
  metrics: DnsMetrics;
  upstreams: Nameserver[];
}

/** Everything but the sockets: what a query goes through. */
export function buildDnsCore(settings: DnsSettings, registry: Registry, services?: ServiceChecker): DnsCore {
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
  const metrics = createDnsMetrics(
    registry,
    () => cache.size,
    upstreams.map((u) => u.label),
  );
  const forwarder = new Forwarder(
    upstreams,
    { attemptMs: settings.attemptMs ?? 1000, totalMs: settings.totalMs ?? 3000 },
    metrics,
  );
  const zone = {
    domain: canonicalName(settings.domain),
    ipv6: settings.host6 !== null,
    ttl: DEFAULT_ZONE_TTL,
    ...(settings.routes?.length ? { routes: new Set(settings.routes.map(canonicalName)) } : {}),
  };
  const resolver = new Resolver(zone, cache, forwarder, metrics, services);
  return { resolver, forwarder, cache, metrics, upstreams };
}

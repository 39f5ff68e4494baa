// The dns room's wiring: the core (core.ts) behind UDP/TCP listeners on 127.0.0.1 (and ::1), plus
// helper threads on the same port (threads.ts). startDns can also run in-process (fuzzing).
import { availableParallelism } from 'node:os';
import type { Logger } from '../../src/log.ts';
import type { RoomContext, RoomHandle } from '../../src/room.ts';
import type { MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { createServicesMirror } from '../token/services-client.ts';
import { buildDnsCore } from './core.ts';
import { warmForwarding } from './forwarder.ts';
import type { ServiceChecker } from './resolver.ts';
import { listen } from './server.ts';
import type { DnsSettings } from './settings.ts';
import { type Helpers, startHelpers } from './threads.ts';

export async function setupDnsRoom({ init, log, registry }: RoomContext<DnsSettings>): Promise<RoomHandle> {
  const s = init.settings;
  const port = init.peers['token'];
  let region = init.facts.region;
  // -check_services: the token room's lists, mirrored here (the primary thread only: helper
  // threads answer every service-shaped name as before).
  const mirror =
    s.services && port ? createServicesMirror(port, { intervalSec: s.services.intervalSec }) : null;
  const checker: ServiceChecker | undefined = mirror
    ? {
        check: (service, r) => {
          const where = r ?? region;
          return where === null ? 'unchecked' : mirror.check(service, where, false);
        },
      }
    : undefined;
  const handle = await startDns(s, registry, log, checker);
  return {
    ...handle,
    setFacts: (f) => {
      region = f.region;
      // The own region's list is wanted before the command's first lookup.
      if (mirror && region !== null) void mirror.check('', region, false);
    },
    attachPeer: (name, p) => {
      if (name === 'token') mirror?.replacePort(p);
    },
  };
}

export async function startDns(
  settings: DnsSettings,
  registry: Registry,
  log?: Logger,
  services?: ServiceChecker,
): Promise<RoomHandle> {
  const { resolver, forwarder, cache, metrics, upstreams } = buildDnsCore(settings, registry, services);
  // Two threads on one port measured +40 % (local) and +85 % (cached) on 2 CPUs (docs/dns.md).
  const threads = Math.max(1, settings.threads ?? Math.min(2, availableParallelism()));
  const listeners = await listen({ ...settings, reusePort: threads > 1 }, resolver, metrics);
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

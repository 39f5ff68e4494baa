// The dns room's wiring: the core (core.ts) behind UDP/TCP listeners on 127.0.0.1 (and ::1), plus
// helper threads on the same port (threads.ts), each checking names against the service lists.
// startDns can also run in-process (fuzzing).
import { availableParallelism } from 'node:os';
import type { Logger } from '../../src/log.ts';
import type { RoomContext, RoomHandle } from '../../src/room.ts';
import type { MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { buildDnsCore } from './core.ts';
import { warmForwarding } from './forwarder.ts';
import type { ServiceChecker } from './resolver.ts';
import { listen } from './server.ts';
import { threadServices } from './service-checker.ts';
import { createServicesRelay } from './services-relay.ts';
import type { DnsSettings } from './settings.ts';
import { type HelperServices, type Helpers, startHelpers } from './threads.ts';

export async function setupDnsRoom({ init, log, registry }: RoomContext<DnsSettings>): Promise<RoomHandle> {
  const s = init.settings;
  const port = init.peers['token'];
  // -check_services: the token room's lists, mirrored in this thread, and relayed to each helper
  // thread (services-relay.ts) so that every thread answers NXDOMAIN for a name that is no service.
  const services =
    s.services && port ? threadServices(port, s.services.intervalSec, init.facts.region) : null;
  const relay = s.services && port ? createServicesRelay(port) : null;
  const handle = await startDns(
    s,
    registry,
    log,
    services?.checker,
    relay ? { relay, region: init.facts.region } : undefined,
  ).catch((err: unknown) => {
    relay?.close();
    throw err;
  });
  return {
    ...handle,
    setFacts: (f) => {
      services?.setRegion(f.region);
      if (relay) void handle.setRegion(f.region);
    },
    attachPeer: (name, p) => {
      if (name !== 'token') return;
      services?.replacePort(p);
      relay?.replacePort(p);
    },
    close: async () => {
      await handle.close();
      relay?.close();
    },
  };
}

export async function startDns(
  settings: DnsSettings,
  registry: Registry,
  log?: Logger,
  services?: ServiceChecker,
  helperServices?: HelperServices,
): Promise<RoomHandle & { setRegion(region: string | null): Promise<void> }> {
  const { resolver, forwarder, cache, metrics, upstreams } = buildDnsCore(settings, registry, services);
  // Two threads on one port measured +40 % (local) and +85 % (cached) on 2 CPUs (docs/dns.md).
  const threads = Math.max(1, settings.threads ?? Math.min(2, availableParallelism()));
  const listeners = await listen({ ...settings, reusePort: threads > 1 }, resolver, metrics);
  let helpers: Helpers | null = null;
  try {
    if (threads > 1)
      helpers = await startHelpers(
        threads - 1,
        { ...settings, port: listeners.port },
        registry,
        helperServices,
      );
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
    setRegion: async (region) => {
      await helpers?.setRegion(region);
    },
    close: async () => {
      await helpers?.close();
      await listeners.close();
      forwarder.close();
      cache.clear();
    },
  };
}

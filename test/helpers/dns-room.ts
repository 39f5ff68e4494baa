// Starts the real dns room in a worker thread, the way the supervisor does (Rooms), on port 0.

import { createLogger } from '../../src/log.ts';
import type { MetricsJson } from '../../src/protocol.ts';
import { Rooms } from '../../src/supervisor/rooms.ts';
import type { DnsSettings } from '../../workers/dns/settings.ts';

export interface DnsRoom {
  port: number;
  ipv6: boolean;
  metrics(): Promise<MetricsJson>;
  /** Sum of runsd_dns_queries_total samples whose labels match. */
  counted(labels: Record<string, string>): Promise<number>;
}

export async function startDnsRoom(
  t: { after(fn: () => unknown): void },
  settings: Partial<DnsSettings> & { upstreams: string[] },
): Promise<DnsRoom> {
  const rooms = new Rooms(
    {
      log: createLogger({ verbosity: 0, format: 'text', write: () => {} }),
      logSettings: { verbosity: 0, format: 'text' },
    },
    { region: null, projectNumber: null, projectId: null },
  );
  const full: DnsSettings = {
    host4: '127.0.0.1',
    host6: null,
    port: 0,
    domain: 'run.internal.',
    // One thread unless a test asks for more: per-thread caches would make hit counts depend on
    // which thread the kernel picked for each client socket.
    threads: 1,
    ...settings,
  };
  await rooms.startAll([
    { name: 'dns', entry: new URL('../../workers/dns/worker.ts', import.meta.url), settings: full },
  ]);
  t.after(() => rooms.closeAll());
  const info = rooms.info('dns') ?? {};
  const metrics = async () => {
    const c = rooms.controls().find(([n]) => n === 'dns')?.[1];
    if (!c) throw new Error('dns room is not running');
    return c.metrics();
  };
  return {
    port: Number(info['port']),
    ipv6: info['ipv6'] === true,
    metrics,
    counted: async (labels) => {
      const m = (await metrics()).find((x) => x.name === 'runsd_dns_queries_total');
      let sum = 0;
      for (const v of m?.values ?? []) {
        if (Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
      }
      return sum;
    },
  };
}

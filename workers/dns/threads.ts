// Extra listener threads for the dns room: several threads answer on one port (SO_REUSEPORT).
// Each answers on its own; the primary asks them for their metrics and merges them into its own at
// scrape time, so the supervisor still sees one dns room. With -check_services each gets a port to
// the service lists (the primary's relay, services-relay.ts) and the own region when it changes.
import type { Worker } from 'node:worker_threads';
import { RunsdError } from '../../src/errors.ts';
import type { DnsHelperData, DnsHelperReply, DnsHelperRequest, DnsHelperStatus } from '../../src/protocol.ts';
import { roomHeap } from '../../src/room-heap.ts';
import { mergeMetrics, type MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { dnsHelperEntry, startWorker } from '../../src/supervisor/entries.ts';
import type { ServicesRelay } from './services-relay.ts';
import type { DnsSettings } from './settings.ts';

const READY_MS = 5000;
const ASK_MS = 2000;

export interface Helpers {
  /** The own region changed: every helper checks region-less names against its list. */
  setRegion(region: string | null): Promise<void>;
  close(): Promise<void>;
}

/** -check_services for the helpers: where their lists come from, and the own region at start. */
export interface HelperServices {
  relay: ServicesRelay;
  region: string | null;
}

export async function startHelpers(
  count: number,
  settings: DnsSettings,
  registry: Registry,
  services?: HelperServices,
): Promise<Helpers> {
  const workers: Worker[] = [];
  let nextId = 1;
  const ask = <T extends DnsHelperRequest['type']>(
    w: Worker,
    type: T,
    extra: Omit<Extract<DnsHelperRequest, { type: T }>, 'id' | 'type'>,
  ) =>
    new Promise<Extract<DnsHelperReply, { type: T }>>((resolve, reject) => {
      const id = nextId++;
      const t = setTimeout(() => {
        w.off('message', on);
        reject(new RunsdError('RUNSD_PORT_TIMEOUT', `dns helper: no ${type} reply`));
      }, ASK_MS);
      const on = (m: DnsHelperReply) => {
        if (m.id !== id || m.type !== type) return;
        clearTimeout(t);
        w.off('message', on);
        resolve(m as Extract<DnsHelperReply, { type: T }>);
      };
      w.on('message', on);
      w.postMessage({ id, type, ...extra } as DnsHelperRequest);
    });
  const closeAll = async () => {
    await Promise.allSettled(workers.map((w) => ask(w, 'close', {})));
    await Promise.allSettled(workers.map((w) => w.terminate()));
  };
  try {
    for (let i = 0; i < count; i++) {
      const port = services?.relay.open();
      const data: DnsHelperData<DnsSettings> = {
        settings,
        services: port ? { port, region: services!.region } : null,
      };
      const w = startWorker(dnsHelperEntry(), {
        workerData: data,
        ...(port ? { transferList: [port] } : {}),
        name: `runsd-dns-${i + 2}`,
        resourceLimits: roomHeap('dns'),
      });
      workers.push(w);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new RunsdError('RUNSD_ROOM_TIMEOUT', 'dns helper thread did not start')),
          READY_MS,
        );
        w.once('error', (e) => {
          clearTimeout(t);
          reject(e);
        });
        w.once('message', (m: DnsHelperStatus) => {
          clearTimeout(t);
          if (m.type === 'ready') resolve();
          else reject(new RunsdError('RUNSD_ROOM_BOOTSTRAP', `dns helper thread: ${m.error.message}`));
        });
      });
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  // Scrapes of the room's registry include every helper's metrics (counters and histograms summed).
  const own = registry.getMetricsAsJSON.bind(registry);
  registry.getMetricsAsJSON = async () => {
    const mine = await own();
    const theirs = await Promise.allSettled(workers.map((w) => ask(w, 'metrics', {})));
    const all = [mine, ...theirs.flatMap((r) => (r.status === 'fulfilled' ? [r.value.metrics] : []))];
    return mergeMetrics(all);
  };
  return {
    async setRegion(region) {
      await Promise.allSettled(workers.map((w) => ask(w, 'facts', { region })));
    },
    close: closeAll,
  };
}

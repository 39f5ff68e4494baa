// Entry of an extra dns listener thread (settings.threads > 1): the same resolver on the same port
// (SO_REUSEPORT), with its own cache and registry, and with -check_services its own mirror of the
// service lists (through the primary's relay port), so whichever thread the kernel hands a query to
// gives the same answer. The room's primary thread started it and asks it for its metrics, tells it
// the own region, and asks it to close, over parentPort.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { toWire } from '../../src/errors.ts';
import type { DnsHelperData, DnsHelperReply, DnsHelperRequest, DnsHelperStatus } from '../../src/protocol.ts';
import { MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { buildDnsCore } from './core.ts';
import { listen } from './server.ts';
import { threadServices } from './service-checker.ts';
import type { DnsSettings } from './settings.ts';

const data = workerData as DnsHelperData<DnsSettings>;
const settings = data.settings;
const port = parentPort;
if (!port) throw new Error('dns helper must run as a worker');
async function main(port: MessagePort): Promise<void> {
  const registry = new Registry();
  try {
    const services =
      data.services && settings.services
        ? threadServices(data.services.port, settings.services.intervalSec, data.services.region)
        : null;
    const core = buildDnsCore(settings, registry, services?.checker);
    const listeners = await listen({ ...settings, reusePort: true }, core.resolver, core.metrics);
    const reply = (m: DnsHelperReply) => port.postMessage(m);
    port.on('message', async (m: DnsHelperRequest) => {
      if (m.type === 'metrics')
        reply({ id: m.id, type: 'metrics', metrics: await registry.getMetricsAsJSON() });
      else if (m.type === 'facts') {
        services?.setRegion(m.region);
        reply({ id: m.id, type: 'facts' });
      } else {
        await listeners.close();
        core.forwarder.close();
        reply({ id: m.id, type: 'close' });
        data.services?.port.close();
        port.close();
      }
    });
    port.postMessage({ type: 'ready' } satisfies DnsHelperStatus);
  } catch (err) {
    port.postMessage({
      type: 'failed',
      error: toWire(err, 'RUNSD_ROOM_BOOTSTRAP'),
    } satisfies DnsHelperStatus);
  }
}

void main(port);

// Entry of an extra dns listener thread (settings.threads > 1): the same resolver on the same port
// (SO_REUSEPORT), with its own cache and registry. The room's primary thread started it and asks it
// for its metrics and to close, over parentPort.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { toWire } from '../../src/errors.ts';
import type { DnsHelperReply, DnsHelperRequest, DnsHelperStatus } from '../../src/protocol.ts';
import { MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { buildDnsCore } from './core.ts';
import { listen } from './server.ts';
import type { DnsSettings } from './settings.ts';

const settings = workerData as DnsSettings;
const port = parentPort;
if (!port) throw new Error('dns helper must run as a worker');
async function main(port: MessagePort): Promise<void> {
  const registry = new Registry();
  try {
    const core = buildDnsCore(settings, registry);
    const listeners = await listen({ ...settings, reusePort: true }, core.resolver, core.metrics);
    const reply = (m: DnsHelperReply) => port.postMessage(m);
    port.on('message', async (m: DnsHelperRequest) => {
      if (m.type === 'metrics')
        reply({ id: m.id, type: 'metrics', metrics: await registry.getMetricsAsJSON() });
      else {
        await listeners.close();
        core.forwarder.close();
        reply({ id: m.id, type: 'close' });
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

// Entry of an extra dns listener thread (settings.threads > 1): the same resolver on the same port
// (SO_REUSEPORT), with its own cache and registry. The room's primary thread started it and asks it
// for its metrics and to close, over parentPort.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import { buildDnsCore } from './room.ts';
import { listen } from './server.ts';
import type { DnsSettings } from './settings.ts';

type Request = { id: number; type: 'metrics' | 'close' };

const settings = workerData as DnsSettings;
const port = parentPort;
if (!port) throw new Error('dns helper must run as a worker');
async function main(port: MessagePort): Promise<void> {
  const registry = new Registry();
  try {
    const core = buildDnsCore(settings, registry);
    const listeners = await listen(
      {
        host4: settings.host4,
        host6: settings.host6,
        port: settings.port,
        tcpIdleMs: settings.tcpIdleMs,
        reusePort: true,
      },
      core.resolver,
      core.metrics,
    );
    port.on('message', async (m: Request) => {
      if (m.type === 'metrics') port.postMessage({ id: m.id, metrics: await registry.getMetricsAsJSON() });
      else {
        await listeners.close();
        core.forwarder.close();
        port.postMessage({ id: m.id });
        port.close();
      }
    });
    port.postMessage({ ready: true });
  } catch (err) {
    port.postMessage({ ready: false, error: err instanceof Error ? err.message : String(err) });
  }
}

void main(port);

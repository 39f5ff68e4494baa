// A process hosting just the token + proxy rooms (as the supervisor starts them), so bench/proxy.ts
// can read this process's CPU time from /proc. argv[2]: JSON {metadataHost, dns, frontendPort, caPem}.
import { createLogger } from '../src/log.ts';
import { Rooms } from '../src/supervisor/rooms.ts';
import { baseProxySettings } from '../test/helpers/proxy-settings.ts';
import { tokenSettings } from '../test/workers/token/room-harness.ts';
import type { ProxySettings } from '../workers/proxy/settings.ts';
import { METADATA_BUDGET } from '../workers/token/settings.ts';

const a = JSON.parse(process.argv[2]!) as {
  metadataHost: string;
  dns: string;
  frontendPort: number;
  caPem: string;
};
// BUNDLE=1: the esbuild bundle (npm run build first), as bin/runsd runs it; else the .ts source.
const entry = (room: string) =>
  process.env['BUNDLE'] === '1'
    ? new URL(`../dist/workers/${room}.cjs`, import.meta.url)
    : new URL(`../workers/${room}/worker.ts`, import.meta.url);
const rooms = new Rooms(
  { log: createLogger({ verbosity: 0, format: 'text' }), logSettings: { verbosity: 0, format: 'text' } },
  { region: 'us-central1', projectNumber: '123456789012', projectId: 'emu' },
);
const proxy: ProxySettings = {
  ...baseProxySettings(),
  upstreams: [a.dns],
  upstreamPort: a.frontendPort,
  ca: a.caPem,
};
await rooms.startAll([
  {
    name: 'token',
    entry: entry('token'),
    settings: tokenSettings({ metadataHost: a.metadataHost, upstreams: [a.dns], ...METADATA_BUDGET }),
  },
  { name: 'proxy', entry: entry('proxy'), settings: proxy, peers: ['token'] },
]);
process.stdout.write(`${rooms.info('proxy')?.['port']}\n`);
process.on('SIGTERM', () => void rooms.closeAll().then(() => process.exit(0)));

// In-process cost of the resolver per query (no sockets): where the time goes on the hot path.
//   ./node_modules/.bin/node bench/dns-micro.ts

import * as dnsPacket from 'dns-packet';
import { MetricsRegistry as Registry } from '../src/room-metrics.ts';
import { baseDnsSettings } from '../test/helpers/dns-settings.ts';
import { buildDnsCore } from '../workers/dns/core.ts';

const core = buildDnsCore(
  {
    ...baseDnsSettings({ upstreams: [] }),
    upstreams: ['127.0.0.1:9'],
  },
  new Registry(),
);
const q = dnsPacket.encode({
  id: 1,
  type: 'query',
  flags: 256,
  questions: [{ name: 'svc-1.us-central1.run.internal', type: 'A', class: 'IN' }],
});
function time(label: string, n: number, fn: () => unknown) {
  for (let i = 0; i < 10000; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t) / n;
  console.log(
    `${label}: ${(ns / 1000).toFixed(2)} µs/op (${Math.round(1e9 / ns).toLocaleString('en')} op/s)`,
  );
}
time('resolver.handle internal A', 200000, () => core.resolver.handle(q, 'udp'));
time('dnsPacket.decode', 200000, () => dnsPacket.decode(q));
const d = dnsPacket.decode(q);
time('dnsPacket.encode reply', 200000, () =>
  dnsPacket.encode({
    ...d,
    type: 'response',
    answers: [{ name: 'svc-1.us-central1.run.internal', type: 'A', ttl: 10, data: '127.0.0.1' }],
  }),
);
core.forwarder.close();

// Cached forwarded answer (needs a reachable upstream once): the emulator on loopback.
const { startUpstreamDns } = await import('../src/emulator/dns.ts');
const up = await startUpstreamDns({ frontendAddress: '127.0.0.3', metadataAddress: '127.0.0.4' });
const core2 = buildDnsCore(
  {
    ...baseDnsSettings({ upstreams: [] }),
    upstreams: [up.address],
  },
  new Registry(),
);
const fq = dnsPacket.encode({
  id: 1,
  type: 'query',
  flags: 256,
  questions: [{ name: 'example.test', type: 'MX', class: 'IN' }],
});
await core2.resolver.handle(fq, 'udp');
time('resolver.handle cached forwarded MX', 200000, () => core2.resolver.handle(fq, 'udp'));
core2.forwarder.close();
await up.close();

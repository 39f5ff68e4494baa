// Entry of the proxy room (thread): builds the proxy from its settings slice and reports the bound port.
import { runRoom } from '../../src/room.ts';
import { staticLookup, upstreamLookup } from './lookup.ts';
import { proxyMetrics } from './metrics.ts';
import { createProxy } from './proxy.ts';
import type { ProxySettings } from './settings.ts';
import { tokenPeer } from './token-source.ts';

void runRoom<ProxySettings>(async ({ init, log, registry }) => {
  const s = init.settings;
  const tokens = tokenPeer(init.peers['token']);
  const base = upstreamLookup(s.upstreams);
  const proxy = await createProxy({
    settings: s,
    facts: init.facts,
    tokens: tokens.client,
    lookup: s.staticHosts ? staticLookup(s.staticHosts, base) : base,
    metrics: proxyMetrics(registry),
    log,
  });
  log.info(1, 'proxy listening', { port: proxy.ports[0], mode: s.mode });
  return {
    info: { port: proxy.ports[0]! },
    setFacts: (f) => proxy.setFacts(f),
    attachPeer: (name, port) => {
      if (name === 'token') tokens.attach(port);
    },
    close: async () => {
      await proxy.close();
      tokens.close();
    },
  };
});

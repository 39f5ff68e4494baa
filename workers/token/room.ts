// The token room's setup: metadata client → p-queue fetcher → cache → API, served with comlink on
// every peer port it is given (at start and after a peer restarts) and facts() on the control port.
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { portEndpoint } from '../../src/port-endpoint.ts';
import type { RoomExtensions } from '../../src/protocol.ts';
import type { RoomContext, RoomHandle } from '../../src/room.ts';
import { createAdminApi } from './admin-api.ts';
import { createTokenApi } from './api.ts';
import { TokenCache } from './cache.ts';
import { Catalog } from './catalog.ts';
import { catalogMetrics } from './catalog-metrics.ts';
import { createFetcher } from './fetcher.ts';
import { createMetadataClient, METADATA_DEFAULT_HOST } from './metadata-client.ts';
import { createTokenMetrics } from './metrics.ts';
import type { TokenSettings } from './settings.ts';

export async function setupTokenRoom({
  init,
  log,
  registry,
}: RoomContext<TokenSettings>): Promise<RoomHandle<RoomExtensions['token']>> {
  const s = init.settings;
  const metadata = createMetadataClient({
    metadataHost: s.metadataHost,
    upstreams: s.upstreams,
    connectTimeoutMs: s.connectTimeoutMs,
    responseTimeoutMs: s.responseTimeoutMs,
  });
  let cache: TokenCache | null = null;
  const metrics = createTokenMetrics(registry, () => cache?.earliestExpirySec() ?? null);
  const fetcher = createFetcher({
    client: metadata,
    maxConcurrent: s.maxConcurrent,
    attempts: s.attempts,
    deadlineMs: s.deadlineMs,
    metrics,
  });
  cache = new TokenCache({
    mint: (audience) => fetcher.mint(audience),
    refreshAheadMs: s.refreshAheadSec * 1000,
    idleMs: s.idleSec * 1000,
    metrics,
    log,
  });
  const admin = s.services
    ? createAdminApi({
        metadata,
        upstreams: s.upstreams,
        ...(s.services.adminPort ? { port: s.services.adminPort } : {}),
      })
    : null;
  let catalog: Catalog | null = null;
  if (admin && s.services) {
    const lists = () => catalog?.lists() ?? [];
    catalog = new Catalog({
      api: admin,
      intervalSec: s.services.intervalSec,
      log,
      metrics: catalogMetrics(registry, lists),
    });
    catalog.setProject(init.facts.projectNumber ?? init.facts.projectId, init.facts.region);
  }
  const api = createTokenApi({ cache, metadata, staticToken: s.staticToken, log, catalog });

  const peers = new Map<string, MessagePort>();
  const attach = (name: string, port: MessagePort) => {
    peers.get(name)?.close(); // the old channel's other end is gone (its room restarted)
    peers.set(name, port);
    Comlink.expose(api, portEndpoint(port));
    log.info(2, 'peer attached', { peer: name });
  };
  for (const [name, port] of Object.entries(init.peers)) attach(name, port);
  if (s.staticToken) log.info(1, 'using CLOUD_RUN_ID_TOKEN for every audience');

  return {
    info: {
      metadata: s.metadataHost ?? METADATA_DEFAULT_HOST,
      static_token: s.staticToken !== null,
      max_concurrent: s.maxConcurrent,
    },
    attachPeer: attach,
    setFacts: (f) => catalog?.setProject(f.projectNumber ?? f.projectId, f.region),
    api: { facts: api.facts },
    close: async () => {
      catalog?.close();
      admin?.close();
      cache.close();
      fetcher.close();
      metadata.close();
      for (const p of peers.values()) p.close();
      peers.clear();
    },
  };
}

// The proxy room's wiring: the pipeline's stages (route.ts → credential.ts → service.ts / plain.ts /
// tunnel.ts), the resources the room owns (upstream pool, HTTP/1.1 client, listener) and their
// order of closing. createProxy runs outside a worker too (tests, benchmarks); proxyRoom is what
// worker.ts hands to runRoom.
import type { LookupFunction } from 'node:net';
import { routePath } from '../../src/domain/routes.ts';
import type { Logger } from '../../src/log.ts';
import type { Facts } from '../../src/protocol.ts';
import type { RoomContext, RoomHandle } from '../../src/room.ts';
import { createServicesMirror, type ServicesMirror } from '../token/services-client.ts';
import { type AccessEntry, accessLine } from './access-log.ts';
import { openConnect } from './connect.ts';
import { Credentials, type TokenSource } from './credential.ts';
import { fromHttp1, fromHttp2 } from './downstream.ts';
import { H1Client } from './h1-request.ts';
import { createHandler } from './handle.ts';
import { createListener } from './listener.ts';
import { staticLookup, upstreamLookup } from './lookup.ts';
import { type ProxyMetrics, proxyMetrics } from './metrics.ts';
import { forwardPlain } from './plain.ts';
import { Router } from './route.ts';
import { exchange } from './service.ts';
import { checkService, type ServiceCheck } from './service-check.ts';
import { type ProxySettings, withDefaults } from './settings.ts';
import { tokenPeer } from './token-source.ts';
import { tunnelUpgrade } from './tunnel.ts';
import { UpstreamPool, upstreamSecureContext } from './upstream-pool.ts';

export type { TokenSource } from './credential.ts';
export type { Route } from './route.ts';

export interface ProxyOptions {
  settings: ProxySettings;
  /** -check_services: the token room's service lists, mirrored here. */
  services?: ServicesMirror | null;
  facts: Facts;
  tokens: () => TokenSource | null;
  lookup: LookupFunction;
  metrics: ProxyMetrics;
  log: Logger;
  /** Where -access_log lines go (default stderr). */
  writeAccess?: (line: string) => void;
}

export interface RunningProxy {
  ports: number[];
  setFacts(f: Facts): void;
  close(): Promise<void>;
}

export async function createProxy(o: ProxyOptions): Promise<RunningProxy> {
  const s = o.settings;
  const d = withDefaults(s);
  const m = o.metrics;
  const router = new Router(s, o.facts);
  const writeAccess = o.writeAccess ?? ((line: string) => process.stderr.write(line));
  const credentials = new Credentials(o.tokens, s.authHeader, m.mirrorHit);
  const h1 = new H1Client(o.lookup);
  const secureContext = upstreamSecureContext(s.ca);
  const pool = new UpstreamPool({
    port: d.upstreamPort,
    lookup: o.lookup,
    secureContext,
    connectTimeoutMs: d.connectTimeoutMs,
    events: {
      sessions: (n) => m.upstreamSessions.inc(n),
      goaway: () => m.goaways.inc(),
      connection: m.connection,
    },
  });
  const mirror = o.services;
  const check: ServiceCheck | undefined = mirror ? (r) => checkService(mirror, r) : undefined;
  const handle = createHandler({
    router,
    credentials,
    service(ds, r, headers) {
      const started = performance.now();
      return exchange(ds, headers, {
        pool,
        h1,
        host: r.host,
        port: r.port ?? d.upstreamPort,
        ...(r.port !== undefined ? { ownPort: r.port } : {}),
        ...(r.prefix !== undefined ? { path: routePath(r.prefix, ds.path) } : {}),
        timeoutMs: d.timeoutMs,
        onHeaders: () => m.upstreamDuration.observe((performance.now() - started) / 1000),
      });
    },
    plain: (ds, r) => forwardPlain(ds, { h1, host: r.host, port: r.port, timeoutMs: d.timeoutMs }),
    metrics: m,
    log: o.log,
    ...(check ? { check } : {}),
    ...(s.accessLog ? { access: (e: AccessEntry) => writeAccess(accessLine(e, router.projectId)) } : {}),
  });
  const tunnel = {
    router,
    credentials,
    h1,
    lookup: o.lookup,
    secureContext,
    port: d.upstreamPort,
    timeoutMs: d.timeoutMs,
    ...(check ? { check } : {}),
    onDone: (service: string, status: number) => m.countRequest(service, '', 'websocket', status),
    onError: (code: string) => m.errors.inc({ code }),
  };
  const listener = createListener(
    {
      request: (req, res) => handle(fromHttp1(req, res)),
      stream: (stream, headers) => handle(fromHttp2(stream, headers)),
      upgrade: (req, socket, head) => {
        m.activeStreams.inc();
        socket.once('close', () => m.activeStreams.dec());
        void tunnelUpgrade(req, socket, head, tunnel);
      },
      connect: (req, socket, head) =>
        openConnect(req, socket, head, router, listener.dispatch, (code) => m.errors.inc({ code })),
      sockets: (n) => m.activeSockets.inc(n),
    },
    { firstBytesTimeoutMs: d.firstBytesTimeoutMs },
  );

  const ports: number[] = [];
  ports.push(await listener.listen(s.host4, s.port));
  if (s.host6) ports.push(await listener.listen(s.host6, ports[0]!));
  // After READY (posted when this returns), before the first request needs them: the h2c server
  // (node:http2), then TLS and the CA store for upstreams (builtins.ts, upstream-pool.ts).
  setImmediate(() => {
    listener.warm();
    setImmediate(secureContext);
  });
  return {
    ports,
    setFacts: (f) => router.setFacts(f),
    async close() {
      await listener.close();
      await pool.close();
      h1.close();
    },
  };
}

/** The proxy room: upstream names through the original nameservers, tokens from the token room. */
export async function proxyRoom({ init, log, registry }: RoomContext<ProxySettings>): Promise<RoomHandle> {
  const s = init.settings;
  const tokens = tokenPeer(init.peers['token'], s.tokenWaitMs);
  const port = init.peers['token'];
  const services =
    s.services && port ? createServicesMirror(port, { intervalSec: s.services.intervalSec }) : null;
  const base = upstreamLookup(s.upstreams);
  const proxy = await createProxy({
    settings: s,
    facts: init.facts,
    tokens: tokens.client,
    lookup: s.staticHosts ? staticLookup(s.staticHosts, base) : base,
    services,
    metrics: proxyMetrics(
      registry,
      (s.routes ?? []).map((r) => r.name),
    ),
    log,
  });
  log.info(1, 'proxy listening', { port: proxy.ports[0], mode: s.mode });
  return {
    info: { port: proxy.ports[0]! },
    setFacts: (f) => {
      proxy.setFacts(f);
      if (services && f.region !== null) void services.check('', f.region, false); // prefetch
    },
    attachPeer: (name, port) => {
      if (name === 'token') {
        tokens.attach(port);
        services?.replacePort(port);
      }
    },
    close: async () => {
      await proxy.close();
      tokens.close();
    },
  };
}

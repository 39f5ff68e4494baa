// The proxy, independent of the worker thread (tests and benchmarks can run it in-process): routes
// each request from its Host to a Cloud Run URL, adds the ID token, and hands it to exchange().
import type { IncomingMessage } from 'node:http';
import type http2 from 'node:http2';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import { hasCredential, upstreamRequestHeaders } from '../../src/domain/http-headers.ts';
import { parseHost, serviceUrl } from '../../src/domain/names.ts';
import { RunsdError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { Facts } from '../../src/protocol.ts';
import { type Downstream, fromHttp1, fromHttp2 } from './downstream.ts';
import { notRelay, sendError } from './errors.ts';
import { exchange } from './exchange.ts';
import { createListener } from './listener.ts';
import type { ProxyMetrics } from './metrics.ts';
import { forwardPlain, plainConnect } from './plain.ts';
import { type ProxySettings, withDefaults } from './settings.ts';
import { tunnelUpgrade } from './tunnel.ts';
import { UpstreamPool, upstreamSecureContext } from './upstream-pool.ts';

/** Where ID tokens come from (the token room's client with its local mirror, or a fake in tests). */
export interface TokenSource {
  get(audience: string): Promise<string>;
  /** A usable token held locally, without waiting (the hot path), else null. */
  cached?(audience: string): string | null;
}

export interface ProxyOptions {
  settings: ProxySettings;
  facts: Facts;
  tokens: () => TokenSource | null;
  lookup: LookupFunction;
  metrics: ProxyMetrics;
  log: Logger;
}

export type Route =
  | {
      kind: 'service';
      service: string;
      host: string;
      audience: string;
      /** The last token used for this route and its header value, so each request does not build
       * a fresh ~1 KB string. */
      bearer: { token: string; value: string } | null;
    }
  | { kind: 'plain'; host: string; port: number };

export interface RunningProxy {
  ports: number[];
  setFacts(f: Facts): void;
  route(authority: string, absolute: boolean): Route;
  close(): Promise<void>;
}

export async function createProxy(o: ProxyOptions): Promise<RunningProxy> {
  const s = o.settings;
  const d = withDefaults(s);
  const m = o.metrics;
  let facts = o.facts;
  const routes = new Map<string, Route>();
  const secureContext = upstreamSecureContext(s.ca);
  const pool = new UpstreamPool({
    port: d.upstreamPort,
    lookup: o.lookup,
    secureContext,
    connectTimeoutMs: d.connectTimeoutMs,
    events: { sessions: (n) => m.upstreamSessions.inc(n), goaway: () => m.goaways.inc() },
  });

  const route = (authority: string, absolute: boolean): Route => {
    const hit = routes.get(authority);
    if (hit) return hit;
    const t = parseHost(authority, s.domain);
    if (t.kind === 'external') {
      // Env mode: the app uses us as its HTTP proxy for every http:// URL; those go out untouched.
      // An origin-form request for an external name (or anything in DNS mode) is refused.
      if (s.mode === 'env' && absolute) {
        // http.request throws on a port past 65535 and quietly takes port 0 for 80.
        if (t.port !== null && !(t.port >= 1 && t.port <= 65535))
          throw new RunsdError(
            'RUNSD_BAD_HOST',
            `"${authority}": port ${t.port} is not a TCP port (1-65535)`,
          );
        return { kind: 'plain', host: t.host, port: t.port ?? 80 };
      }
      throw notRelay(authority);
    }
    const origin = serviceUrl(t.service, t.region, {
      urlFormat: s.urlFormat,
      projectHash: s.projectHash,
      projectNumber: s.projectNumber ?? facts.projectNumber,
      ownRegion: facts.region,
    });
    const r: Route = {
      kind: 'service',
      service: t.service,
      host: origin.slice('https://'.length),
      audience: origin,
      bearer: null,
    };
    if (routes.size > 10_000) routes.clear();
    routes.set(authority, r);
    return r;
  };

  const token = async (audience: string): Promise<string> => {
    const src = o.tokens();
    if (!src) throw new RunsdError('RUNSD_TOKEN_FETCH', 'the token service is not connected (restarting?)');
    try {
      return await src.get(audience);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
      // The token room's own errors already name the audience; others (port timeout) get it here.
      const code = (err as { code?: unknown })?.code;
      throw new RunsdError(
        'RUNSD_TOKEN_FETCH',
        code === 'RUNSD_TOKEN_FETCH' ? msg : `no ID token for ${audience}: ${msg}`,
        {
          cause: err,
        },
      );
    }
  };

  // The hot path avoids async frames: a token from the local mirror is used synchronously, and the
  // exchange is one promise.
  const handle = (ds: Downstream): void => {
    m.activeStreams.inc();
    let service = '-';
    const done = (status: number) => {
      m.activeStreams.dec();
      m.countRequest(service, ds.protocol, status);
    };
    const fail = (err: unknown) => {
      const e = sendError(ds, err);
      m.errors.inc({ code: e.code });
      if (e.status >= 500)
        o.log.info(1, 'request failed', { host: ds.authority, code: e.code, status: e.status });
      done(e.status);
    };
    try {
      // CONNECT over h2 (RFC 8441 tunnels included) cannot be forwarded as a request upstream.
      if (ds.protocol !== 'http1' && ds.method === 'CONNECT') {
        throw new RunsdError('RUNSD_METHOD', `${ds.authority}: CONNECT over HTTP/2 is not supported`);
      }
      // An absolute-form target with another scheme (`GET https://svc/ HTTP/1.1`) is kept as the
      // path by requestTarget; forwarded, an h2 upstream reset it and the app saw a misleading 502.
      if (ds.path.charCodeAt(0) !== 47 /* '/' */ && !(ds.path === '*' && ds.method === 'OPTIONS'))
        throw new RunsdError(
          'RUNSD_BAD_REQUEST',
          `request target "${ds.path.slice(0, 200)}" is neither a path nor an http:// URL (https:// goes through CONNECT)`,
        );
      const r = route(ds.authority, ds.absolute);
      if (r.kind === 'plain') {
        service = '-external';
        forwardPlain(ds, r.host, r.port, o.lookup, d.timeoutMs).then(done, fail);
        return;
      }
      service = r.service;
      const send = (tok: string | null) => {
        try {
          let credential: string | null = null;
          if (tok !== null) {
            if (r.bearer?.token !== tok) r.bearer = { token: tok, value: `Bearer ${tok}` };
            credential = r.bearer.value;
          }
          const started = performance.now();
          exchange(ds, upstreamRequestHeaders(ds.headers, credential, s.authHeader), {
            pool,
            host: r.host,
            port: d.upstreamPort,
            timeoutMs: d.timeoutMs,
            onHeaders: () => m.upstreamDuration.observe((performance.now() - started) / 1000),
          }).then(done, fail);
        } catch (err) {
          fail(err);
        }
      };
      if (hasCredential(ds.headers, s.authHeader)) {
        send(null);
        return;
      }
      // A token in the local mirror is used at once: no promise, no microtask on the hot path.
      const hot = o.tokens()?.cached?.(r.audience) ?? null;
      if (hot !== null) send(hot);
      else token(r.audience).then(send, fail);
    } catch (err) {
      fail(err);
    }
  };

  const listener = createListener(
    {
      request: (req, res) => handle(fromHttp1(req, res)),
      stream: (stream: http2.ServerHttp2Stream, headers) => handle(fromHttp2(stream, headers)),
      upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        m.activeStreams.inc();
        socket.once('close', () => m.activeStreams.dec());
        void tunnelUpgrade(req, socket, head, {
          route,
          token,
          authHeader: s.authHeader,
          lookup: o.lookup,
          secureContext,
          port: d.upstreamPort,
          timeoutMs: d.timeoutMs,
          onDone: (service, status) => m.countRequest(service, 'websocket', status),
          onError: (code) => m.errors.inc({ code }),
        });
      },
      connect: (req, socket, head) =>
        plainConnect(req, socket, head, s, listener.dispatch, (code) => m.errors.inc({ code })),
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
    route,
    setFacts(f) {
      facts = f;
      routes.clear();
    },
    async close() {
      await listener.close();
      await pool.close();
    },
  };
}

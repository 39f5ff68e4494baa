// Upstream connections, one entry per origin: a single multiplexed HTTP/2 session when the server
// offers h2 via ALPN (Cloud Run does), else a keep-alive HTTP/1.1 agent. A session that receives
// GOAWAY is retired at once (new requests go to a fresh session) and closes itself when its last
// stream ends; callers retry streams the server refused (service.ts, service-h2.ts).
import type http2 from 'node:http2';
import type https from 'node:https';
import type { LookupFunction } from 'node:net';
import type tls from 'node:tls';
import { RunsdError } from '../../src/errors.ts';
import { serverName } from '../../src/net/server-name.ts';
import { http2 as loadHttp2, https as loadHttps, tls as loadTls } from './builtins.ts';

export type Upstream = { kind: 'h2'; session: http2.ClientHttp2Session } | { kind: 'h1'; agent: https.Agent };

/** What happened to an upstream connection: opened as h2 or http1 (ALPN), failed to open (timeout,
 * TLS, TCP), or an h2 session ended by an error or by runsd after idling (GOAWAYs counted apart). */
export const UPSTREAM_EVENTS = [
  'h2',
  'http1',
  'timeout',
  'tls_failed',
  'connect_failed',
  'session_error',
  'idle_closed',
] as const;
export type UpstreamEvent = (typeof UPSTREAM_EVENTS)[number];

export interface PoolOptions {
  port: number;
  lookup: LookupFunction;
  /** Built on first use (upstreamSecureContext): reading the system CA store is not start-up work. */
  secureContext: () => tls.SecureContext;
  connectTimeoutMs: number;
  /** Idle sessions close after this long (default 120 s). */
  idleMs?: number;
  events?: { sessions(delta: number): void; goaway(): void; connection(event: UpstreamEvent): void };
}

interface Entry {
  host: string;
  /** The pool's port unless the origin names its own (a -route with :PORT). */
  port: number;
  session: http2.ClientHttp2Session | null;
  connecting: Promise<Upstream> | null;
  agent: https.Agent | null;
}

/**
 * System CAs + Node's bundled roots + NODE_EXTRA_CA_CERTS (+ an extra PEM for tests), built once, on
 * first call. Reading and parsing the system store costs ~70 ms of CPU (576 certificates on Debian;
 * docs/startup.md), so the proxy room builds it just after READY, not before (room.ts).
 */
export function upstreamSecureContext(extraPem?: string): () => tls.SecureContext {
  let built: tls.SecureContext | null = null;
  return () => {
    if (built) return built;
    const tls = loadTls();
    const ca = new Set<string>(tls.getCACertificates('default'));
    try {
      for (const c of tls.getCACertificates('system')) ca.add(c);
    } catch {
      // No system store readable: the bundled roots still cover *.run.app.
    }
    for (const c of tls.getCACertificates('extra')) ca.add(c);
    if (extraPem) ca.add(extraPem);
    built = tls.createSecureContext({ ca: [...ca] });
    return built;
  };
}

const MAX_IDLE_ENTRIES = 1024;

/** One entry per origin: the host alone on the pool's port, host:port for any other port. */
function entryKey(host: string, port: number | undefined): string {
  return port === undefined ? host : `${host}:${port}`;
}

/**
 * HTTP/2 receive windows, both towards the app (h2c listener) and towards services: what a sender
 * may have in flight into runsd before it reads. Large enough that one stream is not throttled by
 * flow-control round trips inside a region (1 MiB per RTT of ~1 ms is ~8 Gbit/s), small enough that
 * a slow reader or a 1 GiB body does not turn into memory: with 4/16 MiB a 1 GiB download grew RSS by
 * 54–63 MiB, with 1/4 MiB (and the rooms' 4 MB young generation) by < 32 (bench/transfer.ts).
 */
export const H2_STREAM_WINDOW = 1024 * 1024;
export const H2_SESSION_WINDOW = 4 * 1024 * 1024;

export class UpstreamPool {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: PoolOptions;
  private closed = false;

  constructor(opts: PoolOptions) {
    this.opts = opts;
  }

  private pruneIdle(): void {
    for (const [key, e] of this.entries) {
      const live = e.session !== null && !e.session.closed && !e.session.destroyed;
      if (!live && e.connecting === null && e.agent === null) this.entries.delete(key);
    }
  }

  /** Entries held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** A usable upstream for host (e.g. "hello-123.us-central1.run.app"), connecting if needed;
   * `port` (default the pool's) is part of the origin. */
  get(host: string, port?: number): Upstream | Promise<Upstream> {
    const key = entryKey(host, port);
    let e = this.entries.get(key);
    if (!e) {
      // Entries are per service host; an app that calls many names (or mistyped ones) must not grow
      // this forever: past a bound, drop the entries that hold no connection.
      if (this.entries.size >= MAX_IDLE_ENTRIES) this.pruneIdle();
      e = { host, port: port ?? this.opts.port, session: null, connecting: null, agent: null };
      this.entries.set(key, e);
    }
    const s = e.session;
    if (s !== null && !s.closed && !s.destroyed) return { kind: 'h2', session: s };
    if (e.agent) return { kind: 'h1', agent: e.agent };
    if (e.connecting) return e.connecting;
    const entry = e;
    e.connecting = this.connect(entry).finally(() => {
      entry.connecting = null;
    });
    return e.connecting;
  }

  /** Drops a session that failed a request in a way that says it is unusable. */
  retire(host: string, session: http2.ClientHttp2Session, port?: number): void {
    const e = this.entries.get(entryKey(host, port));
    if (e?.session === session) e.session = null;
  }

  private connect(e: Entry): Promise<Upstream> {
    if (this.closed) return Promise.reject(new RunsdError('RUNSD_UPSTREAM_CONNECT', 'proxy is closing'));
    const { lookup, secureContext, connectTimeoutMs } = this.opts;
    const port = e.port;
    return new Promise<Upstream>((resolve, reject) => {
      const socket = loadTls().connect({
        host: e.host,
        port,
        servername: serverName(e.host),
        lookup,
        secureContext: secureContext(),
        ALPNProtocols: ['h2', 'http/1.1'],
        // Small HTTP/2 frames must not wait for Nagle + delayed ACK (~40 ms stalls).
        noDelay: true,
      } as tls.ConnectionOptions);
      const timer = setTimeout(() => {
        this.opts.events?.connection('timeout');
        socket.destroy();
        reject(
          new RunsdError(
            'RUNSD_UPSTREAM_TIMEOUT',
            `no TLS connection to ${e.host}:${port} within ${connectTimeoutMs} ms`,
          ),
        );
      }, connectTimeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        const tlsFail = /certificate|SSL|TLS|self.signed|altnames/i.test(
          `${err.message} ${(err as NodeJS.ErrnoException).code ?? ''}`,
        );
        this.opts.events?.connection(tlsFail ? 'tls_failed' : 'connect_failed');
        reject(
          new RunsdError(
            'RUNSD_UPSTREAM_CONNECT',
            `${tlsFail ? 'TLS handshake with' : 'cannot connect to'} ${e.host}:${port} failed: ${err.message}`,
            { cause: err },
          ),
        );
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        this.opts.events?.connection(socket.alpnProtocol === 'h2' ? 'h2' : 'http1');
        if (socket.alpnProtocol === 'h2') {
          resolve({ kind: 'h2', session: this.adopt(e, socket) });
        } else {
          // HTTP/1.1 upstream: this socket seeds nothing; the keep-alive agent opens its own.
          socket.destroy();
          e.agent = new (loadHttps().Agent)({
            keepAlive: true,
            maxFreeSockets: 64,
            lookup,
            secureContext: secureContext(),
            ALPNProtocols: ['http/1.1'],
            noDelay: true,
          } as https.AgentOptions);
          resolve({ kind: 'h1', agent: e.agent });
        }
      });
    });
  }

  private adopt(e: Entry, socket: tls.TLSSocket): http2.ClientHttp2Session {
    const session = loadHttp2().connect(
      `https://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`,
      {
        createConnection: () => socket,
        settings: { initialWindowSize: H2_STREAM_WINDOW, enablePush: false },
      },
    );
    session.setLocalWindowSize?.(H2_SESSION_WINDOW);
    e.session = session;
    this.opts.events?.sessions(1);
    const retire = () => {
      if (e.session === session) e.session = null;
    };
    session.on('goaway', () => {
      this.opts.events?.goaway();
      retire();
    });
    session.on('error', () => {
      this.opts.events?.connection('session_error');
      retire();
    });
    session.once('close', () => {
      retire();
      this.opts.events?.sessions(-1);
    });
    session.setTimeout(this.opts.idleMs ?? 120_000, () => {
      this.opts.events?.connection('idle_closed');
      retire();
      session.close();
    });
    session.unref();
    return session;
  }

  async close(): Promise<void> {
    this.closed = true;
    const waits: Promise<void>[] = [];
    for (const e of this.entries.values()) {
      const s = e.session;
      if (s && !s.destroyed) {
        waits.push(new Promise((r) => s.close(() => r())));
        setTimeout(() => s.destroy(), 2000).unref();
      }
      e.agent?.destroy();
    }
    this.entries.clear();
    await Promise.all(waits);
  }
}

// One loopback port for both HTTP/1.1 and h2c with prior knowledge (what gRPC clients speak): the
// first bytes of each connection decide. The HTTP/2 connection preface starts with "PRI * HTTP/2.0";
// no HTTP/1.1 method starts with "PRI ", so four bytes are enough.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { http2 as loadHttp2 } from './builtins.ts';
import { rawErrorResponse } from './errors.ts';
import { H2_SESSION_WINDOW, H2_STREAM_WINDOW } from './upstream-pool.ts';

/** How long a new connection may stay silent before its first bytes (then it is closed). */
const FIRST_BYTES_TIMEOUT_MS = 30_000;

const PREFACE = Buffer.from('PRI ');

export interface ListenerHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  stream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void;
  /** WebSocket (and other non-h2c) upgrades: the raw socket is ours after this. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  sockets?(delta: number): void;
}

export interface Listener {
  /** Feeds a connection (e.g. the inside of a CONNECT tunnel) into the same sniffing dispatcher. */
  dispatch(socket: Duplex): void;
  listen(host: string, port: number): Promise<number>;
  /** Loads what the first h2c connection needs (node:http2), ahead of it. */
  warm(): void;
  close(): Promise<void>;
}

export interface ListenerOptions {
  /** Default 30 s. */
  firstBytesTimeoutMs?: number;
}

export function createListener(h: ListenerHandlers, opts: ListenerOptions = {}): Listener {
  const firstBytesMs = opts.firstBytesTimeoutMs ?? FIRST_BYTES_TIMEOUT_MS;
  const h1 = http.createServer(
    {
      keepAliveTimeout: 65_000,
      // Long uploads and streams are the app's business; the proxy imposes no request deadline.
      requestTimeout: 0,
      headersTimeout: 60_000,
      // A request without Host reaches the proxy, which answers 400 RUNSD_BAD_HOST naming the
      // problem (node's own check answered a bare 400).
      requireHostHeader: false,
      // `Upgrade: h2c` is served as plain HTTP/1.1 (RFC 9113 deprecates it; the Go runsd answered
      // 502). Only WebSocket upgrades are taken over as raw tunnels.
      shouldUpgradeCallback: (req: IncomingMessage) => /^websocket$/i.test(req.headers.upgrade ?? ''),
    } as http.ServerOptions,
    h.request,
  );
  h1.on('upgrade', h.upgrade);
  h1.on('connect', h.connect);
  h1.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // A response already under way on this connection (a pipelined request failed to parse) must
    // not get a status line written into its middle: close instead (as node's default does).
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (!socket.writable || inFlight || err.code === 'ECONNRESET') return void socket.destroy();
    // Bytes that do not start with an HTTP method are not HTTP/1.x at all: an HTTP/2 client with a
    // broken preface is closed, as RFC 9113 §3.4 asks (test/workers/proxy/h2spec.test.ts, case
    // http2/3.5/2). A TLS ClientHello (0x16) still gets the 400, which names the mistake in logs and
    // packet captures: internal names are served over plain HTTP.
    const raw = (err as { rawPacket?: Buffer }).rawPacket;
    if (err.code === 'HPE_INVALID_METHOD' && raw?.[0] !== 0x16) return void socket.destroy();
    // Say what the parser refused (llhttp's code and reason), like every other proxy error.
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = `runsd: malformed HTTP/1.1 request (${err.code ?? 'parse error'}: ${err.message})\n`;
    socket.end(rawErrorResponse(status, 'RUNSD_BAD_REQUEST', body));
  });
  // The h2c server (and with it node:http2) is made for the first h2c connection, or by warm() just
  // after READY (builtins.ts): HTTP/1.1 connections are served without it.
  let h2server: http2.Http2Server | null = null;
  const h2 = (): http2.Http2Server => {
    if (h2server) return h2server;
    const srv = loadHttp2().createServer({
      settings: { initialWindowSize: H2_STREAM_WINDOW, maxConcurrentStreams: 1000 },
    });
    srv.on('stream', h.stream);
    srv.on('session', (s) => {
      s.setLocalWindowSize?.(H2_SESSION_WINDOW);
      s.on('error', () => {});
    });
    srv.on('sessionError', () => {});
    h2server = srv;
    return srv;
  };

  const dispatch = (socket: Duplex) => {
    let buf: Buffer | null = null;
    // A connection that never sends its first bytes would otherwise stay open forever: the
    // HTTP servers' own timeouts only start once it has been handed to them.
    const net_ = socket instanceof net.Socket ? socket : null;
    net_?.setTimeout(firstBytesMs, () => socket.destroy());
    const onData = (chunk: Buffer) => {
      buf = buf ? Buffer.concat([buf, chunk]) : chunk;
      const n = Math.min(buf.length, PREFACE.length);
      const prefix = buf.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (prefix && n < PREFACE.length) return; // too few bytes to tell yet
      socket.off('data', onData);
      net_?.setTimeout(0);
      socket.pause();
      socket.unshift(buf);
      (prefix ? h2() : h1).emit('connection', socket);
      process.nextTick(() => socket.resume());
    };
    socket.on('data', onData);
    socket.on('error', () => {});
  };

  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  return {
    dispatch,
    warm: () => void h2(),
    listen(host, port) {
      const srv = net.createServer({ noDelay: true }, (s) => {
        sockets.add(s);
        h.sockets?.(1);
        s.once('close', () => {
          sockets.delete(s);
          h.sockets?.(-1);
        });
        dispatch(s);
      });
      servers.push(srv);
      return new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ host, port, ipv6Only: host.includes(':') }, () => {
          srv.off('error', reject);
          resolve((srv.address() as net.AddressInfo).port);
        });
      });
    },
    async close() {
      const closing = Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      // The child has exited when rooms close: open keep-alive connections have no one to serve.
      for (const s of sockets) s.destroy();
      await closing;
    },
  };
}

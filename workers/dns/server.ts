// UDP and TCP listeners on 127.0.0.1 (and ::1 when IPv6 is served), all on one port. With port 0
// (tests) UDP picks the number first and TCP and IPv6 follow on it; a clash retries a few times.
// TCP (RFC 7766): length-prefixed messages, several per connection, answered as they complete;
// bounded message size, idle timeout and in-flight count so no client can hold a connection stuck.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { RunsdError } from '../../src/errors.ts';
import { literalAddress } from '../../src/net/literal-address.ts';
import type { DnsMetrics } from './metrics.ts';
import type { Reply, Resolver } from './resolver.ts';

export interface ListenOptions {
  host4: string;
  host6: string | null;
  port: number;
  tcpIdleMs?: number;
  /** Bind with SO_REUSEPORT so several threads can share the port (the kernel spreads clients). */
  reusePort?: boolean;
}

/** A query never needs more than this; a larger length prefix is an attack or garbage. */
const MAX_TCP_QUERY = 4096;
const TCP_MAX_INFLIGHT = 64;
const MAX_TCP_CONNECTIONS = 512;

const connections = new WeakMap<Server, Set<Socket>>();

export interface Listeners {
  port: number;
  close(): Promise<void>;
}

export async function listen(
  opts: ListenOptions,
  resolver: Resolver,
  metrics: DnsMetrics,
): Promise<Listeners> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < (opts.port === 0 ? 5 : 1); attempt++) {
    const udp: UdpSocket[] = [];
    const tcp: Server[] = [];
    try {
      const rp = opts.reusePort === true;
      const idle = opts.tcpIdleMs ?? 10_000;
      const first = await bindUdp('udp4', opts.host4, opts.port, resolver, metrics, rp);
      udp.push(first);
      const port = first.address().port;
      tcp.push(await bindTcp(opts.host4, port, resolver, metrics, idle, rp));
      if (opts.host6) {
        udp.push(await bindUdp('udp6', opts.host6, port, resolver, metrics, rp));
        tcp.push(await bindTcp(opts.host6, port, resolver, metrics, idle, rp));
      }
      return { port, close: () => closeAll(udp, tcp) };
    } catch (err) {
      lastErr = err;
      await closeAll(udp, tcp);
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  const e = lastErr as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES')
    throw new RunsdError(
      'RUNSD_CONFIG',
      `dns: cannot listen on port ${opts.port} (${e.code}): another resolver may be running there; choose another with -dns_port`,
    );
  throw lastErr;
}

async function closeAll(udp: UdpSocket[], tcp: Server[]): Promise<void> {
  for (const s of udp) s.close();
  await Promise.all(
    tcp.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          for (const c of connections.get(s) ?? []) c.destroy();
        }),
    ),
  );
}

function bindUdp(
  type: 'udp4' | 'udp6',
  host: string,
  port: number,
  resolver: Resolver,
  metrics: DnsMetrics,
  reusePort: boolean,
): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    // A 4 MB receive buffer (the usual rmem_max) absorbs bursts: with the 208 KB default a burst of
    // a few hundred queries is dropped by the kernel and each one costs the client a retry timeout.
    const s = createSocket({
      type,
      ipv6Only: type === 'udp6',
      reusePort,
      recvBufferSize: 1 << 22,
      sendBufferSize: 1 << 22,
      lookup: literalAddress,
    });
    s.once('error', reject);
    s.bind(port, host, () => {
      s.off('error', reject);
      s.on('error', () => {
        // Per-datagram send errors (e.g. the client went away) must not kill the listener.
      });
      s.on('message', (msg, rinfo) => {
        const r = resolver.handle(msg, 'udp');
        if (r === null) return;
        if (r instanceof Promise)
          r.then((out: Reply) => {
            if (!out) return;
            metrics.response('udp', out);
            s.send(out, rinfo.port, rinfo.address);
          });
        else {
          metrics.response('udp', r);
          s.send(r, rinfo.port, rinfo.address);
        }
      });
      resolve(s);
    });
  });
}

function bindTcp(
  host: string,
  port: number,
  resolver: Resolver,
  metrics: DnsMetrics,
  idleMs: number,
  reusePort: boolean,
): Promise<Server> {
  return new Promise((resolve, reject) => {
    const open = new Set<Socket>();
    // allowHalfOpen: a client may send its queries and half-close; the answers still go back.
    const server = createServer({ allowHalfOpen: true }, (sock) => {
      open.add(sock);
      sock.on('close', () => open.delete(sock));
      serveTcp(sock, resolver, metrics, idleMs);
    });
    connections.set(server, open);
    server.maxConnections = MAX_TCP_CONNECTIONS;
    server.on('drop', () => metrics.tcpDropped('too_many'));
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: host.includes(':'), reusePort }, () => {
      server.off('error', reject);
      server.on('error', () => {});
      resolve(server);
    });
  });
}

function serveTcp(sock: Socket, resolver: Resolver, metrics: DnsMetrics, idleMs: number): void {
  let buf = Buffer.alloc(0);
  let inflight = 0;
  let ended = false;
  sock.setNoDelay(true);
  sock.setTimeout(idleMs, () => {
    metrics.tcpDropped('idle');
    sock.destroy();
  });
  sock.on('error', () => sock.destroy());
  sock.on('end', () => {
    ended = true;
    if (inflight === 0) sock.end();
  });
  const send = (out: Reply) => {
    if (!out || sock.destroyed) return;
    metrics.response('tcp', out);
    const frame = Buffer.allocUnsafe(out.length + 2);
    frame.writeUInt16BE(out.length, 0);
    out.copy(frame, 2);
    sock.write(frame);
  };
  const done = () => {
    inflight--;
    if (sock.isPaused() && inflight < TCP_MAX_INFLIGHT) sock.resume();
    if (ended && inflight === 0) sock.end();
  };
  sock.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (len < 12 || len > MAX_TCP_QUERY) {
        // No way to frame a reply we could trust: count it and hang up.
        metrics.tcpDropped('bad_length');
        resolver.handle(Buffer.alloc(0), 'tcp');
        sock.destroy();
        return;
      }
      if (buf.length < 2 + len) break;
      const msg = Buffer.from(buf.subarray(2, 2 + len));
      buf = buf.subarray(2 + len);
      const r = resolver.handle(msg, 'tcp');
      if (r === null) continue;
      if (!(r instanceof Promise)) {
        send(r);
        continue;
      }
      inflight++;
      if (inflight >= TCP_MAX_INFLIGHT) sock.pause();
      r.then(send).finally(done);
    }
  });
}

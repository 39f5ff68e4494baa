// Forwards raw queries to the original nameservers: the query bytes go on unchanged except for a
// fresh ID (and without the client's hop-by-hop COOKIE), so EDNS0 options and DNSSEC bits survive.
// Failover: each attempt has its own timeout and moves on to the next nameserver; the last one that
// answered is tried first next time. A truncated UDP answer is retried over TCP; queries that came
// over TCP go upstream over TCP. When the total budget is spent the caller answers SERVFAIL.
// UDP: one socket per nameserver, connect()ed to it, so the kernel itself drops datagrams from any
// other address or port (nothing else can reach the socket); its source port is the kernel's random
// pick at connect time, and a socket is replaced by a fresh one (a new random port) after
// ROTATE_QUERIES queries or ROTATE_MS. A reply must match the socket, the ID and the question.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isTruncatedFlags, RCODE, rawFlags, rcodeOf } from '../../src/domain/dns-answer.ts';
import { readId, writeId } from '../../src/domain/dns-wire.ts';
import type { Nameserver } from '../../src/domain/nameserver.ts';
import { RunsdError } from '../../src/errors.ts';
import type { DnsMetrics } from './metrics.ts';
import { sameQuestion, tcpExchange } from './upstream-tcp.ts';

type Crypto = typeof import('node:crypto');
let crypto: Crypto | undefined;
/** A random query ID. node:crypto costs a thread ~10 ms to load: loaded on first use (or by warmForwarding()). */
function queryId(): number {
  crypto ??= process.getBuiltinModule('node:crypto') as Crypto;
  return crypto.randomInt(65536);
}
/** Loads what forwarding needs, so that the first forwarded query does not wait for it. */
export function warmForwarding(): void {
  queryId();
}

interface Pending {
  ns: Nameserver;
  via: Upstream;
  query: Uint8Array;
  resolve(reply: Buffer): void;
}

/** A UDP socket connected to one nameserver. */
interface Upstream {
  socket: UdpSocket;
  ready: Promise<void>;
  sent: number;
  born: number;
  /** Queries sent on it still waiting for a reply. */
  inflight: number;
  /** Replaced by a fresh socket: closes once nothing is in flight on it. */
  retired: boolean;
}

export interface ForwarderOptions {
  attemptMs: number;
  totalMs: number;
}

/** Upstream UDP queries in flight at once (IDs are 16 bits; keep finding a free one cheap). */
const MAX_PENDING = 32_768;

/** Largest DNS message over TCP (the 16-bit length prefix). */

/**
 * A nameserver's socket is replaced (new random source port) after this many queries or this long:
 * one socket()+connect() per 512 forwarded queries is noise next to the queries themselves, and an
 * off-path guesser gets a moving port as well as a random ID.
 */
export const ROTATE_QUERIES = 512;
export const ROTATE_MS = 60_000;

export class Forwarder {
  private readonly upstreams: Nameserver[];
  private readonly opts: ForwarderOptions;
  private readonly metrics: DnsMetrics;
  private readonly pending = new Map<number, Pending>();
  /** The current socket of each nameserver (by label); retired ones live on in `retiring`. */
  private readonly sockets = new Map<string, Upstream>();
  private readonly retiring = new Set<Upstream>();
  private preferred = 0;
  private closed = false;

  constructor(upstreams: Nameserver[], opts: ForwarderOptions, metrics: DnsMetrics) {
    if (upstreams.length === 0)
      throw new RunsdError('RUNSD_CONFIG', 'dns: no upstream nameserver to forward to');
    this.upstreams = upstreams;
    this.opts = opts;
    this.metrics = metrics;
  }

  /** The upstream's reply (its ID is the one we chose; the caller rewrites it). */
  async forward(query: Uint8Array, overTcp: boolean): Promise<Buffer> {
    const deadline = Date.now() + this.opts.totalMs;
    const n = this.upstreams.length;
    let fallback: Buffer | null = null;
    for (let i = 0; ; i++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) break;
      const idx = (this.preferred + i) % n;
      const ns = this.upstreams[idx] as Nameserver;
      const budget = Math.min(this.opts.attemptMs, remaining);
      const start = process.hrtime.bigint();
      try {
        let reply = overTcp
          ? await this.tcpAttempt(ns, query, budget)
          : await this.udpAttempt(ns, query, budget);
        if (!overTcp && isTruncatedFlags(rawFlags(reply) ?? 0)) {
          // The full answer does not fit a datagram: ask the same server over TCP. If that fails,
          // the truncated answer is still better than SERVFAIL (the client can retry over TCP).
          fallback = reply;
          reply = await this.tcpAttempt(ns, query, Math.max(1, deadline - Date.now()));
        }
        this.metrics.upstreamReply(ns.label, reply, start);
        const rcode = rcodeOf(reply);
        if (rcode === RCODE.SERVFAIL || rcode === RCODE.REFUSED) {
          // SERVFAIL/REFUSED: another nameserver may do better; keep this one as a last resort.
          this.metrics.upstreamError(ns.label, rcode === RCODE.SERVFAIL ? 'servfail' : 'refused');
          fallback = reply;
          if (i + 1 < n) continue;
          return reply;
        }
        this.preferred = idx;
        return reply;
      } catch (err) {
        this.metrics.upstreamError(
          ns.label,
          err instanceof RunsdError && err.code === 'RUNSD_UPSTREAM_TIMEOUT' ? 'timeout' : 'network',
        );
      }
    }
    if (fallback) return fallback;
    throw new RunsdError('RUNSD_DNS_UPSTREAM', 'no nameserver answered in time');
  }

  /** The nameserver's connected socket, a fresh one when the current one has served its turn. */
  private upstream(ns: Nameserver): Upstream {
    const cur = this.sockets.get(ns.label);
    if (cur && cur.sent < ROTATE_QUERIES && Date.now() - cur.born < ROTATE_MS) return cur;
    if (cur) this.retire(cur);
    const socket = createSocket(ns.family === 6 ? 'udp6' : 'udp4');
    const u: Upstream = {
      socket,
      // connect() binds port 0 first: the kernel picks a random free source port.
      ready: new Promise<void>((resolve, reject) => {
        socket.connect(ns.port, ns.host, resolve);
        // Before connecting: it failed. After: ICMP errors (port unreachable) surface here on a
        // connected socket; the attempt then times out or fails over like a lost reply.
        socket.on('error', reject);
      }),
      sent: 0,
      born: Date.now(),
      inflight: 0,
      retired: false,
    };
    u.ready.catch(() => {
      if (this.sockets.get(ns.label) === u) this.sockets.delete(ns.label);
      this.retire(u);
    });
    socket.on('message', (msg, rinfo) => this.onMessage(u, msg, rinfo.address, rinfo.port));
    socket.unref();
    this.sockets.set(ns.label, u);
    return u;
  }

  private retire(u: Upstream): void {
    u.retired = true;
    this.retiring.add(u);
    if (u.inflight === 0) this.closeSocket(u);
  }

  private closeSocket(u: Upstream): void {
    this.retiring.delete(u);
    try {
      u.socket.close();
    } catch {
      // Already closed.
    }
  }

  private settled(u: Upstream): void {
    u.inflight--;
    if (u.retired && u.inflight === 0) this.closeSocket(u);
  }

  private onMessage(via: Upstream, msg: Buffer, address: string, port: number): void {
    if (msg.length < 12) return;
    const p = this.pending.get(readId(msg));
    // The kernel already dropped datagrams from anyone but the nameserver (connected socket); the
    // reply must also come on the socket its query left from.
    if (!p || p.via !== via || p.ns.port !== port || p.ns.host.toLowerCase() !== address.toLowerCase())
      return;
    if (!sameQuestion(p.query, msg)) {
      this.metrics.upstreamError(p.ns.label, 'bad_reply');
      return;
    }
    this.pending.delete(readId(msg));
    p.resolve(msg);
  }

  private freshId(): number {
    for (;;) {
      const id = queryId();
      if (!this.pending.has(id)) return id;
    }
  }

  private udpAttempt(ns: Nameserver, query: Uint8Array, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.pending.size >= MAX_PENDING) {
        // The ID space is nearly used up: fail this attempt rather than search for a free ID.
        reject(new RunsdError('RUNSD_UPSTREAM_CONNECT', `${ns.label}: too many queries in flight`));
        return;
      }
      const via = this.upstream(ns);
      via.sent++;
      via.inflight++;
      const id = this.freshId();
      const q = Buffer.from(query);
      writeId(q, id);
      let done = false;
      const settle = (): boolean => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        if (this.pending.get(id)?.via === via) this.pending.delete(id);
        this.settled(via);
        return true;
      };
      const timer = setTimeout(() => {
        if (settle()) reject(new RunsdError('RUNSD_UPSTREAM_TIMEOUT', `${ns.label}: no answer`));
      }, timeoutMs);
      this.pending.set(id, {
        ns,
        via,
        query: q,
        resolve: (r) => {
          if (settle()) resolve(r);
        },
      });
      this.metrics.upstreamQuery(ns.label, 'udp');
      const fail = (err: Error) => {
        if (settle()) reject(new RunsdError('RUNSD_UPSTREAM_CONNECT', `${ns.label}: ${err.message}`));
      };
      via.ready.then(() => {
        if (done) return;
        try {
          via.socket.send(q, (err) => {
            if (err) fail(err);
          });
        } catch (err) {
          // Closed meanwhile (close()): not a rejection nobody handles.
          fail(err as Error);
        }
      }, fail);
    });
  }

  private tcpAttempt(ns: Nameserver, query: Uint8Array, timeoutMs: number): Promise<Buffer> {
    this.metrics.upstreamQuery(ns.label, 'tcp');
    return tcpExchange(ns, query, this.freshId(), timeoutMs, () =>
      this.metrics.upstreamError(ns.label, 'bad_reply'),
    );
  }

  close(): void {
    this.closed = true;
    for (const u of [...this.sockets.values(), ...this.retiring]) this.closeSocket(u);
    this.sockets.clear();
    this.pending.clear();
  }
}

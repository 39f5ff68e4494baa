// One query in, one reply out (or none). Local names are answered synchronously; forwarded ones
// come from the cache, or from the upstream with identical concurrent questions sharing one
// upstream query. Never throws: anything unparseable is counted and answered FORMERR where a
// header exists to answer.
import * as dnsPacket from 'dns-packet';
import {
  classify,
  type Decision,
  errorReply,
  isResponseFlags,
  localReply,
  opcodeOf,
  RCODE,
  rawFlags,
  rcodeOf,
  truncatedReply,
  type ZoneOptions,
} from '../../src/domain/dns-answer.ts';
import { cacheKey, cacheTtl, clientUdpLimit } from '../../src/domain/dns-cache-policy.ts';
import { countsFit, stripEdnsOption, writeId } from '../../src/domain/dns-wire.ts';
import type { Verdict } from '../../src/domain/service-list.ts';
import { type AnswerCache, copyQuestionName } from './cache.ts';
import type { Forwarder } from './forwarder.ts';
import type { DnsMetrics, Outcome } from './metrics.ts';

export type Transport = 'udp' | 'tcp';

/** -check_services: whether a service exists (workers/token/services-client.ts behind it). */
export interface ServiceChecker {
  check(service: string, region: string | null): Verdict | Promise<Verdict>;
}
export type Reply = Buffer | null;

const EDNS_COOKIE = 10;
/** Queries with EDNS options (cookies) are unique per client; memoising them would only churn. */
const MEMO_MAX_QUERY = 300;
const MEMO_MAX_ENTRIES = 4096;

/** What an exact query (bytes after the ID) was found to be: a fixed local reply, or a cache key. */
interface Memo {
  local: Buffer | null;
  key: string | null;
  query: dnsPacket.Packet;
  type: string;
  outcome: Outcome;
}

export class Resolver {
  private readonly zone: ZoneOptions;
  private readonly cache: AnswerCache;
  private readonly forwarder: Forwarder;
  private readonly metrics: DnsMetrics;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  /**
   * Queries by their bytes after the ID. A local reply depends on nothing else, and a forwarded
   * one only on the cache entry, so an identical query (the common case: the same app asking the
   * same name again) skips decoding and encoding (5 µs → about 1 µs per query; bench/dns-micro.ts).
   */
  private readonly memo = new Map<string, Memo>();

  private readonly services: ServiceChecker | undefined;

  constructor(
    zone: ZoneOptions,
    cache: AnswerCache,
    forwarder: Forwarder,
    metrics: DnsMetrics,
    services?: ServiceChecker,
  ) {
    this.services = services;
    this.zone = zone;
    this.cache = cache;
    this.forwarder = forwarder;
    this.metrics = metrics;
  }

  handle(msg: Buffer, transport: Transport): Reply | Promise<Reply> {
    const start = process.hrtime.bigint();
    if (msg.length >= 12 && msg.length <= MEMO_MAX_QUERY) {
      const memo = this.memo.get(msg.toString('latin1', 2));
      if (memo?.local) {
        const out = Buffer.allocUnsafe(memo.local.length);
        memo.local.copy(out);
        out[0] = msg[0] ?? 0;
        out[1] = msg[1] ?? 0;
        this.metrics.query(memo.type, memo.outcome, start);
        return out;
      }
      if (memo?.key) {
        const hit = this.cache.get(memo.key, msg);
        if (hit) {
          this.metrics.query(memo.type, 'cache_hit', start);
          return this.fit(hit, memo.query, transport, msg);
        }
      }
    }
    try {
      return this.answer(msg, transport, start);
    } catch {
      // dns-packet decoded it but cannot encode a reply around it (an odd question name).
      this.metrics.query('NONE', 'malformed', start);
      return msg.length >= 12
        ? encode({ id: msg.readUInt16BE(0), flags: (rawFlags(msg) ?? 0) & 0x7900 }, RCODE.FORMERR)
        : null;
    }
  }

  private answer(msg: Buffer, transport: Transport, start: bigint): Reply | Promise<Reply> {
    const flags = rawFlags(msg);
    if (flags === null || isResponseFlags(flags)) {
      // Too short to answer, or a response (answering it could start a loop): drop it.
      this.metrics.query('NONE', 'malformed', start);
      return null;
    }
    let query: dnsPacket.Packet;
    try {
      // Counts the bytes cannot hold: undecodable, and decoding would allocate for them first.
      if (!countsFit(msg)) throw new RangeError('section counts exceed the message');
      query = dnsPacket.decode(msg);
    } catch {
      this.metrics.query('NONE', 'malformed', start);
      return encode({ id: msg.readUInt16BE(0), flags: flags & 0x7900 }, RCODE.FORMERR);
    }
    if (opcodeOf(flags) !== 0) {
      this.metrics.query('NONE', 'notimp', start);
      return encode({ ...query, questions: [] }, RCODE.NOTIMP);
    }
    const q = query.questions?.[0];
    if (!q || (query.questions?.length ?? 0) !== 1) {
      this.metrics.query('NONE', 'malformed', start);
      return encode({ ...query, questions: [] }, RCODE.FORMERR);
    }
    const type = String(q.type);
    const d = classify(q, this.zone);
    if (d.kind === 'answer' && d.service && this.services) {
      // Not memoised: the answer depends on the service list, and a miss must reach the mirror
      // (which asks the token room again) every time.
      const v = this.services.check(d.service.name, d.service.region);
      const nx = { kind: 'nxdomain' as const, zone: d.zone };
      if (typeof v === 'string') return this.local(msg, query, type, v === 'missing' ? nx : d, start, false);
      return v.then((w) => this.local(msg, query, type, w === 'missing' ? nx : d, start, false));
    }
    if (d.kind !== 'forward') return this.local(msg, query, type, d, start, true);
    const key = cacheKey(query) as string;
    this.remember(msg, { local: null, key, query, type, outcome: 'cache_hit' });
    const hit = this.cache.get(key, msg);
    if (hit) {
      this.metrics.query(type, 'cache_hit', start);
      return this.fit(hit, query, transport, msg);
    }
    return this.forward(msg, query, key, transport, type, start);
  }

  /** A reply runsd makes itself (anything but 'forward'). */
  private local(
    msg: Buffer,
    query: dnsPacket.Packet,
    type: string,
    d: Exclude<Decision, { kind: 'forward' }>,
    start: bigint,
    memo: boolean,
  ): Buffer {
    const outcome: Outcome =
      d.kind === 'answer'
        ? 'local'
        : d.kind === 'nodata'
          ? 'nodata'
          : d.kind === 'nxdomain' || d.kind === 'suffixed'
            ? 'nxdomain'
            : 'refused';
    const out = dnsPacket.encode(localReply(query, d, this.zone));
    if (memo) this.remember(msg, { local: Buffer.from(out), key: null, query, type, outcome });
    this.metrics.query(type, outcome, start);
    return out;
  }

  private async forward(
    msg: Buffer,
    query: dnsPacket.Packet,
    key: string,
    transport: Transport,
    type: string,
    start: bigint,
  ): Promise<Reply> {
    // A UDP and a TCP asker of the same question must not share: the UDP answer may be truncated.
    const flightKey = `${transport}|${key}`;
    let p = this.inflight.get(flightKey);
    if (!p) {
      const upstreamQuery = stripEdnsOption(msg, EDNS_COOKIE) ?? msg;
      p = this.forwarder.forward(upstreamQuery, transport === 'tcp').then((reply) => {
        try {
          this.cache.set(key, reply, cacheTtl(dnsPacket.decode(reply)));
        } catch {
          // Undecodable upstream reply: pass it on, do not cache it.
        }
        return reply;
      });
      const cleanup = () => this.inflight.delete(flightKey);
      p.then(cleanup, cleanup);
      this.inflight.set(flightKey, p);
    }
    try {
      const upstream = await p;
      const out = Buffer.from(upstream);
      writeId(out, query.id ?? 0);
      copyQuestionName(msg, out);
      const rcode = rcodeOf(out);
      this.metrics.query(type, rcode === RCODE.SERVFAIL ? 'servfail' : 'forwarded', start);
      return this.fit(out, query, transport, msg);
    } catch {
      this.metrics.query(type, 'servfail', start);
      return encode(query, RCODE.SERVFAIL);
    }
  }

  private remember(msg: Buffer, m: Memo): void {
    if (msg.length > MEMO_MAX_QUERY) return;
    if (this.memo.size >= MEMO_MAX_ENTRIES) this.memo.clear();
    this.memo.set(msg.toString('latin1', 2), m);
  }

  /** Over UDP, a reply larger than the client accepts becomes TC=1 so it retries over TCP. */
  private fit(reply: Buffer, query: dnsPacket.Packet, transport: Transport, msg: Buffer): Buffer {
    if (transport !== 'udp' || reply.length <= clientUdpLimit(query)) return reply;
    const tc = dnsPacket.encode(truncatedReply(query));
    // `query` may be a memoised decode of an earlier identical query: the ID is this one's.
    tc[0] = msg[0] ?? 0;
    tc[1] = msg[1] ?? 0;
    return tc;
  }
}

function encode(query: dnsPacket.Packet, rcode: number): Buffer {
  try {
    return dnsPacket.encode(errorReply(query, rcode));
  } catch {
    // The question itself cannot be re-encoded (e.g. an odd label): answer with the header only.
    return dnsPacket.encode(errorReply({ id: query.id ?? 0, flags: query.flags ?? 0 }, rcode));
  }
}

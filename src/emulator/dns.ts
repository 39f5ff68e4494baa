// Fake upstream DNS ("the Cloud Run resolver") on UDP and TCP, same port. Records every question so
// tests can prove which queries reached upstream and which runsd answered itself.
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { answerQuestion, normalizeName, type Rcode, TEST_RECORDS, type ZoneRecord } from './dns-zone.ts';

export interface UpstreamDnsOptions {
  host?: string;
  port?: number;
  /** What `*.run.app` resolves to (IPv4, or IPv6 literal). */
  frontendAddress: string;
  frontendAddress6?: string;
  /** What `metadata.google.internal` resolves to. */
  metadataAddress: string;
  /** Other names answered with the front end (run.googleapis.com, custom domains). */
  frontendNames?: readonly string[];
  servfailGoogleInternal?: boolean;
  /** Extra records on top of the fixed test names. */
  records?: ZoneRecord[];
  ttl?: number;
}

export interface DnsQuery {
  name: string;
  type: string;
  transport: 'udp' | 'tcp';
}

export interface UpstreamDnsKnobs {
  /** Drop every query (no answer at all): the resolver is down. */
  silent: boolean;
  /** Names (lower-case, no trailing dot) always answered with TC over UDP. */
  truncate: Set<string>;
  servfailGoogleInternal: boolean;
  /** Answer every query with SERVFAIL. */
  servfailAll: boolean;
  /** Added delay before each answer. */
  latencyMs: number;
}

export interface UpstreamDns {
  host: string;
  port: number;
  /** 'HOST:PORT' (IPv6 bracketed). */
  address: string;
  queries: DnsQuery[];
  count(predicate?: (q: DnsQuery) => boolean): number;
  knobs: UpstreamDnsKnobs;
  close(): Promise<void>;
}

const RCODE: Record<Rcode, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 };
const UDP_DEFAULT = 512;
const UDP_MAX = 1232;

export async function startUpstreamDns(opts: UpstreamDnsOptions): Promise<UpstreamDns> {
  const host = opts.host ?? '127.0.0.1';
  const knobs: UpstreamDnsKnobs = {
    silent: false,
    truncate: new Set(['big.example.test']),
    servfailGoogleInternal: opts.servfailGoogleInternal ?? false,
    servfailAll: false,
    latencyMs: 0,
  };
  const records = [...TEST_RECORDS, ...(opts.records ?? [])];
  const queries: DnsQuery[] = [];

  const respond = (msg: Buffer, transport: 'udp' | 'tcp'): Buffer | null => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    const q = query.questions?.[0];
    if (q) queries.push({ name: normalizeName(q.name), type: String(q.type), transport });
    if (knobs.silent) return null;
    const opt = query.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const base = {
      type: 'response' as const,
      id: query.id ?? 0,
      questions: query.questions ?? [],
      additionals: opt
        ? [
            {
              name: '.',
              type: 'OPT',
              udpPayloadSize: UDP_MAX,
              flags: 0,
              options: [],
            } as unknown as dnsPacket.Answer,
          ]
        : [],
    };
    const flagsFor = (rcode: Rcode, tc = false) =>
      ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
      dnsPacket.RECURSION_AVAILABLE |
      dnsPacket.AUTHORITATIVE_ANSWER |
      (tc ? dnsPacket.TRUNCATED_RESPONSE : 0) |
      RCODE[rcode];
    if (!q || knobs.servfailAll)
      return dnsPacket.encode({ ...base, flags: flagsFor(q ? 'SERVFAIL' : 'NOERROR') });
    const zone = answerQuestion(q, {
      frontendAddress: opts.frontendAddress,
      frontendAddress6: opts.frontendAddress6,
      metadataAddress: opts.metadataAddress,
      ...(opts.frontendNames ? { frontendNames: opts.frontendNames } : {}),
      servfailGoogleInternal: knobs.servfailGoogleInternal,
      records,
      ttl: opts.ttl ?? 60,
    });
    const full = dnsPacket.encode({
      ...base,
      flags: flagsFor(zone.rcode),
      answers: zone.answers,
      authorities: zone.authority,
    });
    if (transport === 'udp') {
      const limit = opt
        ? Math.min(Math.max(opt.udpPayloadSize ?? UDP_DEFAULT, UDP_DEFAULT), UDP_MAX)
        : UDP_DEFAULT;
      if (knobs.truncate.has(normalizeName(q.name)) || full.length > limit) {
        return dnsPacket.encode({ ...base, flags: flagsFor(zone.rcode, true) });
      }
    }
    return full;
  };
  const delay = () => (knobs.latencyMs > 0 ? new Promise((r) => setTimeout(r, knobs.latencyMs)) : null);

  // UDP and TCP must share a port: bind UDP (port 0 picks one), then TCP on it; retry on a clash.
  let udp: dgram.Socket | undefined;
  let tcp: net.Server | undefined;
  const family = net.isIPv6(host) ? 'udp6' : 'udp4';
  for (let attempt = 0; attempt < 20 && !tcp; attempt++) {
    udp = dgram.createSocket(family);
    await new Promise<void>((resolve, reject) => {
      udp!.once('error', reject);
      udp!.bind(opts.port ?? 0, host, () => resolve());
    });
    const port = udp.address().port;
    const server = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      tcp = server;
    } catch (err) {
      udp.close();
      if (opts.port) throw err;
    }
  }
  if (!udp || !tcp) throw new Error('emulator dns: could not bind UDP and TCP on one port');
  const port = udp.address().port;

  udp.on('message', async (msg, rinfo) => {
    const out = respond(msg, 'udp');
    if (!out) return;
    await delay();
    udp!.send(out, rinfo.port, rinfo.address, () => {});
  });
  udp.on('error', () => {});

  const conns = new Set<net.Socket>();
  tcp.on('connection', (sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    sock.on('data', async (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const out = respond(msg, 'tcp');
        if (!out) continue;
        await delay();
        const head = Buffer.alloc(2);
        head.writeUInt16BE(out.length);
        if (!sock.destroyed) sock.write(Buffer.concat([head, out]));
      }
    });
  });

  return {
    host,
    port,
    address: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    count: (predicate) => (predicate ? queries.filter(predicate).length : queries.length),
    knobs,
    close: async () => {
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((r) => udp!.close(() => r())),
        new Promise<void>((r) => tcp!.close(() => r())),
      ]);
    },
  };
}

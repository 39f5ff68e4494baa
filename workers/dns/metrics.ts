// The dns room's metrics: every name is listed in the README and grafana/metrics.txt
// (test/metrics-docs.test.ts). Label children are cached: the hot path must not build label
// objects per query.

import { RCODE, rcodeOf } from '../../src/domain/dns-answer.ts';
import {
  Counter,
  type CounterChild,
  Gauge,
  Histogram,
  type HistogramChild,
  type MetricsRegistry as Registry,
} from '../../src/room-metrics.ts';

export type Outcome =
  | 'local'
  | 'nodata'
  | 'nxdomain'
  | 'refused'
  | 'forwarded'
  | 'cache_hit'
  | 'servfail'
  | 'malformed'
  | 'notimp';

const TYPES = new Set([
  'A',
  'AAAA',
  'MX',
  'TXT',
  'SRV',
  'PTR',
  'CNAME',
  'NS',
  'SOA',
  'HTTPS',
  'SVCB',
  'CAA',
  'ANY',
]);

type UpstreamErrorReason = 'timeout' | 'servfail' | 'refused' | 'bad_reply' | 'network';
type TcpCloseReason = 'bad_length' | 'idle' | 'too_many';
const UPSTREAM_ERROR_REASONS: readonly UpstreamErrorReason[] = [
  'timeout',
  'servfail',
  'refused',
  'bad_reply',
  'network',
];
const TCP_CLOSE_REASONS: readonly TcpCloseReason[] = ['bad_length', 'idle', 'too_many'];
/** RCODE 0-5 by name, in value order (src/domain/dns-answer.ts RCODE); anything above is OTHER. */
const RCODES = [...Object.keys(RCODE), 'OTHER'];

export interface DnsMetrics {
  query(type: string, outcome: Outcome, startNs: bigint): void;
  upstreamQuery(upstream: string, transport: 'udp' | 'tcp'): void;
  upstreamError(upstream: string, reason: UpstreamErrorReason): void;
  /** One attempt at a nameserver that got a reply (UDP, or UDP then TCP when truncated). */
  upstreamReply(upstream: string, reply: Uint8Array, startNs: bigint): void;
  tcpDropped(reason: TcpCloseReason): void;
  /** A reply sent to a client (its RCODE read from the bytes). */
  response(proto: 'udp' | 'tcp', reply: Uint8Array): void;
}

/** `upstreams`: the nameservers' labels, whose counters (like every reason) start at 0, so rate()
 * sees the first error (issue 13; test/workers/dns/room.test.ts). */
export function createDnsMetrics(
  registry: Registry,
  cacheSize: () => number,
  upstreams: readonly string[] = [],
): DnsMetrics {
  const counter = (c: { name: string; help: string; labelNames: string[] }) =>
    new Counter({ ...c, registers: [registry] });
  const queries = counter({
    name: 'runsd_dns_queries_total',
    help: 'DNS queries answered, by question type and outcome',
    labelNames: ['type', 'outcome'],
  });
  const duration = new Histogram({
    name: 'runsd_dns_query_duration_seconds',
    help: 'Time from a query arriving to its reply being sent, by outcome',
    labelNames: ['outcome'],
    buckets: [
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ],
    registers: [registry],
  });
  new Gauge({
    name: 'runsd_dns_cache_entries',
    help: 'Forwarded answers held in the cache',
    registers: [registry],
    collect() {
      this.set(cacheSize());
    },
  });
  const upQueries = counter({
    name: 'runsd_dns_upstream_queries_total',
    help: 'Queries sent to the original nameservers, by upstream and transport',
    labelNames: ['upstream', 'transport'],
  });
  const upErrors = counter({
    name: 'runsd_dns_upstream_errors_total',
    help: 'Failed upstream attempts, by upstream and reason',
    labelNames: ['upstream', 'reason'],
  });
  // Like CoreDNS's coredns_forward_request_duration_seconds{to, rcode}.
  const upDuration = new Histogram({
    name: 'runsd_dns_upstream_duration_seconds',
    help: 'Time from sending a query to an original nameserver to its reply, by upstream and response code',
    labelNames: ['upstream', 'rcode'],
    buckets: [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const tcpDrops = counter({
    name: 'runsd_dns_tcp_connections_closed_total',
    help: 'TCP client connections closed by runsd, by reason',
    labelNames: ['reason'],
  });
  for (const upstream of upstreams) {
    for (const transport of ['udp', 'tcp']) upQueries.inc({ upstream, transport }, 0);
    for (const reason of UPSTREAM_ERROR_REASONS) upErrors.inc({ upstream, reason }, 0);
  }
  for (const reason of TCP_CLOSE_REASONS) tcpDrops.inc({ reason }, 0);
  // Like CoreDNS's coredns_dns_responses_total (rcode), with the transport as its requests' proto.
  const responses = counter({
    name: 'runsd_dns_responses_total',
    help: 'Replies sent to clients, by transport and response code',
    labelNames: ['proto', 'rcode'],
  });
  // Indexed [udp…, tcp…] by RCODE: no string built per reply on the hot path.
  const rChildren: CounterChild[] = [];
  for (const proto of ['udp', 'tcp'])
    for (const rcode of RCODES) rChildren.push(responses.labels(proto, rcode));
  const qChildren = new Map<string, CounterChild>();
  const hChildren = new Map<string, HistogramChild>();
  return {
    query(type, outcome, startNs) {
      const t = TYPES.has(type) ? type : 'OTHER';
      const key = `${t}|${outcome}`;
      let c = qChildren.get(key);
      if (!c) {
        c = queries.labels(t, outcome);
        qChildren.set(key, c);
      }
      c.inc();
      let h = hChildren.get(outcome);
      if (!h) {
        h = duration.labels(outcome);
        hChildren.set(outcome, h);
      }
      h.observe(Number(process.hrtime.bigint() - startNs) / 1e9);
    },
    upstreamQuery: (upstream, transport) => upQueries.inc({ upstream, transport }),
    upstreamError: (upstream, reason) => upErrors.inc({ upstream, reason }),
    upstreamReply(upstream, reply, startNs) {
      const rcode = RCODES[Math.min(rcodeOf(reply), RCODES.length - 1)] as string;
      upDuration.observe({ upstream, rcode }, Number(process.hrtime.bigint() - startNs) / 1e9);
    },
    tcpDropped: (reason) => tcpDrops.inc({ reason }),
    response(proto, reply) {
      const code = Math.min(rcodeOf(reply), RCODES.length - 1);
      rChildren[(proto === 'udp' ? 0 : RCODES.length) + code]!.inc();
    },
  };
}

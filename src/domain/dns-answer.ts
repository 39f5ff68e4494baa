// What the DNS room does with one question, and the replies it builds itself. Pure: no sockets.
// Names inside the internal zone and google.internal. are always answered here (never forwarded):
// forwarding them is what made the Go runsd slow (search-suffixed names went upstream) and broken
// (Cloud Run's resolver answers SERVFAIL for unknown *.google.internal names, which stops glibc's
// search-list walk).
import type { Answer, Packet, Question, RecordType } from 'dns-packet';
import { canonicalName, isRegion, isServiceName, labelsBelow } from './dns-names.ts';

export const GOOGLE_ZONE = 'google.internal.';
export const METADATA_NAME = 'metadata.google.internal.';
export const METADATA_IP = '169.254.169.254';

export interface ZoneOptions {
  /** Canonical internal zone, e.g. "run.internal.". */
  domain: string;
  /** Whether AAAA ::1 is served (IPv6 loopback works here). */
  ipv6: boolean;
  /** TTL of local answers (s). Short: a name could start meaning something else on a restart. */
  ttl: number;
  /** -route names (canonical, "billing.acme."): answered with loopback, also below the zone. */
  routes?: ReadonlySet<string>;
}

export type Decision =
  /** `service`: the Cloud Run service (tag stripped) a service-shaped name asks for; region null =
   * this service's own (-check_services asks whether it exists). */
  | { kind: 'answer'; zone: string; records: Answer[]; service?: { name: string; region: string | null } }
  | { kind: 'nodata'; zone: string }
  | { kind: 'nxdomain'; zone: string }
  | { kind: 'refused' }
  /** An internal name with the app's original search domain appended: NXDOMAIN, not ours to sign. */
  | { kind: 'suffixed' }
  | { kind: 'forward' };

export const DEFAULT_ZONE_TTL = 10;
const METADATA_TTL = 300;

function rr(name: string, type: RecordType, ttl: number, data: unknown): Answer {
  return { name, type, class: 'IN', ttl, data } as Answer;
}

/** The SOA that makes NXDOMAIN/NODATA cacheable (RFC 2308: negative TTL = min(TTL, MINIMUM)). */
export function zoneSoa(zone: string, ttl: number): Answer {
  const z = zone === '.' ? '' : zone.slice(0, -1);
  return rr(z, 'SOA', ttl, {
    mname: `ns.${z}`,
    rname: `hostmaster.${z}`,
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: ttl,
  });
}

function apex(zone: string, q: Question, ttl: number): Decision {
  if (q.type === 'SOA') return { kind: 'answer', zone, records: [zoneSoa(zone, ttl)] };
  return { kind: 'nodata', zone };
}

/** Classifies one question. `q.name` may have any case and may lack the trailing dot. */
export function classify(q: Question, opts: ZoneOptions): Decision {
  const name = canonicalName(q.name);
  const owner = q.name.replace(/\.$/, '');
  const inClass = q.class === undefined || q.class === 'IN';
  const type = q.type as string; // dns-packet's types omit ANY (255)

  if (opts.routes?.has(name)) return inClass ? loopback(owner, type, opts) : { kind: 'refused' };
  const g = labelsBelow(name, GOOGLE_ZONE);
  if (g !== null) {
    if (!inClass) return { kind: 'refused' };
    if (g.length === 0) return apex(GOOGLE_ZONE, q, METADATA_TTL);
    if (name === METADATA_NAME) {
      if (type === 'A' || type === 'ANY')
        return { kind: 'answer', zone: GOOGLE_ZONE, records: [rr(owner, 'A', METADATA_TTL, METADATA_IP)] };
      return { kind: 'nodata', zone: GOOGLE_ZONE };
    }
    return { kind: 'nxdomain', zone: GOOGLE_ZONE };
  }

  const zone = opts.domain;
  const labels = labelsBelow(name, zone);
  if (labels === null) {
    // `hello.us-central1.run.internal.corp.example.com.`: glibc walks the whole search list before
    // the absolute name (ndots:4), so each internal lookup would send these upstream. They only
    // ever come from that walk; answering them here keeps internal names off the upstream.
    if (containsZone(name, zone) || containsZone(name, GOOGLE_ZONE)) return { kind: 'suffixed' };
    return { kind: 'forward' };
  }
  if (!inClass) return { kind: 'refused' };
  if (labels.length === 0) return apex(zone, q, opts.ttl);
  // A route's name with the search list's REGION.<zone> or <zone> appended (glibc tries those first).
  if (opts.routes && isRouteBelow(labels, opts.routes)) return loopback(owner, type, opts);
  const [first, second] = labels;
  // REGION.<zone> has names below it: an empty non-terminal is NODATA, not NXDOMAIN (RFC 8020).
  if (labels.length === 1 && first !== undefined && isRegion(first)) return { kind: 'nodata', zone };
  // SERVICE.<zone> (no region) is what the search list `run.internal` yields while the region is not
  // known yet (metadata outage at start-up): answer it too, so the app reaches the proxy, which maps
  // it to the own region or says clearly why it cannot.
  const service =
    labels.length === 1 ? first : labels.length === 2 && second && isRegion(second) ? first : undefined;
  if (service === undefined || !isServiceName(service)) return { kind: 'nxdomain', zone };
  const d = loopback(owner, type, opts);
  if (d.kind !== 'answer') return d;
  // TAG---SERVICE: the tagged revision of SERVICE (src/domain/names.ts).
  const cut = service.indexOf('---');
  return {
    ...d,
    service: {
      name: cut < 0 ? service : service.slice(cut + 3),
      region: labels.length === 2 ? second! : null,
    },
  };
}

/** The proxy's addresses for a name runsd answers (A 127.0.0.1, AAAA ::1 when IPv6 works). */
function loopback(owner: string, type: string, opts: ZoneOptions): Decision {
  const zone = opts.domain;
  const records: Answer[] = [];
  if (type === 'A' || type === 'ANY') records.push(rr(owner, 'A', opts.ttl, '127.0.0.1'));
  if ((type === 'AAAA' || type === 'ANY') && opts.ipv6) records.push(rr(owner, 'AAAA', opts.ttl, '::1'));
  return records.length > 0 ? { kind: 'answer', zone, records } : { kind: 'nodata', zone };
}

function isRouteBelow(labels: string[], routes: ReadonlySet<string>): boolean {
  if (routes.has(`${labels.join('.')}.`)) return true;
  const last = labels[labels.length - 1];
  return (
    labels.length > 1 &&
    last !== undefined &&
    isRegion(last) &&
    routes.has(`${labels.slice(0, -1).join('.')}.`)
  );
}

/** Whether `zone`'s labels occur inside `name` (label-aligned) with more labels after them. */
function containsZone(name: string, zone: string): boolean {
  if (zone === '.') return false;
  for (let i = name.indexOf(zone); i >= 0; i = name.indexOf(zone, i + 1)) {
    if ((i === 0 || name[i - 1] === '.') && i + zone.length < name.length) return true;
  }
  return false;
}

// Header flag bits (RFC 1035 §4.1.1).
const QR = 1 << 15;
const AA = 1 << 10;
const TC = 1 << 9;
const RD = 1 << 8;
const RA = 1 << 7;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Our EDNS0 payload size (the DNS-flag-day value): big enough, small enough not to fragment. */
export const EDNS_UDP_SIZE = 1232;

function hasOpt(query: Packet): boolean {
  return (query.additionals ?? []).some((a) => a.type === 'OPT');
}

function replyBase(query: Packet, rcode: number, aa: boolean): Packet {
  const qflags = query.flags ?? 0;
  const opcode = qflags & (0xf << 11);
  const flags = opcode | (qflags & RD) | RA | (aa ? AA : 0) | rcode;
  const reply: Packet = {
    id: query.id ?? 0,
    type: 'response',
    flags: flags | QR,
    questions: query.questions ?? [],
    answers: [],
    authorities: [],
    additionals: [],
  };
  if (hasOpt(query))
    reply.additionals = [
      { type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, flags: 0, options: [] } as never,
    ];
  return reply;
}

/** The reply for a local decision (anything but 'forward'). */
export function localReply(
  query: Packet,
  d: Exclude<Decision, { kind: 'forward' }>,
  opts: ZoneOptions,
): Packet {
  switch (d.kind) {
    case 'answer': {
      const r = replyBase(query, RCODE.NOERROR, true);
      r.answers = d.records;
      return r;
    }
    case 'nodata':
    case 'nxdomain': {
      const r = replyBase(query, d.kind === 'nodata' ? RCODE.NOERROR : RCODE.NXDOMAIN, true);
      r.authorities = [zoneSoa(d.zone, d.zone === GOOGLE_ZONE ? METADATA_TTL : opts.ttl)];
      return r;
    }
    case 'refused':
      return replyBase(query, RCODE.REFUSED, false);
    case 'suffixed':
      return replyBase(query, RCODE.NXDOMAIN, false);
  }
}

/** A reply with only a header, question (when known) and rcode: FORMERR, SERVFAIL, NOTIMP. */
export function errorReply(query: Packet, rcode: number): Packet {
  return replyBase(query, rcode, false);
}

/** The RCODE of a raw message (the low 4 bits of its flags; 0 for a message shorter than that). */
export function rcodeOf(buf: Uint8Array): number {
  return (buf[3] ?? 0) & 0x0f;
}

/** Header flags of a raw message, or null when it is shorter than a header. */
export function rawFlags(buf: Uint8Array): number | null {
  return buf.length < 12 ? null : ((buf[2] ?? 0) << 8) | (buf[3] ?? 0);
}

export function isResponseFlags(flags: number): boolean {
  return (flags & QR) !== 0;
}

export function opcodeOf(flags: number): number {
  return (flags >> 11) & 0xf;
}

export function isTruncatedFlags(flags: number): boolean {
  return (flags & TC) !== 0;
}

/** A minimal TC=1 reply (header + question) telling a UDP client to retry over TCP. */
export function truncatedReply(query: Packet): Packet {
  const r = replyBase(query, RCODE.NOERROR, false);
  r.flags = (r.flags ?? 0) | TC;
  return r;
}

// The emulator's upstream DNS data: what "the Cloud Run resolver" answers for each name.
// Pure (no sockets) so the listener in dns.ts stays about transport only.
import type { Answer, Question } from 'dns-packet';

export interface ZoneRecord {
  name: string;
  type: 'A' | 'AAAA' | 'MX' | 'TXT' | 'SRV' | 'CNAME';
  // A/AAAA/CNAME: string; MX: {preference, exchange}; TXT: string | string[]; SRV: {priority, weight, port, target}
  data: unknown;
  ttl?: number;
}

export interface ZoneOptions {
  frontendAddress: string;
  frontendAddress6?: string;
  metadataAddress: string;
  /** Other names the front end serves (run.googleapis.com, custom domains). */
  frontendNames?: readonly string[];
  servfailGoogleInternal: boolean;
  records: readonly ZoneRecord[];
  ttl: number;
}

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL';

export interface ZoneAnswer {
  rcode: Rcode;
  answers: Answer[];
  authority: Answer[];
}

/** Names every emulator knows (documented in docs/emulator.md; tests rely on them). */
export const TEST_RECORDS: readonly ZoneRecord[] = [
  { name: 'example.test', type: 'A', data: '192.0.2.10' },
  { name: 'example.test', type: 'AAAA', data: '2001:db8::10' },
  { name: 'example.test', type: 'MX', data: { preference: 10, exchange: 'mail.example.test' } },
  { name: 'example.test', type: 'TXT', data: 'v=emulator hello' },
  { name: 'mail.example.test', type: 'A', data: '192.0.2.11' },
  { name: 'www.example.test', type: 'CNAME', data: 'example.test' },
  {
    name: '_http._tcp.example.test',
    type: 'SRV',
    data: { priority: 0, weight: 5, port: 8080, target: 'example.test' },
  },
  // Too big for any UDP answer (and always answered TC over UDP by default): complete only over TCP.
  ...Array.from({ length: 100 }, (_, i) => ({
    name: 'big.example.test',
    type: 'A' as const,
    data: `198.51.100.${i + 1}`,
  })),
  ...Array.from({ length: 10 }, (_, i) => ({
    name: 'big.example.test',
    type: 'TXT' as const,
    data: `record ${i} ${'x'.repeat(200)}`,
  })),
];

const SOA_ZONE = 'emulator.test';

function soa(ttl: number): Answer {
  return {
    name: SOA_ZONE,
    type: 'SOA',
    ttl,
    data: {
      mname: 'ns.emulator.test',
      rname: 'hostmaster.emulator.test',
      serial: 1,
      refresh: 3600,
      retry: 600,
      expiration: 86400,
      minimum: ttl,
    },
  } as Answer;
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function isIPv4(s: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(s);
}

/** Answers one question. */
export function answerQuestion(question: Question, opts: ZoneOptions): ZoneAnswer {
  // dns-packet's RecordType lacks 'ANY' although the wire allows it
  const q = question as { name: string; type: string; class?: string };
  const name = normalizeName(q.name);
  const ttl = opts.ttl;
  const negative = (rcode: Rcode): ZoneAnswer => ({ rcode, answers: [], authority: [soa(ttl)] });
  const addr = (v4: string | undefined, v6: string | undefined): ZoneAnswer => {
    const want = q.type === 'A' ? v4 : q.type === 'AAAA' ? v6 : undefined;
    if (q.type !== 'A' && q.type !== 'AAAA' && q.type !== 'ANY') return negative('NOERROR');
    const out: Answer[] = [];
    if (want) out.push({ name: q.name, type: q.type, ttl, data: want } as Answer);
    if (q.type === 'ANY') {
      if (v4) out.push({ name: q.name, type: 'A', ttl, data: v4 } as Answer);
      if (v6) out.push({ name: q.name, type: 'AAAA', ttl, data: v6 } as Answer);
    }
    return out.length ? { rcode: 'NOERROR', answers: out, authority: [] } : negative('NOERROR');
  };
  const split = (a: string | undefined) => ({
    v4: a && isIPv4(a) ? a : undefined,
    v6: a && !isIPv4(a) ? a : undefined,
  });

  if (name === 'run.app' || name.endsWith('.run.app') || opts.frontendNames?.includes(name)) {
    const f = split(opts.frontendAddress);
    return addr(f.v4, opts.frontendAddress6 ?? f.v6);
  }
  if (name === 'metadata.google.internal') {
    const m = split(opts.metadataAddress);
    return addr(m.v4, m.v6);
  }
  if (name.endsWith('.google.internal') || name === 'google.internal') {
    // The real Cloud Run resolver answered SERVFAIL to search-suffixed names like `x.google.internal.`
    return negative(opts.servfailGoogleInternal ? 'SERVFAIL' : 'NXDOMAIN');
  }
  const matches = opts.records.filter((r) => normalizeName(r.name) === name);
  if (matches.length === 0) return negative('NXDOMAIN');
  const cname = matches.find((r) => r.type === 'CNAME');
  if (cname && q.type !== 'CNAME') {
    const target = answerQuestion({ ...question, name: String(cname.data) }, opts);
    const head = { name: q.name, type: 'CNAME', ttl: cname.ttl ?? ttl, data: cname.data } as Answer;
    return { rcode: target.rcode, answers: [head, ...target.answers], authority: target.authority };
  }
  const hits = matches.filter((r) => q.type === 'ANY' || r.type === q.type);
  if (hits.length === 0) return negative('NOERROR');
  return {
    rcode: 'NOERROR',
    answers: hits.map((r) => ({ name: q.name, type: r.type, ttl: r.ttl ?? ttl, data: r.data }) as Answer),
    authority: [],
  };
}

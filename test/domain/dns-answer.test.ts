import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { classify, localReply, type ZoneOptions } from '../../src/domain/dns-answer.ts';
import { isRegion, isServiceName } from '../../src/domain/dns-names.ts';
import { decode } from '../helpers/dns-client.ts';

const opts: ZoneOptions = { domain: 'run.internal.', ipv6: true, ttl: 10 };
const q = (name: string, type = 'A', cls = 'IN') => ({ name, type, class: cls }) as dnsPacket.Question;

describe('classify', () => {
  const table: [string, string, string, string | null][] = [
    // name, type, kind, data of first answer
    ['hello.us-central1.run.internal.', 'A', 'answer', '127.0.0.1'],
    ['hello.us-central1.run.internal', 'A', 'answer', '127.0.0.1'],
    ['HeLLo.US-Central1.Run.Internal.', 'A', 'answer', '127.0.0.1'],
    ['hello.us-central1.run.internal.', 'AAAA', 'answer', '::1'],
    ['my-svc-2.europe-west4.run.internal.', 'A', 'answer', '127.0.0.1'],
    ['a.me-central2.run.internal.', 'A', 'answer', '127.0.0.1'],
    ['hello.northamerica-northeast1.run.internal.', 'A', 'answer', '127.0.0.1'],
    ['hello.us-central1.run.internal.', 'MX', 'nodata', null],
    ['hello.us-central1.run.internal.', 'TXT', 'nodata', null],
    ['hello.us-central1.run.internal.', 'SRV', 'nodata', null],
    ['hello.us-central1.run.internal.', 'HTTPS', 'nodata', null],
    ['us-central1.run.internal.', 'A', 'nodata', null],
    ['run.internal.', 'A', 'nodata', null],
    ['run.internal.', 'SOA', 'answer', null],
    // SERVICE.<zone>: the search list while the region is unknown (metadata outage at start-up).
    ['hello.run.internal.', 'A', 'answer', '127.0.0.1'],
    ['hello.run.internal.', 'MX', 'nodata', null],
    // Search-suffixed and badly shaped names inside the zone: NXDOMAIN, never forwarded.
    ['hello.us-central1.us-central1.run.internal.', 'A', 'nxdomain', null],
    ['api.example.com.us-central1.run.internal.', 'A', 'nxdomain', null],
    ['api.example.com.us-central1.run.internal.', 'AAAA', 'nxdomain', null],
    ['api.example.com.run.internal.', 'A', 'nxdomain', null],
    ['metadata.google.internal.us-central1.run.internal.', 'A', 'nxdomain', null],
    ['1hello.us-central1.run.internal.', 'A', 'nxdomain', null],
    ['-hello.us-central1.run.internal.', 'A', 'nxdomain', null],
    ['hello-.us-central1.run.internal.', 'A', 'nxdomain', null],
    ['hel_lo.us-central1.run.internal.', 'A', 'nxdomain', null],
    [`${'a'.repeat(64)}.us-central1.run.internal.`, 'A', 'nxdomain', null],
    ['hello.uscentral1.run.internal.', 'A', 'nxdomain', null],
    ['hello.us-central.run.internal.', 'A', 'nxdomain', null],
    ['hello.us-central1-a.run.internal.', 'A', 'nxdomain', null],
    ['hello.us-central1.run.internal.', 'A', 'answer', '127.0.0.1'],
    // google.internal.
    ['metadata.google.internal.', 'A', 'answer', '169.254.169.254'],
    ['Metadata.Google.Internal', 'A', 'answer', '169.254.169.254'],
    ['metadata.google.internal.', 'AAAA', 'nodata', null],
    ['metadata.google.internal.', 'MX', 'nodata', null],
    ['google.internal.', 'A', 'nodata', null],
    ['api.example.com.google.internal.', 'A', 'nxdomain', null],
    ['foo.google.internal.', 'A', 'nxdomain', null],
    ['x.metadata.google.internal.', 'A', 'nxdomain', null],
    ['_grpc._tcp.hello.google.internal.', 'SRV', 'nxdomain', null],
    // Internal names with the original search domain appended: never upstream.
    ['hello.us-central1.run.internal.corp.example.com.', 'A', 'suffixed', null],
    ['hello.us-central1.run.internal.corp.example.com.', 'AAAA', 'suffixed', null],
    ['metadata.google.internal.c.my-project.internal.', 'A', 'suffixed', null],
    ['run.internal.example.com.', 'A', 'suffixed', null],
    ['xrun.internal.example.com.', 'A', 'forward', null],
    ['run.internals.example.com.', 'A', 'forward', null],
    // Everything else is forwarded.
    ['example.com.', 'A', 'forward', null],
    ['example.com.', 'MX', 'forward', null],
    ['_sip._tcp.example.com.', 'SRV', 'forward', null],
    ['hello.', 'A', 'forward', null],
    ['internal.', 'A', 'forward', null],
    ['run.app.', 'A', 'forward', null],
    ['hello-123.us-central1.run.app.', 'A', 'forward', null],
    ['notrun.internal.', 'A', 'forward', null],
    ['xgoogle.internal.', 'A', 'forward', null],
    ['.', 'NS', 'forward', null],
    ['1.0.0.127.in-addr.arpa.', 'PTR', 'forward', null],
  ];
  for (const [name, type, kind, data] of table) {
    it(`${name} ${type} → ${kind}`, () => {
      const d = classify(q(name, type), opts);
      assert.equal(d.kind, kind);
      if (data !== null && d.kind === 'answer') {
        assert.equal((d.records[0] as { data?: unknown } | undefined)?.data, data);
        assert.equal(d.records[0]?.name, name.replace(/\.$/, ''), 'owner keeps the question case');
      }
    });
  }

  it('without IPv6, AAAA for a service is NODATA', () => {
    assert.equal(
      classify(q('hello.us-central1.run.internal.', 'AAAA'), { ...opts, ipv6: false }).kind,
      'nodata',
    );
  });
  it('ANY for a service gives A and AAAA', () => {
    const d = classify(q('hello.us-central1.run.internal.', 'ANY'), opts);
    assert.equal(d.kind, 'answer');
    assert.deepEqual(d.kind === 'answer' && d.records.map((r) => r.type), ['A', 'AAAA']);
  });
  it('another class inside the zones is refused, outside forwarded', () => {
    assert.equal(classify(q('hello.us-central1.run.internal.', 'A', 'CH'), opts).kind, 'refused');
    assert.equal(classify(q('metadata.google.internal.', 'A', 'CH'), opts).kind, 'refused');
    assert.equal(classify(q('version.bind.', 'TXT', 'CH'), opts).kind, 'forward');
  });
  it('honours another -domain', () => {
    const o = { ...opts, domain: 'svc.corp.' };
    assert.equal(classify(q('hello.us-east1.svc.corp.'), o).kind, 'answer');
    assert.equal(classify(q('hello.us-east1.run.internal.'), o).kind, 'forward');
    assert.equal(classify(q('a.b.us-east1.svc.corp.'), o).kind, 'nxdomain');
  });
});

describe('names', () => {
  it('regions by shape', () => {
    for (const r of [
      'us-central1',
      'europe-west4',
      'asia-northeast3',
      'me-central2',
      'northamerica-northeast1',
      'africa-south1',
    ])
      assert.ok(isRegion(r), r);
    for (const r of [
      'us',
      'uscentral1',
      'us-central',
      'us-central1-a',
      'US-CENTRAL1',
      'us-c-1',
      '1us-central1',
    ])
      assert.ok(!isRegion(r), r);
  });
  it('service names by Cloud Run rules', () => {
    for (const s of ['a', 'hello', 'hello-world', 'h3llo', 'a'.repeat(49), 'a'.repeat(63)])
      assert.ok(isServiceName(s), s);
    for (const s of ['', '1a', '-a', 'a-', 'a_b', 'A', 'a.b', 'a'.repeat(64)])
      assert.ok(!isServiceName(s), s);
  });
});

describe('localReply', () => {
  const query = (name: string, type: string, edns = false): dnsPacket.Packet => ({
    id: 4242,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [q(name, type)],
    additionals: edns
      ? [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0, options: [] } as never]
      : [],
  });
  it('answers A authoritatively, keeping ID, RD and the question case', () => {
    const qp = query('Hello.Us-Central1.Run.Internal', 'A');
    const d = classify(qp.questions![0]!, opts);
    assert.ok(d.kind !== 'forward');
    const r = decode(dnsPacket.encode(localReply(qp, d, opts)));
    assert.equal(r.id, 4242);
    assert.equal(r.rcode, 'NOERROR');
    assert.ok(r.flag_aa && r.flag_rd && r.flag_qr);
    assert.equal(r.questions[0]?.name, 'Hello.Us-Central1.Run.Internal');
    assert.equal(r.answers[0]?.data, '127.0.0.1');
    assert.equal(r.answers[0]?.ttl, 10);
    assert.equal(r.additionals.length, 0, 'no OPT without one in the query');
  });
  it('NXDOMAIN and NODATA carry the zone SOA; OPT echoed when asked', () => {
    for (const [name, type, rcode] of [
      ['x.y.us-central1.run.internal.', 'A', 'NXDOMAIN'],
      ['hello.us-central1.run.internal.', 'MX', 'NOERROR'],
      ['foo.google.internal.', 'A', 'NXDOMAIN'],
    ] as const) {
      const qp = query(name, type, true);
      const d = classify(qp.questions![0]!, opts);
      assert.ok(d.kind !== 'forward');
      const r = decode(dnsPacket.encode(localReply(qp, d, opts)));
      assert.equal(r.rcode, rcode);
      assert.equal(r.answers.length, 0);
      assert.equal(r.authorities[0]?.type, 'SOA');
      assert.equal(r.additionals[0]?.type, 'OPT');
    }
  });
});

describe('classify: -route names', () => {
  const routed: ZoneOptions = { ...opts, routes: new Set(['billing.', 'pay.acme.']) };
  const table: [string, string, string][] = [
    ['pay.acme.', 'A', 'answer'],
    ['PAY.ACME', 'AAAA', 'answer'],
    ['pay.acme.', 'MX', 'nodata'],
    // what glibc asks first with the search list REGION.run.internal run.internal
    ['pay.acme.us-central1.run.internal.', 'A', 'answer'],
    ['pay.acme.run.internal.', 'A', 'answer'],
    ['billing.us-central1.run.internal.', 'A', 'answer'],
    ['x.pay.acme.run.internal.', 'A', 'nxdomain'],
    ['acme.', 'A', 'forward'],
    ['x.pay.acme.', 'A', 'forward'],
  ];
  for (const [name, type, kind] of table)
    it(`${name} ${type} → ${kind}`, () => {
      const d = classify(q(name, type), routed);
      assert.equal(d.kind, kind);
      if (d.kind === 'answer')
        assert.equal(
          (d.records[0] as { data?: unknown } | undefined)?.data,
          type === 'A' ? '127.0.0.1' : '::1',
        );
    });
  it('without routes, a dotted name is forwarded', () => {
    assert.equal(classify(q('pay.acme.'), opts).kind, 'forward');
  });
});

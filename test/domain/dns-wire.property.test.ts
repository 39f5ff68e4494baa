// Property tests (fast-check) for the raw-wire helpers (src/domain/dns-wire.ts): on arbitrary bytes
// (random, mutated messages, compression loops, huge counts) they never throw, always stop, and only
// point inside the buffer, and countsFit refuses only malformed messages; on well-formed messages built by dns-packet they find exactly the TTLs,
// the question name and the EDNS option they are meant to. Seeded, modest run counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import {
  ageTtls,
  countsFit,
  questionNameSpan,
  readId,
  skipName,
  stripEdnsOption,
  ttlOffsets,
  writeId,
} from '../../src/domain/dns-wire.ts';

const RUNS = {
  numRuns: Number(process.env['FC_RUNS'] ?? 1000),
  seed: Number(process.env['FC_SEED'] ?? 53),
};

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const name = fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.'));
const ttl = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const record = fc.oneof(
  fc.record({ name, type: fc.constant('A'), ttl, data: fc.ipV4() }),
  fc.record({ name, type: fc.constant('AAAA'), ttl, data: fc.constant('2001:db8::1') }),
  fc.record({ name, type: fc.constant('CNAME'), ttl, data: name }),
  fc.record({ name, type: fc.constant('TXT'), ttl, data: fc.string({ maxLength: 40 }) }),
  fc.record({
    name,
    type: fc.constant('MX'),
    ttl,
    data: fc.record({ preference: fc.integer({ min: 0, max: 65535 }), exchange: name }),
  }),
);
const option = fc.record({
  code: fc.constantFrom(3, 10, 12, 65001), // not 8 (ECS): dns-packet cannot decode an empty one
  data: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
});
/** A well-formed message: a question, records in every section, maybe an OPT with options. */
const message = fc
  .record({
    id: fc.integer({ min: 0, max: 65535 }),
    response: fc.boolean(),
    q: name,
    qtype: fc.constantFrom('A', 'AAAA', 'MX', 'TXT', 'SRV'),
    answers: fc.array(record, { maxLength: 4 }),
    authorities: fc.array(record, { maxLength: 2 }),
    additionals: fc.array(record, { maxLength: 2 }),
    opt: fc.option(fc.array(option, { maxLength: 4 })),
  })
  .map((m) => {
    const additionals: dnsPacket.Answer[] = [...(m.additionals as dnsPacket.Answer[])];
    if (m.opt !== null)
      additionals.push({ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: m.opt } as never);
    const p: dnsPacket.Packet = {
      id: m.id,
      type: m.response ? 'response' : 'query',
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: m.q, type: m.qtype as 'A', class: 'IN' }],
      answers: m.answers as dnsPacket.Answer[],
      authorities: m.authorities as dnsPacket.Answer[],
      additionals,
    };
    return {
      packet: p,
      wire: dnsPacket.encode(p),
      records: m.answers.length + m.authorities.length + m.additionals.length,
    };
  });

/** Arbitrary input: random bytes, mutated/truncated messages, pointer loops, huge section counts. */
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .tuple(
      message,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
    )
    .map(([m, edits, cut]) => {
      const b = new Uint8Array(m.wire);
      for (const [at, v] of edits) b[at % b.length] = v;
      return cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
    }),
  fc
    .tuple(message, fc.integer({ min: 4, max: 10 }), fc.constantFrom(0xffff, 0x8000, 2, 1))
    .map(([m, at, v]) => {
      const b = new Uint8Array(m.wire);
      b[at] = v >> 8;
      b[at + 1] = v & 0xff;
      return b;
    }),
  // A name that is a pointer to itself, or two pointers to each other.
  fc.constantFrom(
    Uint8Array.from([
      0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 0,
    ]),
    Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1]),
  ),
);

/** dns-packet decodes the message without reading past its end. */
function withinBuffer(buf: Uint8Array): boolean {
  try {
    dnsPacket.decode(Buffer.from(buf));
  } catch {
    return false;
  }
  return (dnsPacket.decode as unknown as { bytes: number }).bytes <= buf.length;
}

test('on arbitrary bytes: never throws, stops, and every offset it returns lies inside the buffer', () => {
  fc.assert(
    fc.property(bytes, fc.nat({ max: 700 }), (buf, off) => {
      const end = skipName(buf, off);
      assert.ok(end === -1 || (end > off && end <= buf.length), `skipName ${end}`);
      const span = questionNameSpan(buf);
      if (span) {
        assert.equal(span[0], 12);
        assert.ok(span[1] > 12 && span[1] + 4 <= buf.length);
      }
      const ttls = ttlOffsets(buf);
      if (ttls) {
        for (const [i, o] of ttls.entries()) {
          assert.ok(o >= 12 && o + 4 <= buf.length, `ttl offset ${o}`);
          if (i > 0) assert.ok(o > (ttls[i - 1] as number));
        }
        const copy = Uint8Array.from(buf);
        ageTtls(copy, ttls, 7);
        assert.equal(copy.length, buf.length);
        const inTtl = (j: number) => ttls.some((o) => j >= o && j < o + 4);
        for (let j = 0; j < buf.length; j++) if (!inTtl(j)) assert.equal(copy[j], buf[j], `byte ${j} kept`);
      }
      const stripped = stripEdnsOption(buf, 10);
      assert.ok(stripped === null || stripped === buf || stripped.length < buf.length);
      // countsFit refuses only malformed messages: dns-packet throws on them or reads past the end.
      if (!countsFit(buf)) assert.ok(!withinBuffer(buf), 'countsFit refused a decodable message');
      const c = Uint8Array.from(buf);
      if (c.length >= 2) {
        writeId(c, 0xbeef);
        assert.equal(readId(c), 0xbeef);
        assert.deepEqual(c.subarray(2), buf.subarray(2));
      }
    }),
    RUNS,
  );
});

test('on well-formed messages: every TTL but OPT found and aged, the question name spanned, only the COOKIE stripped', () => {
  fc.assert(
    fc.property(message, fc.nat({ max: 100_000 }), ({ packet, wire, records }, elapsed) => {
      assert.ok(countsFit(wire), 'the counts of a well-formed message fit');
      const ttls = ttlOffsets(wire);
      assert.ok(ttls, 'a well-formed message parses');
      assert.equal(ttls.length, records, 'one TTL per record, OPT excluded');
      const aged = Buffer.from(wire);
      ageTtls(aged, ttls, elapsed);
      const d = dnsPacket.decode(aged);
      const before = dnsPacket.decode(wire);
      const rrs = (p: dnsPacket.DecodedPacket) =>
        [...(p.answers ?? []), ...(p.authorities ?? []), ...(p.additionals ?? [])].filter(
          (r) => r.type !== 'OPT',
        );
      assert.deepEqual(
        rrs(d).map((r) => (r as { ttl: number }).ttl),
        rrs(before).map((r) => Math.max(0, ((r as { ttl: number }).ttl ?? 0) - elapsed)),
      );
      const span = questionNameSpan(wire);
      assert.ok(span);
      assert.equal(span[1] - span[0], (packet.questions?.[0]?.name.length ?? 0) + 2, 'labels + root');
      const stripped = stripEdnsOption(wire, 10);
      assert.ok(stripped);
      const opt = (p: dnsPacket.DecodedPacket) =>
        (
          p.additionals?.find((r) => r.type === 'OPT') as { options?: { code: number }[] } | undefined
        )?.options?.map((o) => o.code);
      const s = dnsPacket.decode(Buffer.from(stripped));
      assert.deepEqual(
        opt(s),
        opt(before)?.filter((c) => c !== 10),
      );
      assert.deepEqual(s.answers, before.answers);
      assert.deepEqual(s.questions, before.questions);
      if (!opt(before)?.includes(10)) assert.equal(stripped, wire, 'nothing to strip: the same buffer');
    }),
    RUNS,
  );
});

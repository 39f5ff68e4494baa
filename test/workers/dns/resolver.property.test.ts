// Property test (fast-check) for the dns room's handler (workers/dns/resolver.ts, as core.ts wires
// it, forwarding to the emulator's DNS on loopback): arbitrary bytes and mutated queries, over
// "udp" and "tcp", never make handle() throw or its promise reject; the reply is null exactly for
// input too short for a header or a response (QR=1), and otherwise a DNS message dns-packet can
// decode, with QR set, carrying the query's ID. Seeded, modest run count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { startUpstreamDns } from '../../../src/emulator/dns.ts';
import { MetricsRegistry as Registry } from '../../../src/room-metrics.ts';
import { buildDnsCore } from '../../../workers/dns/core.ts';
import { encodeQuery } from '../../helpers/dns-client.ts';
import { baseDnsSettings } from '../../helpers/dns-settings.ts';

const RUNS = {
  numRuns: Number(process.env['FC_RUNS'] ?? 400),
  seed: Number(process.env['FC_SEED'] ?? 5),
};

const qname = fc.oneof(
  fc.constantFrom(
    'hello.us-central1.run.internal',
    'HeLLo.run.internal',
    'us-central1.run.internal',
    'api.example.com.us-central1.run.internal',
    'metadata.google.internal',
    'x.google.internal',
    'hello.us-central1.run.internal.corp.example.com',
    'example.test',
    'www.example.test',
    'big.example.test',
    'nowhere.invalid',
  ),
  fc.array(fc.stringMatching(/^[a-z0-9-]{1,20}$/), { minLength: 1, maxLength: 5 }).map((l) => l.join('.')),
);
const query = fc
  .tuple(
    qname,
    fc.constantFrom('A', 'AAAA', 'MX', 'TXT', 'SRV', 'SOA', 'ANY', 'HTTPS', 'PTR'),
    fc.option(fc.constantFrom(512, 1232, 4096)),
    fc.boolean(),
  )
  .map(([n, t, edns, cookie]) =>
    encodeQuery(n, t, {
      ...(edns === null ? {} : { edns }),
      ...(edns !== null && cookie ? { ednsOptions: [{ code: 10, data: Buffer.alloc(8, 7) }] } : {}),
    }),
  );
const input = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  query,
  fc
    .tuple(query, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }), fc.nat())
    .map(([q, edits, cut]) => {
      const b = Buffer.from(q);
      for (const [at, v] of edits) b[at % b.length] = v;
      return cut % 3 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
    }),
  fc.tuple(query, fc.integer({ min: 0, max: 3 }), fc.constantFrom(0, 2, 0xffff)).map(([q, s, v]) => {
    const b = Buffer.from(q);
    b.writeUInt16BE(v, 4 + 2 * s); // section counts
    return b;
  }),
);

test('the handler: any bytes in, null or a decodable response with the same ID out; never throws', async (t) => {
  const up = await startUpstreamDns({ frontendAddress: '127.0.0.3', metadataAddress: '127.0.0.4' });
  t.after(() => up.close());
  const core = buildDnsCore(
    { ...baseDnsSettings({ upstreams: [up.address] }), attemptMs: 50, totalMs: 100, threads: 1 },
    new Registry(),
  );
  t.after(() => core.forwarder.close());
  await fc.assert(
    fc.asyncProperty(input, fc.constantFrom('udp', 'tcp'), async (msg, transport) => {
      const before = Buffer.from(msg);
      const reply = await core.resolver.handle(msg, transport as 'udp' | 'tcp');
      const dropped = msg.length < 12 || ((msg[2] ?? 0) & 0x80) !== 0;
      if (dropped) {
        assert.equal(reply, null, 'too short or a response: dropped');
        return;
      }
      assert.ok(reply, 'a query gets a reply');
      assert.ok(reply.length >= 12);
      assert.equal(reply.readUInt16BE(0), before.readUInt16BE(0), 'the ID is copied');
      assert.ok(((reply[2] ?? 0) & 0x80) !== 0, 'QR set');
      const d = dnsPacket.decode(reply);
      assert.equal(d.type, 'response');
      if (transport === 'udp') assert.ok(reply.length <= 4096);
    }),
    RUNS,
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { cacheKey, cacheTtl, clientUdpLimit } from '../../src/domain/dns-cache-policy.ts';
import { ageTtls, questionNameSpan, stripEdnsOption, ttlOffsets } from '../../src/domain/dns-wire.ts';
import { parseNameserver } from '../../src/domain/nameserver.ts';
import { decode, encodeQuery } from '../helpers/dns-client.ts';

const reply = (p: Partial<dnsPacket.Packet>) =>
  ({
    id: 1,
    type: 'response',
    questions: [{ name: 'x.test', type: 'A', class: 'IN' }],
    ...p,
  }) as dnsPacket.Packet;
const soa = (ttl: number, minimum: number) =>
  ({
    name: 'test',
    type: 'SOA',
    ttl,
    data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
  }) as dnsPacket.Answer;
const a = (ttl: number) => ({ name: 'x.test', type: 'A', ttl, data: '192.0.2.1' }) as dnsPacket.Answer;

test('cacheTtl: positive min TTL, negative per RFC 2308, errors and TC never', () => {
  const table: [string, dnsPacket.Packet, number][] = [
    ['positive', reply({ flags: 0, answers: [a(300), a(60)] }), 60],
    ['positive capped', reply({ flags: 0, answers: [a(86400 * 7)] }), 3600],
    ['ttl 0', reply({ flags: 0, answers: [a(0)] }), 0],
    ['nxdomain min(soa ttl, minimum)', reply({ flags: 3, authorities: [soa(900, 30)] }), 30],
    ['nxdomain soa ttl lower', reply({ flags: 3, authorities: [soa(20, 300)] }), 20],
    ['nodata', reply({ flags: 0, authorities: [soa(600, 120)] }), 120],
    ['nxdomain without SOA', reply({ flags: 3 }), 0],
    ['servfail', reply({ flags: 2, answers: [a(300)] }), 0],
    ['refused', reply({ flags: 5 }), 0],
    ['truncated', reply({ flags: 1 << 9, answers: [a(300)] }), 0],
  ];
  for (const [what, p, want] of table)
    assert.equal(cacheTtl(dnsPacket.decode(dnsPacket.encode(p))), want, what);
});

test('cacheKey folds case and separates types, EDNS presence and DO', () => {
  const k = (name: string, type = 'A', edns?: number) =>
    cacheKey(dnsPacket.decode(encodeQuery(name, type, { edns })));
  assert.equal(k('Example.TEST'), k('example.test.'));
  assert.notEqual(k('example.test'), k('example.test', 'AAAA'));
  assert.notEqual(k('example.test'), k('example.test', 'A', 1232));
  assert.equal(clientUdpLimit(dnsPacket.decode(encodeQuery('x', 'A'))), 512);
  assert.equal(clientUdpLimit(dnsPacket.decode(encodeQuery('x', 'A', { edns: 1232 }))), 1232);
  assert.equal(clientUdpLimit(dnsPacket.decode(encodeQuery('x', 'A', { edns: 100 }))), 512);
});

test('ttlOffsets and ageTtls rewrite every TTL but OPT', () => {
  const p = reply({
    flags: 0,
    answers: [a(300), a(60)],
    authorities: [soa(100, 10)],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0x8000, options: [] } as never],
  });
  const wire = dnsPacket.encode(p);
  const offs = ttlOffsets(wire);
  assert.equal(offs?.length, 3);
  ageTtls(wire, offs ?? [], 70);
  const d = decode(wire);
  assert.deepEqual(
    [...d.answers, ...d.authorities].map((r) => r.ttl),
    [230, 0, 30],
  );
  assert.equal(d.additionals[0]?.type, 'OPT');
  assert.equal(ttlOffsets(wire.subarray(0, wire.length - 3)), null, 'truncated message');
  assert.deepEqual(questionNameSpan(wire), [12, 12 + 8]);
});

test('stripEdnsOption removes only the given option', () => {
  const q = encodeQuery('x.test', 'A', {
    edns: 1232,
    ednsOptions: [
      { code: 10, data: Buffer.alloc(8, 1) },
      { code: 65001, data: Buffer.from('keep') },
    ],
  });
  const out = stripEdnsOption(q, 10);
  assert.ok(out);
  assert.deepEqual(
    decode(out).additionals[0]?.options?.map((o) => o.code),
    [65001],
  );
  assert.equal(stripEdnsOption(encodeQuery('x.test'), 10)?.length, encodeQuery('x.test').length);
  assert.equal(stripEdnsOption(q.subarray(0, q.length - 2), 10), null);
});

test('parseNameserver', () => {
  const table: [string, string | null][] = [
    ['10.0.0.2', '10.0.0.2:53'],
    ['127.0.0.1:5353', '127.0.0.1:5353'],
    ['::1', '[::1]:53'],
    ['[::1]:5300', '[::1]:5300'],
    ['fd00::a', '[fd00::a]:53'],
    ['[0:0:0:0::1]:5300', '[::1]:5300'],
    ['FD00:0::A', '[fd00::a]:53'],
    ['10.0.0.2:0', null],
    ['10.0.0.2:70000', null],
    ['dns.google', null],
    ['', null],
  ];
  for (const [text, label] of table) assert.equal(parseNameserver(text)?.label ?? null, label, text);
});

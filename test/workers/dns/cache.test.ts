import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { AnswerCache } from '../../../workers/dns/cache.ts';
import { decode, encodeQuery } from '../../helpers/dns-client.ts';

const answer = (name: string, ttl: number) =>
  dnsPacket.encode({
    id: 999,
    type: 'response',
    flags: 0x8180,
    questions: [{ name, type: 'A', class: 'IN' }],
    answers: [{ name, type: 'A', ttl, data: '192.0.2.1' }],
  });

test('entries expire with their TTL and are served with aged TTLs, the asker ID and case', () => {
  let now = 1_000_000;
  const c = new AnswerCache(10, () => now);
  c.set('k', answer('example.test', 5), 5);
  now += 2_500;
  const hit = c.get('k', encodeQuery('EXAMPLE.Test', 'A', { id: 77 }));
  assert.ok(hit);
  const d = decode(hit);
  assert.equal(d.id, 77);
  assert.equal(d.questions[0]?.name, 'EXAMPLE.Test');
  assert.equal(d.answers[0]?.ttl, 3);
  now += 2_500;
  assert.equal(c.get('k', encodeQuery('example.test')), null, 'expired');
  assert.equal(c.size, 0);
});

test('bounded: the least recently used entry goes first; TTL 0 is not stored', () => {
  const c = new AnswerCache(2);
  c.set('a', answer('a.test', 60), 60);
  c.set('b', answer('b.test', 60), 60);
  assert.ok(c.get('a', encodeQuery('a.test')), 'touch a');
  c.set('c', answer('c.test', 60), 60);
  assert.equal(c.size, 2);
  assert.equal(c.get('b', encodeQuery('b.test')), null, 'b was least recently used');
  assert.ok(c.get('a', encodeQuery('a.test')));
  c.set('z', answer('z.test', 0), 0);
  assert.equal(c.get('z', encodeQuery('z.test')), null);
});

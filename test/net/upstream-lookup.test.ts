import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startUpstreamDns } from '../../src/emulator/dns.ts';
import { createUpstreamLookup } from '../../src/net/upstream-lookup.ts';

test('runsd lookups ask the original nameserver directly, once per TTL, with no search suffixes', async (t) => {
  const up = await startUpstreamDns({ frontendAddress: '127.0.0.3', metadataAddress: '127.0.0.4' });
  t.after(() => up.close());
  const lookup = createUpstreamLookup([up.address]);
  const plookup = promisify(lookup) as unknown as (h: string, o: object) => Promise<unknown>;
  assert.deepEqual(await plookup('hello-123.us-central1.run.app', { all: true }), [
    { address: '127.0.0.3', family: 4 },
  ]);
  assert.deepEqual(await plookup('metadata.google.internal.', { family: 4 }), '127.0.0.4');
  await assert.rejects(plookup('nope.example.test', {}), { code: 'ENOTFOUND' });
  assert.equal(await plookup('127.0.0.9', {}), '127.0.0.9', 'literals need no query');
  const before = up.count();
  assert.deepEqual(await plookup('HELLO-123.us-central1.run.app', { all: true }), [
    { address: '127.0.0.3', family: 4 },
  ]);
  assert.equal(up.count(), before, 'second lookup served from the cache');
  assert.equal(
    up.count((q) => q.name.endsWith('.internal') && q.name !== 'metadata.google.internal'),
    0,
  );
  assert.deepEqual(
    up.queries
      .filter((q) => q.name.startsWith('hello-123'))
      .map((q) => q.type)
      .sort(),
    ['A', 'AAAA'],
  );

  // Works as net.connect's lookup (which asks with all: true for happy eyeballs).
  const server = createServer((s) => s.end('hi'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.3', () => r()));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const text = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: 'hello-123.us-central1.run.app', port, lookup });
    let data = '';
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
  assert.equal(text, 'hi');
});

test('nameservers with ports, IPv6 brackets; a bad one is rejected', () => {
  assert.doesNotThrow(() => createUpstreamLookup(['127.0.0.1:5353', '[::1]:53', '10.0.0.2']));
  assert.throws(() => createUpstreamLookup(['not-an-ip']));
});

// The pool keeps one entry per service host; entries that hold no connection are dropped past a
// bound, so an app calling many (or mistyped) names cannot grow it forever.
import assert from 'node:assert/strict';
import type { LookupFunction } from 'node:net';
import { test } from 'node:test';
import tls from 'node:tls';
import { UpstreamPool } from '../../../workers/proxy/upstream-pool.ts';

test('entries without a connection are pruned past the bound', async () => {
  // Every name fails to resolve at once: no traffic leaves the process.
  const lookup = ((host: string, _opts: unknown, cb: (err: Error | null) => void) => {
    const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    process.nextTick(() => cb(err));
  }) as unknown as LookupFunction;
  const pool = new UpstreamPool({
    port: 443,
    lookup,
    secureContext: () => tls.createSecureContext(),
    connectTimeoutMs: 1000,
  });
  let failures = 0;
  for (let i = 0; i < 2500; i++) {
    try {
      await pool.get(`svc${i}-123.us-central1.run.app`);
    } catch {
      failures++;
    }
  }
  assert.equal(failures, 2500);
  assert.ok(pool.size <= 1025, `pool holds ${pool.size} entries`);
  await pool.close();
});

// The Admin API client (workers/token/admin-api.ts) against the emulator's front end on loopback:
// every page followed, the access token from the metadata server sent (and cached), a 403 a
// refusal, anything unreachable "unavailable" — never a throw.
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { test } from 'node:test';
import { startFrontend } from '../../../src/emulator/frontend.ts';
import { createAdminApi } from '../../../workers/token/admin-api.ts';
import type { MetadataClient } from '../../../workers/token/metadata-client.ts';

const toLoopback = ((_h: string, o: unknown, cb?: unknown) => {
  const done = (typeof o === 'function' ? o : cb) as (
    e: null,
    a: string | LookupAddress[],
    f?: number,
  ) => void;
  if (typeof o === 'object' && o !== null && (o as { all?: boolean }).all)
    done(null, [{ address: '127.0.0.1', family: 4 }]);
  else done(null, '127.0.0.1', 4);
}) as never;

function fakeMetadata(): MetadataClient & { tokenCalls: number } {
  const m = {
    tokenCalls: 0,
    origin: 'http://fake',
    async get(path: string) {
      assert.equal(path, 'instance/service-accounts/default/token');
      m.tokenCalls++;
      return JSON.stringify({
        access_token: `ya29.test-${m.tokenCalls}`,
        expires_in: 3599,
        token_type: 'Bearer',
      });
    },
    async identity() {
      throw new Error('not used');
    },
    close() {},
  };
  return m;
}

test('lists every page of a region; 403 is a refusal; no server is "unavailable"', async (t) => {
  const fe = await startFrontend({
    projectNumber: '123',
    services: [
      { name: 'a' },
      { name: 'b' },
      { name: 'c', regions: ['europe-west1'] },
      { name: 'd' },
      { name: 'e' },
    ],
    regions: ['us-central1', 'europe-west1'],
  });
  t.after(() => fe.close());
  const metadata = fakeMetadata();
  const api = createAdminApi({ metadata, upstreams: [], port: fe.port, ca: fe.caPem, lookup: toLoopback });
  t.after(() => api.close());
  assert.deepEqual(await api.list('123', 'us-central1'), { kind: 'ok', names: ['a', 'b', 'd', 'e'] });
  assert.equal(fe.stats().adminListCalls['us-central1'], 2, 'two pages of at most 2');
  assert.deepEqual(await api.list('123', 'europe-west1'), { kind: 'ok', names: ['a', 'b', 'c', 'd', 'e'] });
  assert.deepEqual(await api.list('123', 'asia-east1'), { kind: 'ok', names: [] });
  assert.equal(metadata.tokenCalls, 1, 'one access token for every call');
  const other = await api.list('999', 'us-central1');
  assert.equal(other.kind, 'refused');
  fe.knobs.adminApiForbidden = true;
  const refused = await api.list('123', 'us-central1');
  assert.deepEqual(refused, {
    kind: 'refused',
    status: 403,
    message:
      "Permission 'run.services.list' denied on resource 'projects/123/locations/us-central1' (or it may not exist).",
  });
  fe.knobs.adminApiForbidden = false;
  const down = createAdminApi({
    metadata,
    upstreams: [],
    port: 1,
    ca: fe.caPem,
    lookup: toLoopback,
    timeoutMs: 2000,
  });
  t.after(() => down.close());
  const r = await down.list('123', 'us-central1');
  assert.equal(r.kind, 'unavailable');
  assert.equal(r.kind === 'unavailable' && r.status, null);
  assert.match(r.kind === 'unavailable' ? r.message : '', /ECONNREFUSED/);
});

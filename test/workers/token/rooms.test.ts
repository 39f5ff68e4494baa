// The token room started by the supervisor's own Rooms class: READY info, facts() and metrics over
// the control port exactly as the supervisor calls them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startMetadataServer } from '../../../src/emulator/metadata.ts';
import { createLogger } from '../../../src/log.ts';
import type { Facts } from '../../../src/protocol.ts';
import { Rooms } from '../../../src/supervisor/rooms.ts';
import { TOKEN_WORKER, tokenSettings } from './room-harness.ts';

test('supervisor Rooms: token room READY, facts() and its metrics on the control port', async (t) => {
  const meta = await startMetadataServer({ projectNumber: '42', region: 'asia-northeast1', projectId: 'p' });
  t.after(() => meta.close());
  const log = createLogger({ verbosity: 0, format: 'text', write: () => {} });
  const rooms = new Rooms(
    // Generous: a loaded CI machine can take seconds to boot a worker (no timing is asserted here).
    { log, logSettings: { verbosity: 0, format: 'text' }, readyTimeoutMs: 30_000, controlTimeoutMs: 30_000 },
    { region: null, projectNumber: null, projectId: null },
  );
  t.after(() => rooms.closeAll());
  await rooms.startAll([
    { name: 'token', entry: TOKEN_WORKER, settings: tokenSettings({ metadataHost: meta.hostPort }) },
  ]);
  assert.deepEqual(rooms.info('token'), { metadata: meta.hostPort, static_token: false, max_concurrent: 8 });
  const control = rooms.controls().find(([n]) => n === 'token')![1] as unknown as { facts(): Promise<Facts> };
  assert.deepEqual(await rooms.withTimeout(control.facts(), 'token.facts'), {
    region: 'asia-northeast1',
    projectNumber: '42',
    projectId: 'p',
  });
  const names = (await rooms.controls()[0]![1].metrics()).map((m) => m.name).sort();
  assert.deepEqual(names, [
    'runsd_token_cache_hits_total',
    'runsd_token_cache_misses_total',
    'runsd_token_earliest_expiry_seconds',
    'runsd_token_fetch_duration_seconds',
    'runsd_token_fetches_total',
    'runsd_token_refreshes_total',
  ]);
});

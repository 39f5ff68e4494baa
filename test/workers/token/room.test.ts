// The token room as a real worker thread against the emulator's metadata server, called over a real
// MessagePort through the proxy-side client (and raw comlink where the mirror must be bypassed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { startMetadataServer } from '../../../src/emulator/metadata.ts';
import { RunsdError } from '../../../src/errors.ts';
import { createTokenClient } from '../../../workers/token/client.ts';
import type { TokenSettings } from '../../../workers/token/settings.ts';
import { metricValue, type RunningRoom, rawApi, startTokenRoom, tokenSettings } from './room-harness.ts';

type T = { after(fn: () => unknown): void };

async function setup(
  t: T,
  md: Partial<Parameters<typeof startMetadataServer>[0]> = {},
  s: Partial<TokenSettings> = {},
  verbosity = 0,
) {
  const meta = await startMetadataServer({ projectNumber: '987654321', region: 'europe-west1', ...md });
  t.after(() => meta.close());
  const room = await startTokenRoom(tokenSettings({ metadataHost: meta.hostPort, ...s }), verbosity);
  t.after(() => room.stop());
  return { meta, room };
}

function client(t: T, room: RunningRoom) {
  const c = createTokenClient(room.peer, { timeoutMs: 10_000 });
  t.after(() => c.close());
  return c;
}

const aud = (n: string) => `https://${n}-987654321.europe-west1.run.app`;

// Rooms, ports and emulators are private to each test, so they run side by side.
describe('token room (worker thread)', { concurrency: 4 }, () => {
  it('facts() on the control port: region, project number and id, read once', async (t) => {
    const { meta, room } = await setup(t, { projectId: 'my-proj' });
    assert.equal(room.status.type, 'ready');
    const want = { region: 'europe-west1', projectNumber: '987654321', projectId: 'my-proj' };
    assert.deepEqual(await room.control.facts(), want);
    const requests = meta.stats().requests;
    assert.deepEqual(await room.control.facts(), want);
    assert.equal(meta.stats().requests, requests, 'cached: no second metadata read');
  });

  it('facts() with the metadata server down: an error that keeps code RUNSD_METADATA', async (t) => {
    const { room } = await setup(t, { outage: true });
    await assert.rejects(room.control.facts(), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'RUNSD_METADATA');
      assert.match(err.message, /metadata server/);
      return true;
    });
    await assert.rejects(rawApi(room.peer).facts(), { code: 'RUNSD_METADATA' });
  });

  it('1,000 requests over 3 audiences → exactly 3 identity calls', async (t) => {
    const { meta, room } = await setup(t);
    const c = client(t, room);
    const auds = [aud('a'), aud('b'), aud('c')];
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 1000; i++) {
      const a = auds[i % 3]!;
      const v = await c.get(a);
      if (!seen.has(a)) seen.set(a, new Set());
      seen.get(a)!.add(v);
    }
    assert.equal(meta.identityCalls(), 3);
    for (const a of auds) assert.equal(meta.identityCalls(a), 1);
    for (const [a, vals] of seen) {
      assert.equal(vals.size, 1);
      const payload = JSON.parse(Buffer.from([...vals][0]!.split('.')[1]!, 'base64url').toString());
      assert.equal(payload.aud, a, 'token minted for its own audience');
    }
  });

  it('200 concurrent first requests for one audience → 1 identity call (through the client and raw to the room)', async (t) => {
    const { meta, room } = await setup(t, { latencyMs: 20 });
    const c = client(t, room);
    const viaClient = await Promise.all(Array.from({ length: 200 }, () => c.get(aud('one'))));
    assert.equal(new Set(viaClient).size, 1);
    assert.equal(meta.identityCalls(aud('one')), 1);
    // Raw calls reach the room each time: the room's own single-flight holds too.
    const raw = rawApi(room.peer);
    const viaRoom = await Promise.all(Array.from({ length: 200 }, () => raw.token(aud('two'))));
    assert.ok(viaRoom.every((r) => r.value));
    assert.equal(meta.identityCalls(aud('two')), 1);
    // The client's 200 callers made one room call (1 miss); the 200 raw calls all missed and shared one fetch.
    assert.equal(await metricValue(room, 'runsd_token_cache_misses_total'), 201);
  });

  it('short token lifetime: refreshed before expiry in the background; no request waits on a fetch', async (t) => {
    const { meta, room } = await setup(t, { tokenLifetimeSec: 4 });
    const raw = rawApi(room.peer);
    // Until two refreshes happened (≈ 4 s; the deadline only stops a broken room from hanging the test).
    const deadline = Date.now() + 20_000;
    let n = 0;
    while (meta.identityCalls(aud('short')) < 3 && Date.now() < deadline) {
      const r = await raw.token(aud('short'));
      assert.ok(r.expiresAt > Date.now(), 'never handed an expired token');
      n++;
      await new Promise((res) => setTimeout(res, 25));
    }
    assert.equal(meta.identityCalls(aud('short')), 3, 'refreshed twice');
    // A refresh is counted when it ends, just after the metadata server counted its call.
    while (
      (await metricValue(room, 'runsd_token_refreshes_total', { outcome: 'ok' })) < 2 &&
      Date.now() < deadline
    )
      await new Promise((res) => setTimeout(res, 10));
    assert.equal(await metricValue(room, 'runsd_token_refreshes_total', { outcome: 'ok' }), 2);
    // Only the very first request missed: every other one was answered from the cache.
    assert.equal(await metricValue(room, 'runsd_token_cache_misses_total'), 1);
    assert.equal(await metricValue(room, 'runsd_token_cache_hits_total'), n - 1);
  });

  it('outage: valid token keeps being served; none → RUNSD_TOKEN_FETCH with the reason; recovery', async (t) => {
    const { meta, room } = await setup(t);
    const c = client(t, room);
    const raw = rawApi(room.peer);
    const before = await c.get(aud('kept'));
    meta.knobs.outage = true;
    for (let i = 0; i < 20; i++) assert.equal(await c.get(aud('kept')), before);
    for (let i = 0; i < 5; i++) {
      const r = await raw.token(aud('kept'));
      assert.equal(r.value, before, 'the room serves its cached token too');
    }
    await assert.rejects(c.get(aud('new')), (err: unknown) => {
      assert.ok(err instanceof RunsdError);
      assert.equal(err.code, 'RUNSD_TOKEN_FETCH');
      assert.match(err.message, /https:\/\/new-987654321/);
      assert.match(err.message, /cannot reach metadata server http:\/\/127\.0\.0\.1:\d+/);
      return true;
    });
    assert.ok((await metricValue(room, 'runsd_token_fetches_total', { outcome: 'retry' })) >= 1, 'retried');
    meta.knobs.outage = false;
    const recovered = await c.get(aud('new'));
    assert.equal(recovered.split('.').length, 3);
    assert.equal(meta.identityCalls(aud('new')), 1);
  });

  it('an empty audience is refused by the room with a coded error, no identity call', async (t) => {
    const { meta, room } = await setup(t);
    await assert.rejects(rawApi(room.peer).token(''), { code: 'RUNSD_TOKEN_FETCH' });
    assert.equal(meta.stats().requests, 0);
  });

  it('metadata latency spikes: never more identity calls in flight than the p-queue bound', async (t) => {
    const { meta, room } = await setup(t, { latencyMs: 150 }, { maxConcurrent: 3 });
    const c = client(t, room);
    const auds = Array.from({ length: 15 }, (_, i) => aud(`svc${i}`));
    const got = await Promise.all(auds.map((a) => c.get(a)));
    assert.equal(got.length, 15);
    assert.equal(meta.identityCalls(), 15);
    assert.equal(meta.inFlightMax, 3, 'the bound is reached and never exceeded');
  });

  it('CLOUD_RUN_ID_TOKEN is used as-is for every audience, no identity call', async (t) => {
    const { meta, room } = await setup(t, {}, { staticToken: 'static.token.value' });
    const c = client(t, room);
    assert.equal(await c.get(aud('x')), 'static.token.value');
    assert.equal(await c.get(aud('y')), 'static.token.value');
    assert.equal(meta.identityCalls(), 0);
  });

  it('tokens never appear in the log, even at -v=10', async (t) => {
    const { meta, room } = await setup(t, { tokenLifetimeSec: 2 }, {}, 10);
    const c = client(t, room);
    const tokens = new Set<string>();
    for (let i = 0; i < 3; i++) {
      tokens.add(await c.get(aud('logged')));
      await new Promise((r) => setTimeout(r, 400));
    }
    meta.knobs.outage = true;
    await assert.rejects(c.get(aud('other')));
    await new Promise((r) => setTimeout(r, 100));
    const logs = room.logs();
    assert.match(logs, /audience=https:\/\/logged/, 'the room did log (about the audience)');
    for (const tok of tokens) {
      assert.ok(!logs.includes(tok), 'token in log');
      assert.ok(!logs.includes(tok.split('.')[2]!), 'token signature in log');
    }
  });

  it('after the token room restarts, replacePort() re-issues a call that waited on the dead port', async (t) => {
    const { meta, room } = await setup(t, { latencyMs: 300 });
    const c = client(t, room);
    const pending = c.get(aud('moved'));
    await new Promise((r) => setTimeout(r, 50));
    await room.worker.terminate(); // the room dies with the call in flight
    const again = await startTokenRoom(tokenSettings({ metadataHost: meta.hostPort }));
    t.after(() => again.stop());
    c.replacePort(again.peer);
    const v = await pending;
    assert.equal(v.split('.').length, 3);
    assert.equal(c.peek(aud('moved'))?.value, v);
    // And a peer port attached later (attachPeer) is served too.
    const ch = new MessageChannel();
    await again.control.attachPeer('proxy-2', Comlink.transfer(ch.port2, [ch.port2 as never]));
    const c2 = createTokenClient(ch.port1);
    t.after(() => c2.close());
    assert.equal(await c2.get(aud('moved')), v, 'same cached token via the second port');
  });
});

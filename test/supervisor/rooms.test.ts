import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunsdError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { roomHeap } from '../../src/room-heap.ts';
import { Rooms } from '../../src/supervisor/rooms.ts';

const entry = new URL('../fixtures/rooms/fixture.ts', import.meta.url);
const lines: string[] = [];
const log = createLogger({ verbosity: 0, format: 'text', write: (l) => lines.push(l) });
const facts = { region: 'us-central1', projectNumber: '123', projectId: 'p' };

function makeRooms(readyTimeoutMs = 3000) {
  return new Rooms(
    {
      log,
      logSettings: { verbosity: 0, format: 'text' },
      readyTimeoutMs,
      backoffMs: { initial: 20, max: 100 },
    },
    facts,
  );
}

test('rooms become READY, report info, serve metrics and facts, and peers talk directly', async (t) => {
  const rooms = makeRooms();
  t.after(() => rooms.closeAll());
  await rooms.startAll([{ name: 'token', entry, settings: { behaviour: 'ready' } }]);
  await rooms.startAll([{ name: 'proxy', entry, settings: { behaviour: 'ready' }, peers: ['token'] }]);
  assert.deepEqual(rooms.info('proxy'), { room: 'proxy', peers: 'token' });
  const controls = new Map(rooms.controls());
  const metrics = await controls.get('token')!.metrics();
  assert.equal(metrics.find((m) => m.name === 'runsd_fixture_hits_total')?.values[0]?.value, 3);
  const proxy = controls.get('proxy') as unknown as {
    askPeer(n: string): Promise<string>;
    facts(): Promise<unknown>;
  };
  assert.equal(await proxy.askPeer('token'), 'token');
  await rooms.setFacts({ ...facts, region: 'europe-west1' });
  assert.deepEqual(await proxy.facts(), { ...facts, region: 'europe-west1' });
  // Rooms run with bounded heaps (V8 would otherwise size them from the machine's memory).
  const limits = await (proxy as unknown as { heapLimits(): Promise<Record<string, number>> }).heapLimits();
  assert.equal(limits['maxYoungGenerationSizeMb'], 4);
  assert.equal(limits['maxOldGenerationSizeMb'], roomHeap('proxy').maxOldGenerationSizeMb);
  assert.ok(roomHeap('proxy').maxOldGenerationSizeMb <= 512);
  // The token room allocates little: a smaller young generation.
  const tokenLimits = await (
    controls.get('token') as unknown as { heapLimits(): Promise<Record<string, number>> }
  ).heapLimits();
  assert.equal(tokenLimits['maxYoungGenerationSizeMb'], 2);
});

test('a room that fails its bootstrap is reported, not restarted', async (t) => {
  for (const behaviour of ['fail', 'throw']) {
    const rooms = makeRooms();
    t.after(() => rooms.closeAll());
    let restarts = 0;
    rooms.on('restart', () => restarts++);
    await assert.rejects(rooms.startAll([{ name: 'dns', entry, settings: { behaviour } }]), (e: unknown) => {
      assert.ok(e instanceof RunsdError);
      assert.equal(e.code, 'RUNSD_ROOM_BOOTSTRAP');
      assert.match(
        e.message,
        /room dns failed to start: .*(fixture bootstrap failure|uncaught in bootstrap)/,
      );
      return true;
    });
    assert.equal(restarts, 0);
    assert.deepEqual(rooms.names(), []);
  }
});

test('a room that never answers times out', async (t) => {
  const rooms = makeRooms(300);
  t.after(() => rooms.closeAll());
  await assert.rejects(
    rooms.startAll([{ name: 'dns', entry, settings: { behaviour: 'hang' } }]),
    /RUNSD_ROOM_TIMEOUT|did not become ready within 300 ms/,
  );
});

test('an uncaught error in a room is logged with its message before the restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runsd-rooms-'));
  const rooms = makeRooms();
  t.after(async () => {
    await rooms.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const ready: string[] = [];
  rooms.on('ready', (n: string) => ready.push(n));
  const restarted = new Promise((resolve) => rooms.once('restart', resolve));
  await rooms.startAll([
    { name: 'dns', entry, settings: { behaviour: 'throw-later', marker: join(dir, 'm') } },
  ]);
  await restarted;
  assert.match(lines.join(''), /room dns crashed: fixture error after ready/);
  for (let i = 0; i < 200 && ready.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(ready, ['dns', 'dns']);
});

test('a room that crashes after READY is restarted and re-linked to its peer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'runsd-rooms-'));
  const rooms = makeRooms();
  t.after(async () => {
    await rooms.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });
  const restarted = new Promise<[string, number]>((resolve) =>
    rooms.once('restart', (n: string, a: number) => resolve([n, a])),
  );
  await rooms.startAll([
    { name: 'token', entry, settings: { behaviour: 'crash-once', marker: join(dir, 'm'), port: 0 } },
    { name: 'proxy', entry, settings: { behaviour: 'ready' }, peers: ['token'] },
  ]);
  const firstPort = rooms.info('token')?.['port'];
  assert.equal(typeof firstPort, 'number');
  assert.deepEqual(await restarted, ['token', 1]);
  // Wait until the new token room is live and linked again.
  for (let i = 0; i < 200 && rooms.restarts('token') !== 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(rooms.restarts('token'), 1);
  // Port 0 was pinned to the port bound first, so the restarted room reports the same one.
  assert.equal(rooms.info('token')?.['port'], firstPort);
  // The restarted token room got a fresh channel to the proxy (the proxy got the other end via attachPeer).
  const token = new Map(rooms.controls()).get('token') as unknown as { askPeer(n: string): Promise<string> };
  assert.equal(await token.askPeer('proxy'), 'proxy');
  assert.match(lines.join(''), /room token stopped unexpectedly; restarting exit_code=7 attempt=1/);
  // Up for less than 30 s before the crash: the first step of the backoff (20 ms here).
  assert.match(lines.join(''), /attempt=1 delay_ms=20/);
});

// The proxy-side client against an in-thread stand-in for the token room (comlink over a real
// MessageChannel), with an injected clock for the mirror.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { RunsdError } from '../../../src/errors.ts';
import type { Token } from '../../../workers/token/api.ts';
import { createTokenClient } from '../../../workers/token/client.ts';

type T = { after(fn: () => unknown): void };
const MIN = 60_000;

function fakeRoom(t: T, timeoutMs = 10_000, sweepMs = 0) {
  const room = {
    calls: [] as string[],
    now: 1_800_000_000_000,
    lifetimeMs: 60 * MIN,
    fail: null as null | { code: 'RUNSD_TOKEN_FETCH'; message: string },
    hang: false,
    serial: 0,
  };
  const api = {
    token: async (audience: string): Promise<Token> => {
      room.calls.push(audience);
      if (room.hang) return new Promise(() => {});
      if (room.fail) throw new RunsdError(room.fail.code, room.fail.message);
      return { value: `tok-${++room.serial}`, expiresAt: room.now + room.lifetimeMs };
    },
  };
  const ch = new MessageChannel();
  Comlink.expose(api, ch.port2 as unknown as Comlink.Endpoint);
  const client = createTokenClient(ch.port1, { now: () => room.now, timeoutMs, sweepMs });
  t.after(() => {
    client.close();
    ch.port2.close();
  });
  return { room, client, api };
}

/** The value if `p` settles without waiting for a port message, else 'pending'. */
async function settledNow<T>(p: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setImmediate(() => r('pending')))]);
}

test('a fresh mirror answers without crossing the port; concurrent misses share one call', async (t) => {
  const { room, client } = fakeRoom(t);
  const first = await Promise.all(Array.from({ length: 50 }, () => client.get('https://a')));
  assert.equal(room.calls.length, 1);
  assert.equal(new Set(first).size, 1);
  for (let i = 0; i < 1000; i++) assert.equal(await settledNow(client.get('https://a')), 'tok-1');
  assert.equal(room.calls.length, 1);
  assert.deepEqual(client.peek('https://a'), { value: 'tok-1', expiresAt: room.now + 60 * MIN });
  assert.equal(client.peek('https://b'), null);
});

test('near expiry: the old token is returned at once while the room is asked in the background', async (t) => {
  const { room, client } = fakeRoom(t);
  await client.get('https://a');
  room.now += 59 * MIN - 1;
  assert.equal(await settledNow(client.get('https://a')), 'tok-1');
  assert.equal(room.calls.length, 1, 'not yet stale');
  room.now += 1; // one minute before expiry
  assert.equal(await settledNow(client.get('https://a')), 'tok-1');
  assert.equal(await settledNow(client.get('https://a')), 'tok-1');
  for (let i = 0; i < 500 && client.peek('https://a')?.value !== 'tok-2'; i++)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(room.calls.length, 2, 'one background call');
  assert.equal(await settledNow(client.get('https://a')), 'tok-2');
});

test('cached() answers synchronously from the mirror and null on a miss, never asking the room', async (t) => {
  const { room, client } = fakeRoom(t);
  assert.equal(client.cached('https://a'), null);
  assert.equal(room.calls.length, 0, 'a miss does not ask');
  await client.get('https://a');
  assert.equal(client.cached('https://a'), 'tok-1');
  assert.equal(room.calls.length, 1);
  room.now += 60 * MIN - 10_000;
  assert.equal(client.cached('https://a'), null, 'inside the safety margin');
});

test('expired mirror entries are swept on the timer, usable ones kept', async (t) => {
  const { room, client } = fakeRoom(t, 10_000, 10);
  for (let i = 0; i < 100; i++) await client.get(`https://svc-${i}`);
  room.lifetimeMs = 120 * MIN;
  await client.get('https://long');
  assert.equal(client.size, 101);
  room.now += 61 * MIN;
  for (let i = 0; i < 200 && client.size > 1; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(client.size, 1, 'only the long-lived token is left');
  assert.equal(client.peek('https://long')?.value, 'tok-101');
});

test('an expired mirror entry waits for the room', async (t) => {
  const { room, client } = fakeRoom(t);
  await client.get('https://a');
  room.now += 60 * MIN - 10_000; // inside the safety margin: not handed out
  assert.equal(client.peek('https://a'), null);
  const p = client.get('https://a');
  assert.equal(await settledNow(p), 'pending');
  assert.equal(await p, 'tok-2');
});

test('a room error arrives as a RunsdError with its code; a silent room as RUNSD_TOKEN_FETCH naming the audience', async (t) => {
  const { room, client } = fakeRoom(t, 200);
  room.fail = {
    code: 'RUNSD_TOKEN_FETCH',
    message: 'no ID token for https://a: metadata server answered HTTP 503',
  };
  await assert.rejects(client.get('https://a'), (err: unknown) => {
    assert.ok(err instanceof RunsdError);
    assert.equal(err.code, 'RUNSD_TOKEN_FETCH');
    assert.match(err.message, /HTTP 503/);
    return true;
  });
  room.fail = null;
  room.hang = true;
  await assert.rejects(client.get('https://b'), (err: unknown) => {
    assert.ok(err instanceof RunsdError);
    assert.equal(err.code, 'RUNSD_TOKEN_FETCH');
    assert.match(err.message, /^no ID token for https:\/\/b: token room gave no answer within 200 ms$/);
    return true;
  });
});

test('replacePort: calls waiting on the old port are re-issued on the new one', async (t) => {
  const { room, client } = fakeRoom(t);
  room.hang = true;
  const p = client.get('https://a');
  await new Promise((r) => setTimeout(r, 10));
  const ch = new MessageChannel();
  Comlink.expose(
    { token: async () => ({ value: 'tok-new', expiresAt: room.now + MIN }) },
    ch.port2 as unknown as Comlink.Endpoint,
  );
  t.after(() => ch.port2.close());
  client.replacePort(ch.port1);
  assert.equal(await p, 'tok-new');
});

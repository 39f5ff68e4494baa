// -check_services in every dns thread: the room's primary thread (here, in process) and its helper
// thread (-dns_threads 2: a real worker on the same port, SO_REUSEPORT) both answer NXDOMAIN for a
// name that is no service. The token room is a fake on the room's token peer port, serving only
// services(). Each query comes from its own socket, so the kernel spreads 40 of them over both
// threads (that all 40 land on one of two sockets has probability 2^-39); a thread that did not
// check would answer about half of them with 127.0.0.1.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { RegionList } from '../../../src/domain/service-list.ts';
import { createLogger } from '../../../src/log.ts';
import { portEndpoint } from '../../../src/port-endpoint.ts';
import { type Facts, PROTOCOL_VERSION } from '../../../src/protocol.ts';
import type { RoomHandle } from '../../../src/room.ts';
import { MetricsRegistry } from '../../../src/room-metrics.ts';
import { setupDnsRoom } from '../../../workers/dns/room.ts';
import type { TokenPortApi } from '../../../workers/token/api.ts';
import { udpQuery } from '../../helpers/dns-client.ts';
import { baseDnsSettings } from '../../helpers/dns-settings.ts';

const N = 40;
const FACTS: Facts = { region: 'us-central1', projectNumber: '123', projectId: 'p' };
const NO_FACTS: Facts = { region: null, projectNumber: null, projectId: null };

/** A fake token room serving services() on a peer port; `lists` may change between calls. */
function fakeTokenRoom(lists: (region: string) => RegionList): {
  port: MessagePort;
  asks: number;
  close(): void;
} {
  const { port1, port2 } = new MessageChannel();
  const state = {
    port: port2,
    asks: 0,
    close: () => {
      port1.close();
      port2.close();
    },
  };
  const api: Pick<TokenPortApi, 'services'> = {
    services: async (region) => {
      state.asks++;
      return lists(region);
    },
  };
  Comlink.expose(api, portEndpoint(port1));
  return state;
}

const ok = (region: string, names: string[]): RegionList => ({
  region,
  names,
  fetchedAt: Date.now(),
  state: 'ok',
});

async function startRoom(
  t: { after(fn: () => unknown): void },
  token: MessagePort,
  facts: Facts,
): Promise<{ room: RoomHandle; port: number }> {
  const control = new MessageChannel();
  const room = await setupDnsRoom({
    init: {
      v: PROTOCOL_VERSION,
      room: 'dns',
      settings: baseDnsSettings({ upstreams: ['127.0.0.1:9'], threads: 2, services: { intervalSec: 60 } }),
      facts,
      log: { verbosity: 0, format: 'text' },
      control: control.port1,
      peers: { token },
    },
    log: createLogger({ verbosity: 0, format: 'text', write: () => {} }),
    registry: new MetricsRegistry(),
  });
  t.after(async () => {
    await room.close();
    control.port1.close();
  });
  return { room, port: Number(room.info?.['port']) };
}

/** rcode (or the A record) of N queries for `name`, each from its own socket. */
async function answers(port: number, name: string): Promise<string[]> {
  const all = await Promise.all(Array.from({ length: N }, () => udpQuery(port, name, 'A')));
  return all.map((m) => (m.rcode === 'NOERROR' ? String(m.answers[0]?.data) : m.rcode));
}

const all = (v: string) => Array.from({ length: N }, () => v);

async function eventually(what: string, ok: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) assert.fail(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('-dns_threads 2: every thread answers NXDOMAIN for a name that is no service', async (t) => {
  const token = fakeTokenRoom((r) => ok(r, r === 'us-central1' ? ['hello', 'world'] : ['world']));
  t.after(() => token.close());
  const { port } = await startRoom(t, token.port, FACTS);
  assert.deepEqual(await answers(port, 'helo.us-central1.run.internal'), all('NXDOMAIN'));
  assert.deepEqual(await answers(port, 'hello.us-central1.run.internal'), all('127.0.0.1'));
  // the own region from the facts, in the helper too
  assert.deepEqual(await answers(port, 'helo.run.internal'), all('NXDOMAIN'));
  assert.deepEqual(await answers(port, 'green---hello.us-central1.run.internal'), all('127.0.0.1'));
  // a region first seen here: each thread's first question waits for its list
  assert.deepEqual(await answers(port, 'hello.europe-west1.run.internal'), all('NXDOMAIN'));
  assert.deepEqual(await answers(port, 'world.europe-west1.run.internal'), all('127.0.0.1'));
});

test('no list (the API refused): every thread answers every service-shaped name, as before', async (t) => {
  const token = fakeTokenRoom((region) => ({ region, names: null, fetchedAt: 0, state: 'refused' }));
  t.after(() => token.close());
  const { port } = await startRoom(t, token.port, FACTS);
  assert.deepEqual(await answers(port, 'helo.us-central1.run.internal'), all('127.0.0.1'));
  assert.ok(token.asks > 0, 'the list was asked for');
});

test('the own region learnt later (setFacts) reaches the helper thread', async (t) => {
  const token = fakeTokenRoom((r) => ok(r, ['hello']));
  t.after(() => token.close());
  const { room, port } = await startRoom(t, token.port, NO_FACTS);
  assert.deepEqual(await answers(port, 'helo.run.internal'), all('127.0.0.1'), 'no region: unchecked');
  await room.setFacts?.(FACTS);
  await eventually('every thread checks helo in us-central1', async () =>
    (await answers(port, 'helo.run.internal')).every((a) => a === 'NXDOMAIN'),
  );
  assert.deepEqual(await answers(port, 'hello.run.internal'), all('127.0.0.1'));
});

test('a restarted token room (new peer port) is asked by every thread, helpers included', async (t) => {
  const old = fakeTokenRoom((r) => ok(r, ['hello']));
  const renewed = fakeTokenRoom((r) => ok(r, ['hello', 'fresh']));
  t.after(() => {
    old.close();
    renewed.close();
  });
  const { room, port } = await startRoom(t, old.port, FACTS);
  assert.deepEqual(await answers(port, 'fresh.us-central1.run.internal'), all('NXDOMAIN'));
  // The old room still answers (with its old list): only the new port knows "fresh".
  await room.attachPeer?.('token', renewed.port);
  await eventually('a miss refreshes from the new token room in every thread', async () =>
    (await answers(port, 'fresh.us-central1.run.internal')).every((a) => a === '127.0.0.1'),
  );
});

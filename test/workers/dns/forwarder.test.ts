// The forwarder's upstream UDP sockets against forged answers, over real loopback sockets: the dns
// room in its worker thread, a spy upstream on 127.0.0.1 that sees each query's source port and
// ID, and a forger on 127.0.0.2 that sends a matching answer (right ID, right question) to that
// port before (or instead of) the real one. The forwarder's sockets are connect()ed to their
// nameserver, so the kernel refuses the forger's datagram (ICMP port unreachable: the forger's own
// connected socket sees ECONNREFUSED) and the client gets the real answer, or SERVFAIL without one.
// Against an unconnected socket bound to 0.0.0.0 the forged datagram is delivered to the process
// (no ECONNREFUSED): the `refused` assertions fail.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { type Nameserver, parseNameserver } from '../../../src/domain/nameserver.ts';
import { MetricsRegistry as Registry } from '../../../src/room-metrics.ts';
import { Forwarder, ROTATE_QUERIES } from '../../../workers/dns/forwarder.ts';
import { createDnsMetrics } from '../../../workers/dns/metrics.ts';
import { decode, encodeQuery, udpRaw } from '../../helpers/dns-client.ts';
import { startDnsRoom } from '../../helpers/dns-room.ts';

interface Seen {
  port: number;
  id: number;
  name: string;
  msg: Buffer;
}

/** A fake nameserver on 127.0.0.1 that reports every query and answers only when told to. */
async function spyUpstream(t: { after(fn: () => unknown): void }, onQuery: (q: Seen) => void) {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  t.after(() => s.close());
  s.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    onQuery({ port: rinfo.port, id: q.id ?? 0, name: q.questions?.[0]?.name ?? '', msg });
  });
  return {
    address: `127.0.0.1:${(s.address() as { port: number }).port}`,
    reply(to: Seen, data: string) {
      s.send(answer(to, data), to.port, '127.0.0.1');
    },
  };
}

function answer(q: Seen, data: string): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ name: q.name, type: 'A', class: 'IN' }],
    answers: [{ name: q.name, type: 'A', class: 'IN', ttl: 60, data }],
  });
}

/** A forger on 127.0.0.2, connected to the forwarder's source port so ICMP errors reach it. */
async function forge(q: Seen, data: string): Promise<{ refused: boolean }> {
  const f: Socket = createSocket('udp4');
  await new Promise<void>((r) => f.bind(0, '127.0.0.2', r));
  await new Promise<void>((r) => f.connect(q.port, '127.0.0.1', r));
  let refused = false;
  f.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'ECONNREFUSED') refused = true;
  });
  // Twice: a refusal shows as an error on the next receive or send.
  for (let i = 0; i < 2; i++) {
    f.send(answer(q, data), (e: NodeJS.ErrnoException | null) => {
      if (e?.code === 'ECONNREFUSED') refused = true;
    });
    await new Promise((r) => setTimeout(r, 30));
  }
  f.close();
  return { refused };
}

test('a forged answer from another address is dropped by the kernel; the client gets the real one', async (t) => {
  const forged: Promise<{ refused: boolean }>[] = [];
  const up = await spyUpstream(t, (q) => {
    // Forge first, with the query's own ID and question, then let the real answer follow.
    const f = forge(q, '203.0.113.66');
    forged.push(f);
    void f.then(() => up.reply(q, '192.0.2.10'));
  });
  const room = await startDnsRoom(t, { upstreams: [up.address], attemptMs: 1000, totalMs: 2000 });
  const r = await udpRaw(room.port, encodeQuery('forge-me.example.test', 'A', { id: 4242 }));
  assert.ok(r, 'the client got an answer');
  const m = decode(r);
  assert.equal(m.id, 4242);
  assert.equal(m.rcode, 'NOERROR');
  assert.deepEqual(
    m.answers.map((a) => a.data),
    ['192.0.2.10'],
    'the real answer, not the forged one',
  );
  assert.equal(forged.length, 1, 'one upstream query');
  assert.equal((await forged[0])?.refused, true, "the kernel refused the forger's datagram");
});

test('a forged answer alone never reaches the client: SERVFAIL when the nameserver is silent', async (t) => {
  const forged: Promise<{ refused: boolean }>[] = [];
  const up = await spyUpstream(t, (q) => {
    forged.push(forge(q, '203.0.113.66'));
  });
  const room = await startDnsRoom(t, { upstreams: [up.address], attemptMs: 250, totalMs: 600 });
  const r = await udpRaw(room.port, encodeQuery('only-forged.example.test', 'A', { id: 99 }));
  assert.ok(r, 'the client got an answer');
  const m = decode(r);
  assert.equal(m.id, 99);
  assert.equal(m.rcode, 'SERVFAIL');
  assert.equal(m.answers.length, 0);
  assert.ok(forged.length >= 2, `every attempt was forged (${forged.length})`);
  for (const f of forged) assert.equal((await f).refused, true, "the kernel refused the forger's datagram");
  assert.equal(await room.counted({ outcome: 'servfail' }), 1);
});

test('upstream queries: random IDs, and a fresh random source port every ROTATE_QUERIES queries', async (t) => {
  const seen: Seen[] = [];
  const up = await spyUpstream(t, (q) => {
    seen.push(q);
    up.reply(q, '192.0.2.1');
  });
  const room = await startDnsRoom(t, { upstreams: [up.address] });
  const n = ROTATE_QUERIES * 2 + 10;
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, (_, k) =>
      udpRaw(room.port, encodeQuery(`n${i + k}.rotate.test`, 'A')),
    );
    for (const r of await Promise.all(batch)) assert.equal(r && decode(r).rcode, 'NOERROR');
  }
  assert.equal(seen.length, n);
  const perPort = new Map<number, number>();
  for (const q of seen) perPort.set(q.port, (perPort.get(q.port) ?? 0) + 1);
  assert.ok(perPort.size >= 3, `source ports: ${[...perPort.keys()].join(', ')}`);
  for (const [port, count] of perPort) assert.ok(count <= ROTATE_QUERIES, `port ${port}: ${count} queries`);
  // 16-bit random IDs: over ~1000 queries, a handful of repeats at most (birthday bound ≈ 8).
  const ids = new Set(seen.map((q) => q.id));
  assert.ok(ids.size > n - 40, `${ids.size} distinct IDs of ${n}`);
  // A retired port is closed: a forger aiming at the first port is refused.
  const first = seen[0] as Seen;
  assert.equal((await forge(first, '203.0.113.66')).refused, true);
});

test('close() while a query waits to be sent on a ready socket: the attempt fails, nothing goes unhandled', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const ns = parseNameserver(`127.0.0.1:${(silent.address() as { port: number }).port}`) as Nameserver;
    const f = new Forwarder(
      [ns],
      { attemptMs: 50, totalMs: 100 },
      createDnsMetrics(new Registry(), () => 0),
    );
    await assert.rejects(f.forward(encodeQuery('warm.test'), false), { code: 'RUNSD_DNS_UPSTREAM' });
    const p = f.forward(encodeQuery('late.test'), false);
    f.close(); // before the send scheduled on the (ready) socket runs
    await assert.rejects(p, { code: 'RUNSD_DNS_UPSTREAM' });
    await new Promise((r) => setTimeout(r, 20));
    silent.close();
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled.map(String), []);
});

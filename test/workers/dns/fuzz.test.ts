// Bounded fuzzing: 100k random and mutated packets through the resolver, a share of them over real
// UDP and TCP sockets; afterwards the room must still answer correctly. Seeded, so a failure repeats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startUpstreamDns } from '../../../src/emulator/dns.ts';
import { MetricsRegistry as Registry } from '../../../src/room-metrics.ts';
import { buildDnsCore } from '../../../workers/dns/core.ts';
import { startDns } from '../../../workers/dns/room.ts';
import type { DnsSettings } from '../../../workers/dns/settings.ts';
import { decode, encodeQuery, frame, tcpRaw, udpQuery, udpRaw } from '../../helpers/dns-client.ts';
import { baseDnsSettings } from '../../helpers/dns-settings.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

function packets(count: number, seed: number): Buffer[] {
  const r = rng(seed);
  const seeds = [
    encodeQuery('hello.us-central1.run.internal', 'A'),
    encodeQuery('hello.us-central1.run.internal', 'AAAA', { edns: 1232 }),
    encodeQuery('api.example.com.us-central1.run.internal', 'A'),
    encodeQuery('metadata.google.internal', 'A'),
    encodeQuery('foo.google.internal', 'SRV', {
      edns: 4096,
      ednsOptions: [{ code: 10, data: Buffer.alloc(8) }],
    }),
    encodeQuery('example.test', 'MX'),
    encodeQuery('_http._tcp.example.test', 'SRV', { edns: 512 }),
  ];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (r(2) === 0) {
      const b = Buffer.alloc(r(600));
      for (let j = 0; j < b.length; j++) b[j] = r(256);
      if (b.length >= 4 && r(2) === 0) b[2] = (b[2] ?? 0) & 0x7f; // mostly "queries", so they get parsed
      out.push(b);
    } else {
      const base = Buffer.from(seeds[r(seeds.length)] as Buffer);
      let b: Buffer = base;
      const kind = r(4);
      if (kind === 0) for (let k = 0; k < 1 + r(4); k++) b[r(b.length)] = r(256);
      else if (kind === 1) b = b.subarray(0, r(b.length));
      else if (kind === 2) b = Buffer.concat([b, Buffer.alloc(r(64), r(256))]);
      else b.writeUInt16BE(r(4) === 0 ? 0xffff : r(4), 4 + 2 * r(4)); // section counts
      b[2] = (b[2] ?? 0) & 0x7f;
      out.push(b);
    }
  }
  return out;
}

test('100k random and mutated packets: no crash, no rejection; the room answers afterwards', async (t) => {
  const up = await startUpstreamDns({ frontendAddress: '127.0.0.3', metadataAddress: '127.0.0.4' });
  t.after(() => up.close());
  const settings: DnsSettings = {
    ...baseDnsSettings({ upstreams: [] }),
    upstreams: [up.address],
    attemptMs: 200,
    totalMs: 400,
    tcpIdleMs: 500,
    threads: 1,
  };
  const core = buildDnsCore(settings, new Registry());
  t.after(() => core.forwarder.close());
  const pkts = packets(100_000, 42);
  const pending: Promise<unknown>[] = [];
  let replies = 0;
  for (const [i, p] of pkts.entries()) {
    const r = core.resolver.handle(p, i % 2 ? 'udp' : 'tcp');
    if (r instanceof Promise) pending.push(r);
    else if (r) {
      replies++;
      assert.ok(r.length >= 12 && (r[2] ?? 0) & 0x80, 'every reply is a response');
    }
  }
  const settled = await Promise.allSettled(pending);
  assert.equal(settled.filter((s) => s.status === 'rejected').length, 0);
  assert.ok(replies > 10_000, `replied to ${replies} packets`);

  // Now a share over real sockets against the listeners.
  const room = await startDns(settings, new Registry());
  t.after(() => room.close());
  const port = Number(room.info?.['port']);
  const { createSocket } = await import('node:dgram');
  const sock = createSocket('udp4');
  t.after(() => sock.close());
  for (let i = 0; i < 10_000; i += 500) {
    for (const p of pkts.slice(i, i + 500)) sock.send(p, port, '127.0.0.1');
    await new Promise((r) => setImmediate(r));
  }
  const stream = Buffer.concat(pkts.slice(0, 2000).map((p) => frame(p.subarray(0, Math.max(12, p.length)))));
  await tcpRaw(port, stream, 2000, '127.0.0.1', 1500);
  const garbageTcp = Buffer.concat([frame(Buffer.alloc(20, 0xff)), Buffer.from([0x00])]);
  await tcpRaw(port, garbageTcp, 5, '127.0.0.1', 1500);

  // The socket may still hold a backlog of fuzz packets on a busy machine: the property is that the
  // room answers again, not how soon, so allow a few tries.
  let ok: Awaited<ReturnType<typeof udpQuery>> | null = null;
  for (let i = 0; i < 8 && !ok; i++)
    ok = await udpQuery(port, 'hello.us-central1.run.internal', 'A').catch(() => null);
  assert.ok(ok, 'the room answers after the fuzzing');
  assert.equal(ok.answers[0]?.data, '127.0.0.1');
  const fwd = await udpQuery(port, 'example.test', 'A');
  assert.equal(fwd.answers[0]?.data, '192.0.2.10');
  const tcpOk = await tcpRaw(port, frame(encodeQuery('hello.us-central1.run.internal')), 1);
  assert.equal(decode(tcpOk.replies[0] as Buffer).answers[0]?.data, '127.0.0.1');
  assert.equal(await udpRaw(port, Buffer.alloc(3), '127.0.0.1', 200), null);
});

// The dns room in its worker thread, against the emulator's upstream DNS, queried with dig and with
// dns-packet over real UDP/TCP sockets on loopback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startUpstreamDns, type UpstreamDns } from '../../../src/emulator/dns.ts';
import { decode, encodeQuery, frame, tcpQuery, tcpRaw, udpQuery, udpRaw } from '../../helpers/dns-client.ts';
import { startDnsRoom } from '../../helpers/dns-room.ts';

const run = promisify(execFile);

async function upstream(t: { after(fn: () => unknown): void }, extra = {}): Promise<UpstreamDns> {
  const up = await startUpstreamDns({
    frontendAddress: '127.0.0.3',
    metadataAddress: '127.0.0.4',
    servfailGoogleInternal: true,
    ...extra,
  });
  t.after(() => up.close());
  return up;
}

async function dig(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=3', '+tries=1', ...args]);
  return stdout;
}
const short = async (port: number, ...args: string[]) =>
  (await dig(port, '+short', ...args)).trim().split('\n').filter(Boolean);

const internalOrGoogle = (q: { name: string }) => /(^|\.)(run|google)\.internal$/.test(q.name);

test('service names are answered locally with loopback, in every case, never forwarded', async (t) => {
  const up = await upstream(t);
  const room = await startDnsRoom(t, { upstreams: [up.address], host6: '::1' });
  assert.deepEqual(await short(room.port, 'hello.us-central1.run.internal', 'A'), ['127.0.0.1']);
  assert.deepEqual(await short(room.port, 'hello.us-central1.run.internal', 'AAAA'), ['::1']);
  assert.deepEqual(await short(room.port, '+tcp', 'my-svc.europe-west4.run.internal', 'A'), ['127.0.0.1']);
  const r = await udpQuery(room.port, 'HeLLo.Us-Central1.RUN.internal', 'A', { id: 777 });
  assert.equal(r.id, 777);
  assert.equal(r.rcode, 'NOERROR');
  assert.ok(r.flag_aa, 'authoritative');
  assert.equal(r.questions[0]?.name, 'HeLLo.Us-Central1.RUN.internal');
  assert.equal(r.answers[0]?.data, '127.0.0.1');
  const v6 = await udpQuery(room.port, 'hello.us-central1.run.internal', 'A', {}, '::1');
  assert.equal(v6.answers[0]?.data, '127.0.0.1', 'also listening on ::1');
  // Other types for a service: NODATA with the zone SOA, not forwarded.
  const mx = await dig(room.port, 'hello.us-central1.run.internal', 'MX');
  assert.match(mx, /status: NOERROR/);
  assert.match(mx, /ANSWER: 0/);
  assert.match(mx, /run\.internal\.\s+\d+\s+IN\s+SOA/);
  assert.equal(up.count(internalOrGoogle), 0);
  assert.equal(up.count(), 0);
  assert.equal(await room.counted({ outcome: 'local', type: 'A' }), 4);
  assert.equal(await room.counted({ outcome: 'nodata', type: 'MX' }), 1);
});

test('badly shaped names in the zone and unknown google.internal names are NXDOMAIN at once', async (t) => {
  const up = await upstream(t);
  const room = await startDnsRoom(t, { upstreams: [up.address] });
  for (const name of [
    'api.example.com.us-central1.run.internal',
    'hello.us-central1.us-central1.run.internal',
    '1abc.us-central1.run.internal',
    'hello.nowhere.run.internal',
    'foo.google.internal',
    'api.example.com.google.internal',
    'hello.us-central1.run.internal.corp.example.test',
  ]) {
    const out = await dig(room.port, name, 'A');
    assert.match(out, /status: NXDOMAIN/, name);
    if (!name.endsWith('example.test')) assert.match(out, /flags: qr aa rd ra/, name);
  }
  assert.deepEqual(await short(room.port, 'metadata.google.internal', 'A'), ['169.254.169.254']);
  assert.equal(up.count(), 0, 'nothing reached the upstream');
  assert.equal(await room.counted({ outcome: 'nxdomain' }), 7);
});

test('other names are forwarded: A, MX, TXT, SRV, CNAME; answers are cached with ID and case kept', async (t) => {
  const up = await upstream(t);
  const room = await startDnsRoom(t, { upstreams: [up.address] });
  assert.deepEqual(await short(room.port, 'example.test', 'A'), ['192.0.2.10']);
  const mxAt = Date.now();
  assert.deepEqual(await short(room.port, 'example.test', 'MX'), ['10 mail.example.test.']);
  assert.deepEqual(await short(room.port, 'example.test', 'TXT'), ['"v=emulator hello"']);
  assert.deepEqual(await short(room.port, '_http._tcp.example.test', 'SRV'), ['0 5 8080 example.test.']);
  assert.deepEqual(await short(room.port, 'www.example.test', 'A'), ['example.test.', '192.0.2.10']);
  assert.deepEqual(await short(room.port, 'hello-123.us-central1.run.app', 'A'), ['127.0.0.3']);
  // Six questions went upstream (a loaded machine may make the forwarder re-ask one that timed out:
  // count distinct questions, not datagrams).
  const asked = new Set(up.queries.map((q) => `${q.name} ${q.type}`));
  assert.equal(asked.size, 6, JSON.stringify(up.queries));
  const upstreamBefore = up.count();
  // Cached: same answers, other case and ID, no new upstream query, TTL not above the original
  // (and aged by no more than the time since it was fetched).
  const r = await udpQuery(room.port, 'EXAMPLE.test', 'MX', { id: 4321, edns: true });
  const aged = Math.ceil((Date.now() - mxAt) / 1000);
  assert.equal(r.id, 4321);
  assert.equal(r.questions[0]?.name, 'EXAMPLE.test');
  assert.deepEqual(r.answers[0]?.data, { preference: 10, exchange: 'mail.example.test' });
  const ttl = r.answers[0]?.ttl ?? -1;
  assert.ok(ttl <= 60 && ttl >= 60 - aged - 1, `ttl ${ttl} after ${aged} s`);
  assert.equal(up.count(), upstreamBefore);
  assert.equal(await room.counted({ outcome: 'cache_hit' }), 1);
  assert.equal(await room.counted({ outcome: 'forwarded' }), 6);
  // Negative answers are cached too (RFC 2308: the SOA minimum).
  for (let i = 0; i < 3; i++)
    assert.match(await dig(room.port, 'nope.example.test', 'A'), /status: NXDOMAIN/);
  assert.equal(
    up.count((q) => q.name === 'nope.example.test'),
    1,
  );
});

test('a truncated UDP answer is fetched over TCP; TCP queries go upstream over TCP', async (t) => {
  const up = await upstream(t);
  const room = await startDnsRoom(t, { upstreams: [up.address] });
  // Over UDP the client gets TC (too big for it), then asks again over TCP: dig does that itself.
  const out = await dig(room.port, 'big.example.test', 'A');
  assert.equal((out.match(/IN\s+A\s+198\.51\.100\./g) ?? []).length, 100);
  assert.deepEqual(
    up.queries.filter((q) => q.name === 'big.example.test').map((q) => q.transport),
    ['udp', 'tcp'],
  );
  const udp = await udpQuery(room.port, 'big.example.test', 'A', { edns: 1232, id: 1 });
  assert.ok(udp.flag_tc, 'too big for a plain UDP client: TC');
  const again = await udpQuery(room.port, 'big.example.test', 'A', { edns: 1232, id: 2 });
  assert.ok(again.flag_tc);
  assert.equal(again.id, 2, 'a repeated identical query gets its own ID in the TC reply');
  const tcp = await tcpQuery(room.port, 'www.example.test', 'A');
  assert.equal(tcp.answers.length, 2);
  assert.deepEqual(
    up.queries.filter((q) => q.name === 'www.example.test').map((q) => q.transport),
    ['tcp'],
  );
  assert.equal(
    await room.counted({ outcome: 'cache_hit' }),
    3,
    'the repeats of big.example.test came from the cache',
  );
});

test('a silent upstream gives SERVFAIL in bounded time; a dead first upstream fails over', async (t) => {
  const up = await upstream(t);
  const dead = await upstream(t);
  dead.knobs.silent = true;
  const room = await startDnsRoom(t, {
    upstreams: [dead.address, up.address],
    attemptMs: 400,
    totalMs: 1200,
  });
  assert.deepEqual(await short(room.port, 'example.test', 'A'), ['192.0.2.10']);
  assert.equal(dead.count(), 1);
  up.knobs.silent = true;
  const r = await udpQuery(room.port, 'mail.example.test', 'A');
  assert.equal(r.rcode, 'SERVFAIL');
  const viaTcp = await tcpQuery(room.port, 'mail.example.test', 'AAAA');
  assert.equal(viaTcp.rcode, 'SERVFAIL');
  assert.ok((await room.counted({ outcome: 'servfail' })) >= 2);
  const m = (await room.metrics()).find((x) => x.name === 'runsd_dns_upstream_errors_total');
  assert.ok(m?.values.some((v) => v.labels['reason'] === 'timeout' && v.value > 0));
  // A SERVFAIL from the preferred server (the last one that answered) is retried on the other.
  up.knobs.silent = false;
  up.knobs.servfailAll = true;
  dead.knobs.silent = false;
  const before = dead.count();
  assert.deepEqual(await short(room.port, 'example.test', 'TXT'), ['"v=emulator hello"']);
  assert.equal(dead.count(), before + 1);
  const errs = (await room.metrics()).find((x) => x.name === 'runsd_dns_upstream_errors_total');
  assert.ok(errs?.values.some((v) => v.labels['reason'] === 'servfail' && v.value > 0));
});

test('EDNS0 options reach the upstream (the client COOKIE does not)', async (t) => {
  const { createSocket } = await import('node:dgram');
  const seen: Buffer[] = [];
  const fake = createSocket('udp4');
  fake.on('message', (m, r) => {
    seen.push(m);
    const q = decode(m);
    const reply = encodeQuery(q.questions[0]?.name ?? '', 'A', { id: q.id, edns: true });
    reply[2] = (reply[2] ?? 0) | 0x80; // QR
    fake.send(reply, r.port, r.address);
  });
  await new Promise<void>((res) => fake.bind(0, '127.0.0.1', () => res()));
  t.after(() => fake.close());
  const room = await startDnsRoom(t, { upstreams: [`127.0.0.1:${fake.address().port}`] });
  const ecs = Buffer.from([0, 1, 24, 0, 192, 0, 2]); // ECS 192.0.2.0/24
  const r = await udpQuery(room.port, 'opts.example.test', 'A', {
    edns: 4096,
    ednsOptions: [
      { code: 8, data: ecs },
      { code: 10, data: Buffer.from('0123456789abcdef', 'hex') },
      { code: 65001, data: Buffer.from('runsd') },
    ],
  });
  assert.equal(r.rcode, 'NOERROR');
  const got = decode(seen[0] as Buffer).additionals.find((a) => a.type === 'OPT');
  assert.deepEqual(
    got?.options?.map((o) => o.code),
    [8, 65001],
  );
  assert.equal(got?.udpPayloadSize, 4096);
});

test('malformed input is counted and answered FORMERR where possible; TCP never gets stuck', async (t) => {
  const up = await upstream(t);
  const room = await startDnsRoom(t, { upstreams: [up.address], tcpIdleMs: 300 });
  assert.equal(await udpRaw(room.port, Buffer.from([1, 2, 3]), '127.0.0.1', 300), null, 'too short: dropped');
  const garbage = Buffer.alloc(40, 0xff);
  garbage.writeUInt16BE(0x1234, 0);
  garbage.writeUInt16BE(0x0100, 2);
  const fe = decode((await udpRaw(room.port, garbage)) as Buffer);
  assert.equal(fe.rcode, 'FORMERR');
  assert.equal(fe.id, 0x1234);
  const two = encodeQuery('a.example.test', 'A', { id: 99 });
  two.writeUInt16BE(2, 4);
  const twoQ = Buffer.concat([two, two.subarray(12)]);
  assert.equal(decode((await udpRaw(room.port, twoQ)) as Buffer).rcode, 'FORMERR');
  const zero = encodeQuery('a.example.test', 'A').subarray(0, 12);
  zero.writeUInt16BE(0, 4);
  assert.equal(decode((await udpRaw(room.port, zero)) as Buffer).rcode, 'FORMERR');
  // Oversized length prefix: the connection is closed at once.
  const big = Buffer.alloc(2);
  big.writeUInt16BE(60000);
  const over = await tcpRaw(room.port, big, 1);
  assert.ok(over.closed && over.replies.length === 0);
  // A half-sent message does not hold the connection forever: the idle timeout closes it.
  const half = frame(encodeQuery('example.test')).subarray(0, 10);
  const stuck = await tcpRaw(room.port, half, 1, '127.0.0.1', 3000);
  assert.ok(stuck.closed, 'closed by the idle timeout');
  // Several pipelined queries on one connection are all answered.
  const pipe = Buffer.concat(
    [1, 2, 3].map((id) => frame(encodeQuery(`s${id}.us-central1.run.internal`, 'A', { id }))),
  );
  const piped = await tcpRaw(room.port, pipe, 3);
  assert.deepEqual(piped.replies.map((b) => decode(b).id).sort(), [1, 2, 3]);
  assert.ok((await room.counted({ outcome: 'malformed' })) >= 4);
  assert.deepEqual(await short(room.port, 'hello.us-central1.run.internal'), ['127.0.0.1']);
});

test('two listener threads share the port; metrics cover both', async (t) => {
  const up = await upstream(t);
  const room = await startDnsRoom(t, { upstreams: [up.address], threads: 2, host6: '::1' });
  // Each query from its own socket: the kernel spreads them over both threads' sockets.
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) => udpQuery(room.port, `svc-${i}.us-central1.run.internal`, 'A')),
  );
  assert.ok(answers.every((a) => a.answers[0]?.data === '127.0.0.1'));
  assert.equal((await tcpQuery(room.port, 'example.test', 'A')).answers[0]?.data, '192.0.2.10');
  assert.equal(await room.counted({ outcome: 'local' }), 40, 'helper thread counts are merged');
  assert.equal(await room.counted({ outcome: 'forwarded' }), 1);
});

test('an IPv6 upstream written in a long form is used', async (t) => {
  const up = await upstream(t, { host: '::1' });
  const room = await startDnsRoom(t, {
    upstreams: [`[0:0:0:0:0:0:0:1]:${up.port}`],
    attemptMs: 300,
    totalMs: 600,
  });
  assert.deepEqual(await short(room.port, 'example.test', 'A'), ['192.0.2.10']);
  assert.equal((await tcpQuery(room.port, 'mail.example.test', 'A')).answers[0]?.data, '192.0.2.11');
});

test('a port already taken fails the room with a clear error', async (t) => {
  const up = await upstream(t);
  const room = await startDnsRoom(t, { upstreams: [up.address] });
  await assert.rejects(
    startDnsRoom(t, { upstreams: [up.address], port: room.port }),
    /dns: cannot listen on port \d+ \(EADDRINUSE\)/,
  );
});

test('a TCP client that half-closes after its query still gets the forwarded answer', async (t) => {
  const up = await upstream(t);
  up.knobs.latencyMs = 50;
  const room = await startDnsRoom(t, { upstreams: [up.address] });
  const { connect } = await import('node:net');
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const s = connect({ port: room.port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
    s.end(frame(encodeQuery('example.test', 'A', { id: 5 })));
  });
  assert.ok(reply.length > 2, 'an answer came back before the close');
  const d = decode(reply.subarray(2));
  assert.equal(d.id, 5);
  assert.equal(d.answers[0]?.data, '192.0.2.10');
});

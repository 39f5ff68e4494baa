// DNS fuzz benchmark: the dns room in its worker thread (as the supervisor starts it, through
// Rooms), the emulator's DNS as its upstream, and ≥ 1,000,000 generated packets thrown at it over
// UDP (and ~2 % over TCP): random bytes, mutated valid queries, truncated queries, huge section
// counts, compression-pointer loops, and some valid queries. After each batch the room must still
// be running (no exit, no restart) and answer an internal and a forwarded probe correctly.
//   ./node_modules/.bin/node bench/dns-fuzz.ts [packets=1000000] [seed=1]
// Prints packets sent, crashes (room exits/restarts: must be 0), answers, packets/s; exits 1 when
// the room crashed, a probe failed or a reply was not a DNS response. The numbers in docs/dns.md
// come from it.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { startUpstreamDns } from '../src/emulator/dns.ts';
import { createLogger } from '../src/log.ts';
import { Rooms } from '../src/supervisor/rooms.ts';
import { decode, encodeQuery, frame, udpRaw } from '../test/helpers/dns-client.ts';
import { baseDnsSettings } from '../test/helpers/dns-settings.ts';
import type { DnsSettings } from '../workers/dns/settings.ts';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const SEED = Number(process.argv[3] ?? 1);
const BATCH = 50_000;
const TCP_SHARE = Number(process.env['TCP_SHARE'] ?? 0.02);
const CLIENTS = 4;
/** Replies owed (sent, not yet answered) before the sender waits: keeps the room's buffer from overflowing. */
const WINDOW = 1_000;

// xorshift32: fast and seeded, so a failing run repeats.
let s = SEED >>> 0 || 1;
function r(n: number): number {
  s ^= s << 13;
  s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5;
  s >>>= 0;
  return s % n;
}

const seeds = [
  encodeQuery('hello.us-central1.run.internal', 'A'),
  encodeQuery('hello.us-central1.run.internal', 'AAAA', { edns: 1232 }),
  encodeQuery('my-svc.run.internal', 'MX'),
  encodeQuery('api.example.com.us-central1.run.internal', 'A'),
  encodeQuery('metadata.google.internal', 'A'),
  encodeQuery('foo.google.internal', 'SRV', {
    edns: 4096,
    ednsOptions: [{ code: 10, data: Buffer.alloc(8) }],
  }),
  encodeQuery('hello.us-central1.run.internal.corp.example.com', 'A'),
  encodeQuery('example.test', 'A'),
  encodeQuery('example.test', 'MX'),
  encodeQuery('www.example.test', 'A', { edns: 512 }),
  encodeQuery('_http._tcp.example.test', 'SRV'),
  encodeQuery('big.example.test', 'TXT'),
];
function seed(): Buffer {
  return Buffer.from(seeds[r(seeds.length)] as Buffer);
}

const kinds = ['random', 'mutated', 'truncated', 'counts', 'loop', 'valid'] as const;
type Kind = (typeof kinds)[number];
const made: Record<Kind, number> = { random: 0, mutated: 0, truncated: 0, counts: 0, loop: 0, valid: 0 };

/** One generated packet. */
function packet(): Buffer {
  const k = r(100);
  let b: Buffer;
  let kind: Kind;
  if (k < 25) {
    kind = 'random';
    b = Buffer.allocUnsafe(r(512));
    for (let i = 0; i < b.length; i++) b[i] = r(256);
    if (b.length >= 3 && r(2) === 0) b[2] = (b[2] ?? 0) & 0x7f; // half of them "queries", so they get parsed
  } else if (k < 55) {
    kind = 'mutated';
    b = seed();
    for (let i = 1 + r(4); i > 0; i--) b[r(b.length)] = r(256);
    if (r(4) === 0) b = Buffer.concat([b, Buffer.alloc(r(64), r(256))]);
  } else if (k < 70) {
    kind = 'truncated';
    const full = seed();
    b = full.subarray(0, r(full.length));
  } else if (k < 80) {
    kind = 'counts';
    b = seed();
    for (let i = 1 + r(4); i > 0; i--)
      b.writeUInt16BE(r(3) === 0 ? 0xffff : r(3) === 0 ? 0x8000 : r(300), 4 + 2 * r(4));
  } else if (k < 90) {
    kind = 'loop';
    // A question name that points at itself, at the next pointer (two pointers in a cycle), past the
    // end, or into the header; sometimes an answer section of such names.
    b = Buffer.alloc(12 + 6 + r(40));
    b.writeUInt16BE(r(65536), 0);
    b.writeUInt16BE(0x0100, 2);
    b.writeUInt16BE(1, 4);
    b.writeUInt16BE(r(3), 6);
    const shape = r(4);
    const target = shape === 0 ? 12 : shape === 1 ? 14 : shape === 2 ? 0x3fff : r(12);
    b.writeUInt16BE(0xc000 | target, 12);
    b.writeUInt16BE(0xc00c, 14);
    b.writeUInt16BE(1, 16);
    for (let i = 18; i < b.length; i++) b[i] = r(3) === 0 ? 0xc0 : r(256);
  } else {
    kind = 'valid';
    b = seed();
  }
  made[kind]++;
  return b;
}

/** Whether the room owes this packet a reply (it drops what is too short or a response). */
function owed(b: Buffer): boolean {
  return b.length >= 12 && ((b[2] ?? 0) & 0x80) === 0;
}

const up = await startUpstreamDns({ frontendAddress: '127.0.0.3', metadataAddress: '127.0.0.4' });
const rooms = new Rooms(
  {
    log: createLogger({ verbosity: 0, format: 'text', write: () => {} }),
    logSettings: { verbosity: 0, format: 'text' },
  },
  { region: null, projectNumber: null, projectId: null },
);
let restartEvents = 0;
rooms.on('restart', () => restartEvents++);
const settings: DnsSettings = { ...baseDnsSettings({ upstreams: [] }), upstreams: [up.address], threads: 1 };
await rooms.startAll([
  { name: 'dns', entry: new URL('../workers/dns/worker.ts', import.meta.url), settings },
]);
const port = (): number => Number(rooms.info('dns')?.['port']);

let sentUdp = 0;
let sentTcp = 0;
let owedUdp = 0;
let slack = 0;
let answers = 0;
let badReplies = 0;
let probeFailures = 0;
const clients: UdpSocket[] = [];
for (let i = 0; i < CLIENTS; i++) {
  const c = createSocket('udp4');
  c.on('message', (m) => {
    answers++;
    if (m.length < 12 || ((m[2] ?? 0) & 0x80) === 0) badReplies++;
  });
  await new Promise<void>((res) => c.bind(0, '127.0.0.1', res));
  c.setRecvBufferSize(4 << 20);
  clients.push(c);
}

const tick = () => new Promise<void>((res) => setImmediate(res));

async function udpBatch(n: number): Promise<void> {
  const p = port();
  for (let i = 0; i < n; i++) {
    const b = packet();
    if (owed(b)) owedUdp++;
    (clients[i % CLIENTS] as UdpSocket).send(b, p, '127.0.0.1');
    sentUdp++;
    if ((i & 63) === 63) {
      // Wait while too many replies are owed. Replies that stay away (datagrams lost to a full
      // buffer, forwarded queries still waiting for their 3 s SERVFAIL) become slack after 20 ms
      // without progress, so they do not throttle the rest of the run.
      await tick();
      let last = answers;
      let idle = 0;
      while (owedUdp - answers - slack > WINDOW) {
        if (idle >= 20) {
          slack = owedUdp - answers;
          break;
        }
        await new Promise((res) => setTimeout(res, 1));
        if (answers === last) idle++;
        else {
          last = answers;
          idle = 0;
        }
      }
    }
  }
}

/**
 * TCP: connections of up to 100 framed packets each, some ending in a bad length prefix (the room
 * closes the connection); done when every owed reply is in, the room closes, or after 2 s (a
 * forwarded query the upstream ignores is answered SERVFAIL only after 3 s).
 */
function tcpConnection(count: number): Promise<void> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let expect = 0;
    for (let i = 0; i < count; i++) {
      const b = packet();
      if (owed(b)) expect++;
      parts.push(frame(b));
    }
    if (r(5) === 0) parts.push(Buffer.from([0, r(12)])); // below 12: the room closes the connection
    sentTcp += count;
    const sock = connect({ host: '127.0.0.1', port: port() });
    let buf = Buffer.alloc(0);
    const done = () => {
      sock.destroy();
      resolve();
    };
    sock.setTimeout(2000, done);
    sock.on('error', done);
    sock.on('close', done);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        answers++;
        if (m.length < 12 || ((m[2] ?? 0) & 0x80) === 0) badReplies++;
        buf = buf.subarray(2 + m.length);
        if (--expect === 0) done();
      }
    });
    sock.on('connect', () => sock.end(Buffer.concat(parts)));
  });
}

async function probe(): Promise<boolean> {
  const local = await udpRaw(
    port(),
    encodeQuery('hello.us-central1.run.internal', 'A', { id: 4321 }),
    '127.0.0.1',
    3000,
  );
  const fwd = await udpRaw(port(), encodeQuery('www.example.test', 'A', { id: 4322 }), '127.0.0.1', 3000);
  if (!local || !fwd) return false;
  const l = decode(local);
  const f = decode(fwd);
  return (
    l.id === 4321 &&
    l.rcode === 'NOERROR' &&
    l.answers[0]?.data === '127.0.0.1' &&
    f.id === 4322 &&
    f.rcode === 'NOERROR' &&
    f.answers.length > 0
  );
}

const load0 = loadavg();
const t0 = process.hrtime.bigint();
let batches = 0;
const conns: Promise<void>[] = [];
for (let sent = 0; sent < TOTAL; ) {
  const n = Math.min(BATCH, TOTAL - sent);
  const tcp = Math.round(n * TCP_SHARE);
  // The previous batch's TCP connections may still wait for a slow SERVFAIL: not waited for here.
  for (let left = tcp; left > 0; left -= 100) conns.push(tcpConnection(Math.min(100, left)));
  await udpBatch(n - tcp);
  sent += n;
  batches++;
  await new Promise((res) => setTimeout(res, 50)); // let the last replies in
  if (!(await probe())) probeFailures++;
  process.stderr.write(
    `batch ${batches}: ${sent.toLocaleString('en')} sent, ${answers.toLocaleString('en')} answers, restarts ${rooms.restarts('dns')}\n`,
  );
}
await Promise.all(conns);
if (!(await probe())) probeFailures++;
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const load1 = loadavg();

const control = rooms.controls().find(([n]) => n === 'dns')?.[1];
const m = (await control?.metrics())?.find((x) => x.name === 'runsd_dns_queries_total');
const byOutcome: Record<string, number> = {};
for (const v of m?.values ?? []) {
  const k = String(v.labels['outcome']);
  byOutcome[k] = (byOutcome[k] ?? 0) + v.value;
}
const crashes = Math.max(rooms.restarts('dns'), restartEvents);
const total = sentUdp + sentTcp;
const fmt = (x: number) => Math.round(x).toLocaleString('en');
console.log(
  `dns fuzz: ${availableParallelism()} CPUs, Node ${process.version}, seed ${SEED}, load average ${load0.map((l) => l.toFixed(1)).join(' ')} → ${load1.map((l) => l.toFixed(1)).join(' ')}`,
);
console.log(
  `packets sent      ${fmt(total)} (UDP ${fmt(sentUdp)}, TCP ${fmt(sentTcp)}) in ${batches} batches`,
);
console.log(
  `  by kind         ${Object.entries(made)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ')}`,
);
console.log(`crashes           ${crashes} (room exits/restarts)`);
console.log(
  `answers           ${fmt(answers)} (UDP replies owed ${fmt(owedUdp)}; bad replies ${badReplies})`,
);
console.log(`probes failed     ${probeFailures} of ${batches + 1} (after each batch and at the end)`);
console.log(`room outcomes     ${JSON.stringify(byOutcome)}`);
console.log(`elapsed           ${secs.toFixed(1)} s, ${fmt(total / secs)} packets/s`);
for (const c of clients) c.close();
await rooms.closeAll();
await up.close();
process.exit(crashes === 0 && probeFailures === 0 && badReplies === 0 ? 0 : 1);

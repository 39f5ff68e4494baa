// DNS benchmark with dnsperf (Debian package `dnsperf`): the dns room in a worker thread (as the
// supervisor starts it), the emulator's upstream DNS in this process. Scenarios: internal names
// (answered locally), forwarded cold (unique names, each goes upstream), forwarded cached (a small
// warmed set), the same set asked of the upstream directly, and the room with 2 listener threads.
//   ./node_modules/.bin/node bench/dns.ts [seconds=10]      (DNSPERF_ARGS overrides the load)
// Prints a markdown table; the numbers in docs/dns.md come from it.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstreamDns } from '../src/emulator/dns.ts';
import { createLogger } from '../src/log.ts';
import { Rooms } from '../src/supervisor/rooms.ts';
import { baseDnsSettings } from '../test/helpers/dns-settings.ts';
import type { DnsSettings } from '../workers/dns/settings.ts';

const seconds = Number(process.argv[2] ?? 10);
/** Several client sockets and two dnsperf threads: a single client socket mostly measures dnsperf. */
const load = (process.env['DNSPERF_ARGS'] ?? '-c 8 -T 2 -q 500 -t 1').split(' ').filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'runsd-dnsbench-'));

const up = await startUpstreamDns({ frontendAddress: '127.0.0.3', metadataAddress: '127.0.0.4' });

async function startRoom(threads: number): Promise<{ port: number; rooms: Rooms }> {
  const rooms = new Rooms(
    { log: createLogger({ verbosity: 0, format: 'text' }), logSettings: { verbosity: 0, format: 'text' } },
    { region: null, projectNumber: null, projectId: null },
  );
  const settings: DnsSettings = {
    ...baseDnsSettings({ upstreams: [] }),
    upstreams: [up.address],
    cacheSize: 200_000,
    threads,
  };
  await rooms.startAll([
    { name: 'dns', entry: new URL('../workers/dns/worker.ts', import.meta.url), settings },
  ]);
  return { port: Number(rooms.info('dns')?.['port']), rooms };
}

function file(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

interface Result {
  qps: number;
  avgMs: number;
  lost: string;
}

function dnsperf(target: number, data: string, extra: string[]): Promise<Result> {
  return new Promise((resolve, reject) =>
    execFile('dnsperf', ['-s', '127.0.0.1', '-p', String(target), '-d', data, ...extra], (err, out) => {
      if (err) return reject(err);
      resolve({
        qps: Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1]),
        avgMs: Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1]) * 1000,
        lost: /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(out)?.[1] ?? '?',
      });
    }),
  );
}

const internal = file(
  'internal.txt',
  Array.from({ length: 1000 }, (_, i) => `svc-${i}.us-central1.run.internal ${i % 4 === 0 ? 'AAAA' : 'A'}`),
);
const cached = file('cached.txt', [
  'example.test A',
  'example.test AAAA',
  'example.test MX',
  'example.test TXT',
  'www.example.test A',
  'mail.example.test A',
  '_http._tcp.example.test SRV',
  'hello-123.us-central1.run.app A',
  ...Array.from({ length: 92 }, (_, i) => `gone-${i}.example.test A`),
]);
const cold = file(
  'cold.txt',
  Array.from({ length: 40_000 }, (_, i) => `c${i}-${process.pid}.cold.test A`),
);
const timed = ['-l', String(seconds), ...load];

const one = await startRoom(1);
const rows: [string, Result][] = [];
rows.push(['internal names (local answer)', await dnsperf(one.port, internal, timed)]);
rows.push(['forwarded, cold (unique names → upstream)', await dnsperf(one.port, cold, ['-n', '1'])]);
await dnsperf(one.port, cached, ['-n', '1']);
rows.push(['forwarded, cached', await dnsperf(one.port, cached, timed)]);
rows.push(['upstream directly (same cached set)', await dnsperf(up.port, cached, timed)]);
// Latency below saturation: a steady 5,000 queries/s (the throughput rows measure queueing too).
const paced = ['-l', String(Math.min(seconds, 5)), '-Q', '5000', '-c', '8', '-T', '2', '-t', '1'];
rows.push(['internal names at 5k q/s', await dnsperf(one.port, internal, paced)]);
rows.push(['forwarded, cached, at 5k q/s', await dnsperf(one.port, cached, paced)]);
rows.push(['upstream directly at 5k q/s', await dnsperf(up.port, cached, paced)]);
await one.rooms.closeAll();

const two = await startRoom(2);
rows.push(['internal names, 2 threads', await dnsperf(two.port, internal, timed)]);
await dnsperf(two.port, cached, ['-n', '3', ...load]); // warm both threads' caches
rows.push(['forwarded, cached, 2 threads', await dnsperf(two.port, cached, timed)]);
const control = two.rooms.controls().find(([n]) => n === 'dns')?.[1];
const m = (await control?.metrics())?.find((x) => x.name === 'runsd_dns_queries_total');
const byOutcome: Record<string, number> = {};
for (const v of m?.values ?? []) {
  const k = String(v.labels['outcome']);
  byOutcome[k] = (byOutcome[k] ?? 0) + v.value;
}
await two.rooms.closeAll();

const cpu = execFileSync('nproc').toString().trim();
const loadavg = (await import('node:os'))
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
console.log(
  `dnsperf, ${seconds} s per run, ${cpu} CPUs, Node ${process.version}, dnsperf ${load.join(' ')}, load average ${loadavg}\n`,
);
console.log('| scenario | queries/s | avg latency | lost |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, r] of rows)
  console.log(
    `| ${name} | ${Math.round(r.qps).toLocaleString('en')} | ${r.avgMs.toFixed(3)} ms | ${r.lost} |`,
  );
const direct = rows[3]?.[1].qps ?? 1;
const x = (i: number) => ((rows[i]?.[1].qps ?? 0) / direct).toFixed(2);
console.log(`\ncached forwarded / upstream directly: ${x(2)}× (1 thread), ${x(8)}× (2 threads)`);
console.log(`2-thread room outcomes (merged over threads): ${JSON.stringify(byOutcome)}`);
await up.close();

// DNS benchmark with dnsperf (Debian package `dnsperf`): the dns room in its worker thread, the
// emulator's upstream DNS in this process. Scenarios: internal names (answered locally), forwarded
// cold (unique names, each goes upstream), forwarded cached (a small warmed set), and the same
// cached set asked of the upstream directly. Usage:
//   ./node_modules/.bin/node bench/dns.ts [seconds=10]
// Prints a markdown table; the numbers in docs/dns.md come from it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstreamDns } from '../src/emulator/dns.ts';
import { createLogger } from '../src/log.ts';
import { Rooms } from '../src/supervisor/rooms.ts';
import type { DnsSettings } from '../workers/dns/settings.ts';

const seconds = Number(process.argv[2] ?? 10);
/** Several client sockets and two dnsperf threads: one client socket alone measures dnsperf. */
const load = (process.env['DNSPERF_ARGS'] ?? '-c 8 -T 2 -q 500').split(' ').filter(Boolean);
const dir = mkdtempSync(join(tmpdir(), 'runsd-dnsbench-'));

const up = await startUpstreamDns({ frontendAddress: '127.0.0.3', metadataAddress: '127.0.0.4' });
const rooms = new Rooms(
  { log: createLogger({ verbosity: 0, format: 'text' }), logSettings: { verbosity: 0, format: 'text' } },
  { region: null, projectNumber: null, projectId: null },
);
const settings: DnsSettings = {
  host4: '127.0.0.1',
  host6: null,
  port: 0,
  domain: 'run.internal.',
  upstreams: [up.address],
  region: 'us-central1',
  cacheSize: 200_000,
};
await rooms.startAll([
  { name: 'dns', entry: new URL('../workers/dns/worker.ts', import.meta.url), settings },
]);
const port = Number(rooms.info('dns')?.['port']);

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

/** dnsperf runs as a child; this process only serves the (idle or cold-path) upstream meanwhile. */
async function dnsperf(target: number, data: string, extra: string[]): Promise<Result> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('dnsperf', ['-s', '127.0.0.1', '-p', String(target), '-d', data, ...extra], (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1]);
  const avg = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(out)?.[1]);
  const lost = /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(out)?.[1] ?? '?';
  return { qps, avgMs: avg * 1000, lost };
}

const internal = file(
  'internal.txt',
  Array.from({ length: 1000 }, (_, i) => `svc-${i}.us-central1.run.internal ${i % 4 === 0 ? 'AAAA' : 'A'}`),
);
const cachedNames = [
  'example.test A',
  'example.test AAAA',
  'example.test MX',
  'example.test TXT',
  'www.example.test A',
  'mail.example.test A',
  '_http._tcp.example.test SRV',
  'hello-123.us-central1.run.app A',
  ...Array.from({ length: 92 }, (_, i) => `gone-${i}.example.test A`),
];
const cached = file('cached.txt', cachedNames);
const coldCount = 40_000;
const cold = file(
  'cold.txt',
  Array.from({ length: coldCount }, (_, i) => `c${i}-${process.pid}.cold.test A`),
);

const rows: [string, Result][] = [];
rows.push(['internal names (local answer)', await dnsperf(port, internal, ['-l', String(seconds), ...load])]);
rows.push(['forwarded, cold (unique names → upstream)', await dnsperf(port, cold, ['-n', '1'])]);
await dnsperf(port, cached, ['-n', '1']); // warm
rows.push(['forwarded, cached', await dnsperf(port, cached, ['-l', String(seconds), ...load])]);
rows.push([
  'upstream directly (same cached set)',
  await dnsperf(up.port, cached, ['-l', String(seconds), ...load]),
]);

const cpu = execFileSync('nproc').toString().trim();
console.log(`dnsperf ${seconds}s runs, ${cpu} CPUs, Node ${process.version}, dnsperf ${load.join(' ')}\n`);
console.log('| scenario | queries/s | avg latency | lost |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, r] of rows)
  console.log(
    `| ${name} | ${Math.round(r.qps).toLocaleString('en')} | ${r.avgMs.toFixed(3)} ms | ${r.lost} |`,
  );
const ratio = (rows[2]?.[1].qps ?? 0) / (rows[3]?.[1].qps ?? 1);
console.log(`\ncached forwarded / upstream directly: ${ratio.toFixed(2)}×`);

const control = rooms.controls().find(([n]) => n === 'dns')?.[1];
const m = (await control?.metrics())?.find((x) => x.name === 'runsd_dns_queries_total');
const byOutcome: Record<string, number> = {};
for (const v of m?.values ?? [])
  byOutcome[String(v.labels['outcome'])] = (byOutcome[String(v.labels['outcome'])] ?? 0) + v.value;
console.log(`room outcomes: ${JSON.stringify(byOutcome)}; upstream saw ${up.count()} queries`);
await rooms.closeAll();
await up.close();

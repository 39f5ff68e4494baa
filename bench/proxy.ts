// Throughput and latency through runsd's proxy vs. straight to the emulator's HTTPS front end, in the
// same run, plus the proxy's CPU per 1,000 requests (read from /proc for the process hosting the
// rooms). A bare Node forwarder (bench/node-floor.ts) runs beside it: what any Node proxy costs here.
// Direct, runsd and the floor are measured in turn, ROUNDS times, and the medians reported: on a
// shared 2-vCPU VM one run can differ from the next by 20%. Needs wrk and h2load (Debian: wrk,
// nghttp2-client).
// Run: ./node_modules/.bin/node bench/proxy.ts   (env SECONDS=N per run, default 5; ROUNDS, default 3;
// LOADS=2 for the second row only)
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { startEmulator } from '../src/emulator/index.ts';
import { type LoadResult, h2load as loadH2, wrk as loadWrk } from './load-tools.ts';

const SECONDS = Number(process.env['SECONDS'] ?? 5);
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const emu = await startEmulator();
const AUD = `https://hello-${emu.projectNumber}.${emu.region}.run.app`;
const HOST = AUD.slice('https://'.length);
const tokenRes = await fetch(
  `http://${emu.metadata.hostPort}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(AUD)}&format=full`,
  { headers: { 'Metadata-Flavor': 'Google' } },
);
const token = await tokenRes.text();

const host = spawn(
  process.execPath,
  [
    new URL('./proxy-host.ts', import.meta.url).pathname,
    JSON.stringify({
      metadataHost: emu.metadata.hostPort,
      dns: emu.dns.address,
      frontendPort: emu.frontend.port,
      caPem: emu.frontend.caPem,
    }),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const firstLine = (p: ChildProcess) =>
  new Promise<string>((r) => createInterface({ input: p.stdout! }).once('line', r));
const port = Number(await firstLine(host));
const floor = spawn(
  process.execPath,
  [
    new URL('./node-floor.ts', import.meta.url).pathname,
    JSON.stringify([emu.frontend.port, HOST, `Bearer ${token}`, emu.frontend.caPem]),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
// A failed run must not leave the proxy host behind (its token room would keep retrying the
// emulator that went away with us).
process.on('exit', () => {
  host.kill('SIGKILL');
  floor.kill('SIGKILL');
});
const [floorH1, floorH2c] = (await firstLine(floor)).split(' ').map(Number) as [number, number];
/** CPU ms used so far by a process (all its threads): utime + stime, USER_HZ = 100. */
const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};

const PATH = '/status/200';
const direct = `https://127.0.0.1:${emu.frontend.port}${PATH}`;

interface Result extends LoadResult {
  cpuPer1k: number | null;
}

const wrk = async (url: string, conns: number, headers: string[]): Promise<Result> => ({
  ...(await loadWrk(url, conns, SECONDS, headers)),
  cpuPer1k: null,
});
const h2load = async (url: string, conns: number, streams: number, headers: string[]): Promise<Result> => ({
  ...(await loadH2(url, conns, streams, SECONDS, headers)),
  cpuPer1k: null,
});

/** One measurement, with the CPU the process at `pid` spent per 1,000 requests during it. */
async function measured(pid: number, go: () => Promise<Result>): Promise<Result> {
  const c0 = cpuMs(pid);
  const r = await go();
  return { ...r, cpuPer1k: ((cpuMs(pid) - c0) / r.requests) * 1000 };
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const med = (rs: Result[]): Result => ({
  rps: median(rs.map((r) => r.rps)),
  p50ms: rs[0]!.p50ms === null ? null : median(rs.map((r) => r.p50ms!)),
  requests: median(rs.map((r) => r.requests)),
  cpuPer1k: rs[0]!.cpuPer1k === null ? null : median(rs.map((r) => r.cpuPer1k!)),
});

type Load = { name: string; run: (url: string, headers: string[]) => Promise<Result>; h2: boolean };
const all: Load[] = [
  { name: 'HTTP/1.1, 16 connections (wrk)', run: (u, h) => wrk(u, 16, h), h2: false },
  { name: 'HTTP/1.1, 1 connection (wrk)', run: (u, h) => wrk(u, 1, h), h2: false },
  { name: 'h2c, 16 connections × 10 streams (h2load)', run: (u, h) => h2load(u, 16, 10, h), h2: true },
  { name: 'h2c, 1 connection × 1 stream (h2load)', run: (u, h) => h2load(u, 1, 1, h), h2: true },
];
// LOADS=2,4: only those rows (1-based), e.g. to repeat one A/B many times.
const pick = (process.env['LOADS'] ?? '').split(',').filter(Boolean).map(Number);
const loads = pick.length > 0 ? all.filter((_, i) => pick.includes(i + 1)) : all;

const directH1 = [`Host: ${HOST}`, `X-Serverless-Authorization: Bearer ${token}`];
const directH2 = [`:authority: ${HOST}`, `x-serverless-authorization: Bearer ${token}`];
const fmt = (x: number, d = 0) => x.toFixed(d);
const rows: string[] = [];

// Warm-up: sessions, token mirror, JIT.
await wrk(`http://127.0.0.1:${port}${PATH}`, 4, ['Host: hello']);
await wrk(`http://127.0.0.1:${floorH1}${PATH}`, 4, ['Host: hello']);
for (const l of loads) {
  const d: Result[] = [];
  const p: Result[] = [];
  const b: Result[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    d.push(await l.run(direct, l.h2 ? directH2 : directH1));
    p.push(
      await measured(host.pid!, () =>
        l.run(`http://127.0.0.1:${port}${PATH}`, [l.h2 ? ':authority: hello' : 'Host: hello']),
      ),
    );
    b.push(
      await measured(floor.pid!, () =>
        l.run(`http://127.0.0.1:${l.h2 ? floorH2c : floorH1}${PATH}`, [
          l.h2 ? ':authority: hello' : 'Host: hello',
        ]),
      ),
    );
  }
  const [dm, pm, bm] = [med(d), med(p), med(b)];
  const lat =
    dm.p50ms !== null && pm.p50ms !== null && bm.p50ms !== null
      ? `${fmt(dm.p50ms, 3)} / ${fmt(pm.p50ms, 3)} (+${fmt(pm.p50ms - dm.p50ms, 3)}) / ${fmt(bm.p50ms, 3)}`
      : '–';
  rows.push(
    `| ${l.name} | ${fmt(dm.rps)} | ${fmt(pm.rps)} (${fmt((pm.rps / dm.rps) * 100)}%) | ${fmt(bm.rps)} (${fmt((bm.rps / dm.rps) * 100)}%) | ${lat} | ${fmt(pm.cpuPer1k!)} / ${fmt(bm.cpuPer1k!)} |`,
  );
  console.error(rows.at(-1), `rounds: runsd ${p.map((r) => fmt(r.rps)).join(', ')}`);
}
console.log(
  `Node ${process.version}, ${ROUNDS} rounds × ${SECONDS} s, medians; path ${PATH}; direct = HTTPS to the emulator front end with a token; bare Node = bench/node-floor.ts.`,
);
console.log(
  '| load | direct req/s | runsd req/s (of direct) | bare Node req/s (of direct) | p50 ms direct / runsd (added) / bare | CPU ms per 1,000 req runsd / bare |',
);
console.log('| --- | ---: | ---: | ---: | --- | ---: |');
for (const r of rows) console.log(r);
console.log(`identity calls for ${AUD}: ${emu.metadata.identityCalls(AUD)} (1 from this script)`);
for (const p of [host, floor]) {
  p.kill('SIGTERM');
  await new Promise((r) => p.once('exit', r));
}
await emu.close();

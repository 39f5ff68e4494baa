// Throughput and latency through runsd's proxy vs. straight to the emulator's HTTPS front end, in the
// same run, plus the proxy's CPU per 1,000 requests (read from /proc for the process hosting the
// rooms). Needs wrk and h2load (Debian: wrk, nghttp2-client).
// Run: ./node_modules/.bin/node bench/proxy.ts        (env SECONDS=N per run, default 5)
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { startEmulator } from '../src/emulator/index.ts';

const run = promisify(execFile);
const SECONDS = Number(process.env['SECONDS'] ?? 5);
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
const port = Number(
  await new Promise<string>((r) => createInterface({ input: host.stdout! }).once('line', r)),
);
const cpuMs = () => {
  const f = readFileSync(`/proc/${host.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
};

const PATH = '/status/200';
const direct = `https://127.0.0.1:${emu.frontend.port}${PATH}`;
const viaProxy = `http://127.0.0.1:${port}${PATH}`;

interface Result {
  rps: number;
  p50ms: number | null;
  requests: number;
}

async function wrk(url: string, conns: number, headers: string[]): Promise<Result> {
  const args = ['-t', String(Math.min(conns, 2)), '-c', String(conns), '-d', `${SECONDS}s`, '--latency'];
  for (const h of headers) args.push('-H', h);
  const { stdout } = await run('wrk', [...args, url]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const m = /50%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const p50ms = m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : null;
  if (/Non-2xx/.test(stdout)) throw new Error(`non-2xx responses:\n${stdout}`);
  return { rps, p50ms, requests };
}

async function h2load(url: string, conns: number, streams: number, headers: string[]): Promise<Result> {
  const args = ['-c', String(conns), '-m', String(streams), '-D', String(SECONDS), '-t', '1'];
  for (const h of headers) args.push('-H', h);
  const { stdout } = await run('h2load', [...args, url], { maxBuffer: 16 << 20 });
  const rps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout)?.[1]);
  const st = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(stdout);
  if (st?.[3] !== '0') throw new Error(`h2load failures:\n${stdout}`);
  const bad = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (bad?.[2] !== '0' || bad[3] !== '0') throw new Error(`non-2xx:\n${stdout}`);
  return { rps, p50ms: null, requests: Number(st[2]) };
}

const directH = [`Host: ${HOST}`, `X-Serverless-Authorization: Bearer ${token}`];
const proxyH = ['Host: hello'];
const rows: string[] = [];
const line = (name: string, d: Result, p: Result, cpu: number) => {
  const pct = ((p.rps / d.rps) * 100).toFixed(0);
  const lat =
    d.p50ms !== null && p.p50ms !== null
      ? `${d.p50ms.toFixed(3)} / ${p.p50ms.toFixed(3)} (+${(p.p50ms - d.p50ms).toFixed(3)})`
      : '–';
  rows.push(
    `| ${name} | ${Math.round(d.rps)} | ${Math.round(p.rps)} | ${pct}% | ${lat} | ${((cpu / p.requests) * 1000).toFixed(0)} |`,
  );
  console.error(rows.at(-1));
};

// Warm-up: sessions, token mirror, JIT.
await wrk(viaProxy, 4, proxyH);
for (const [name, conns] of [
  ['HTTP/1.1, 16 connections (wrk)', 16],
  ['HTTP/1.1, 1 connection (wrk)', 1],
] as const) {
  const d = await wrk(direct, conns, directH);
  const c0 = cpuMs();
  const p = await wrk(viaProxy, conns, proxyH);
  line(name, d, p, cpuMs() - c0);
}
for (const [name, conns, streams] of [
  ['h2c, 16 connections × 10 streams (h2load)', 16, 10],
  ['h2c, 1 connection × 1 stream (h2load)', 1, 1],
] as const) {
  const d = await h2load(direct, conns, streams, [
    `:authority: ${HOST}`,
    `x-serverless-authorization: Bearer ${token}`,
  ]);
  const c0 = cpuMs();
  const p = await h2load(viaProxy, conns, streams, [':authority: hello']);
  line(name, d, p, cpuMs() - c0);
}
console.log(
  `Node ${process.version}, ${SECONDS} s per run, path ${PATH}; direct = HTTPS to the emulator front end with a token.`,
);
console.log(
  '| load | direct req/s | via runsd req/s | runsd/direct | p50 ms direct / runsd (added) | runsd CPU ms per 1,000 req |',
);
console.log('| --- | ---: | ---: | ---: | --- | ---: |');
for (const r of rows) console.log(r);
console.log(`identity calls for ${AUD}: ${emu.metadata.identityCalls(AUD)} (1 from this script)`);
host.kill('SIGTERM');
await new Promise((r) => host.once('exit', r));
await emu.close();

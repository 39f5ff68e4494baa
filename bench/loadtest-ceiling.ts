// runsd loadtest's own ceiling: its maximum throughput against the emulator's HTTPS front end next
// to h2load (h2) and wrk (HTTP/1.1) — and autocannon (a devDependency) — in the same run, each
// tool in turn, ROUNDS times; medians of req/s and of the same-round ratios reported. The target is the front end's public service (no token: the tools send the same bytes).
// The bar: runsd loadtest ≥ 90 % of h2load and of wrk, and at least autocannon.
// Needs wrk and h2load (Debian: wrk, nghttp2-client) and a build (npm run build: bin/runsd runs the
// bundle). On a shared 2-core machine the front end and the tool compete for the same cores.
// Run: ./node_modules/.bin/node bench/loadtest-ceiling.ts   (env SECONDS per run, default 10;
// ROUNDS, default 3; H2_CONNS/H2_STREAMS default 4/25; H1_CONNS default 32; THREADS for runsd
// loadtest, default 1 — h2load runs -t 1 here, wrk -t 2)
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LoadReport } from '../src/domain/loadgen-report.ts';
import { startEmulator } from '../src/emulator/index.ts';
import { h2load, wrk } from './load-tools.ts';

const run = promisify(execFile);
const SECONDS = Number(process.env['SECONDS'] ?? 10);
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const H2_CONNS = Number(process.env['H2_CONNS'] ?? 4);
const H2_STREAMS = Number(process.env['H2_STREAMS'] ?? 25);
const H1_CONNS = Number(process.env['H1_CONNS'] ?? 32);
const THREADS = Number(process.env['THREADS'] ?? 1);
const root = fileURLToPath(new URL('..', import.meta.url));
const autocannonBin = join(root, 'node_modules/.bin/autocannon');

const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const dir = mkdtempSync(join(tmpdir(), 'runsd-ceiling-'));
const emu = await startEmulator();
const ca = join(dir, 'ca.pem');
writeFileSync(ca, emu.frontend.caPem);
const host = `public-${emu.projectNumber}.${emu.region}.run.app`;
const direct = `https://127.0.0.1:${emu.frontend.port}/`;

async function runsdLoadtest(protocol: 'h2' | 'http1'): Promise<number> {
  const load =
    protocol === 'h2' ? ['-c', String(H2_CONNS), '--streams', String(H2_STREAMS)] : ['-c', String(H1_CONNS)];
  const { stdout } = await run(
    join(root, 'bin/runsd'),
    [
      'loadtest',
      '--json',
      '-q',
      '--protocol',
      protocol,
      ...load,
      '-t',
      String(THREADS),
      '-d',
      String(SECONDS),
      '--no-token',
      '--connect-to',
      `127.0.0.1:${emu.frontend.port}`,
      '--cacert',
      ca,
      `https://${host}/`,
    ],
    { maxBuffer: 64 << 20 },
  );
  const r = JSON.parse(stdout) as LoadReport;
  if (r.errorsTotal > 0 || r.ok !== r.responses)
    throw new Error(`runsd loadtest: failures: ${stdout.slice(0, 400)}`);
  return r.reqPerSec;
}

async function autocannon(): Promise<number> {
  const { stdout } = await run(
    autocannonBin,
    ['-j', '-c', String(H1_CONNS), '-d', String(SECONDS), '-H', `host=${host}`, direct],
    {
      env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0' },
      maxBuffer: 64 << 20,
    },
  );
  return Number((JSON.parse(stdout) as { requests: { average: number } }).requests.average);
}

type Tool = {
  protocol: string;
  tool: string;
  reference: boolean;
  run: (() => Promise<number>) | null;
  why?: string;
};
const tools: Tool[] = [
  {
    protocol: 'h2',
    tool: 'h2load',
    reference: true,
    run: async () => (await h2load(direct, H2_CONNS, H2_STREAMS, SECONDS, [`:authority: ${host}`])).rps,
  },
  { protocol: 'h2', tool: 'runsd loadtest', reference: false, run: () => runsdLoadtest('h2') },
  {
    protocol: 'http1',
    tool: 'wrk',
    reference: true,
    run: async () => (await wrk(direct, H1_CONNS, SECONDS, [`Host: ${host}`])).rps,
  },
  { protocol: 'http1', tool: 'runsd loadtest', reference: false, run: () => runsdLoadtest('http1') },
  existsSync(autocannonBin)
    ? { protocol: 'http1', tool: 'autocannon', reference: false, run: autocannon }
    : {
        protocol: 'http1',
        tool: 'autocannon',
        reference: false,
        run: null,
        why: 'not in node_modules (not installed by this bench)',
      },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results = new Map<Tool, number[]>(tools.map((t) => [t, []]));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    // alternate the order each round, so no tool always gets the warmer (or more tired) machine
    const order = round % 2 ? tools : [...tools].reverse();
    for (const t of order) {
      if (!t.run) continue;
      const rps = await t.run();
      results.get(t)?.push(rps);
      process.stderr.write(`round ${round}: ${t.protocol} ${t.tool} ${rps.toFixed(0)} req/s\n`);
    }
  }
} finally {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nagainst the emulator's front end (${direct}, Host ${host}), ${SECONDS} s × ${ROUNDS} rounds, load average before ${loadBefore}`,
);
console.log(
  `h2: ${H2_CONNS} connections × ${H2_STREAMS} streams; HTTP/1.1: ${H1_CONNS} connections; runsd loadtest -t ${THREADS}\n`,
);
// Ratios are taken round by round (each tool against its reference in the same round, minutes
// apart at most), then the median of those: a slow round on a shared machine moves both sides.
const ratios = (t: Tool, ref: Tool) => {
  const a = results.get(t) ?? [];
  const b = results.get(ref) ?? [];
  return a.map((x, i) => x / (b[i] as number)).filter((r) => Number.isFinite(r));
};
console.log('| protocol | tool | req/s (median) | of the reference, same round (median; each round) |');
console.log('| --- | --- | ---: | ---: |');
for (const t of tools) {
  const ref = tools.find((x) => x.protocol === t.protocol && x.reference);
  const rps = median(results.get(t) ?? []);
  if (!t.run) {
    console.log(`| ${t.protocol} | ${t.tool} | ${t.why} | |`);
    continue;
  }
  const rs = ref && ref !== t ? ratios(t, ref) : [];
  const pct = (r: number) => `${(r * 100).toFixed(0)} %`;
  const cell = ref === t ? '100 %' : rs.length ? `${pct(median(rs))} (${rs.map(pct).join(', ')})` : '';
  console.log(`| ${t.protocol} | ${t.tool} | ${rps.toFixed(0)} | ${cell} |`);
}

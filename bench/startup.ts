// Start-up benchmark (not a test): how long from exec of bin/runsd until the command runs, and how
// much memory runsd holds while the command runs.
//   node bench/startup.ts [--runs=20] [--bin=PATH] [--only=source|bundle]   (npm run bench:startup)
// Runs every scenario from the .ts source (RUNSD_FROM_SOURCE=1) and, when dist/ is built and fresh
// (npm run build), from the esbuild bundle.
// Scenarios:
//   bare      `true` alone (the floor: fork+exec of a tiny program)
//   off       `runsd -- CMD` off Cloud Run (runsd only runs the command)
//   env       `runsd -mode=env -gcp_region=… -project_number=…` (no metadata call; token+proxy READY)
//   dns       `runsd -mode=dns …` on a temp resolv.conf, free loopback ports (all rooms READY, file written)
// Time-to-child = from spawn() until the command's first byte on stdout (it runs `echo started`
// first; stdio is inherited, so that byte goes straight from the command to us). RSS = VmRSS of the
// runsd process (worker threads are threads of that one process) while the command sleeps.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const opt = (name: string, def: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;
const RUNS = Number(opt('runs', '20'));
const BIN = opt('bin', fileURLToPath(new URL('../bin/runsd', import.meta.url)));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

interface Sample {
  toChildMs: number;
  rssKiB: number;
  /** user+sys CPU of runsd (all its threads) up to the RSS sample: less sensitive to machine load. */
  cpuMs: number;
  totalMs: number;
}

let variantEnv: Record<string, string> = {};
function env(): Record<string, string> {
  const e: Record<string, string> = { ...variantEnv };
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(K_|CLOUD_RUN_|GCE_METADATA_|PORT$|RUNSD_FROM_SOURCE$)/.test(k)) e[k] = v;
  }
  return e;
}

// Stop the runsd under measurement if the bench itself is interrupted (it would be orphaned).
let current: ReturnType<typeof spawn> | null = null;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    current?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}

/** One run: spawn, time the first stdout byte, read VmRSS while the command sleeps, then stop it. */
function once(file: string, args: string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'], env: env() });
    current = p;
    let toChildMs = -1;
    let rssKiB = 0;
    let cpuMs = 0;
    p.stdout.once('data', () => {
      toChildMs = Number(process.hrtime.bigint() - t0) / 1e6;
      // Let start-up garbage settle a little, as an idle runsd would.
      setTimeout(() => {
        const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
        rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        // /proc/PID/stat fields 14 and 15 (utime, stime) in clock ticks (100/s on Linux).
        const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
        p.kill('SIGTERM');
      }, 300);
    });
    p.once('error', reject);
    p.once('close', () => {
      if (toChildMs < 0) reject(new Error(`${file} ${args.join(' ')}: the command never ran`));
      else resolve({ toChildMs, rssKiB, cpuMs, totalMs: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

function exitTime(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(file, args, { stdio: 'ignore', env: env() });
    p.once('error', reject);
    p.once('close', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const fmt = (xs: number[]) => `median ${pct(xs, 50).toFixed(0)}  p90 ${pct(xs, 90).toFixed(0)}`;

const CHILD = ['sh', '-c', 'echo started; exec sleep 30'];
const dir = mkdtempSync(join(tmpdir(), 'runsd-bench-'));
const resolvConf = join(dir, 'resolv.conf');
writeFileSync(resolvConf, 'nameserver 10.1.2.3\n');

const facts = ['-gcp_region=us-central1', '-project_number=123'];
const scenarios: [string, () => Promise<string[]>][] = [
  ['off (runsd -- CMD)', async () => ['--', ...CHILD]],
  ['env (-mode=env, rooms READY)', async () => ['-mode=env', ...facts, '--', ...CHILD]],
];
if (process.getuid?.() === 0) {
  scenarios.push([
    'dns (-mode=dns, rooms READY, resolv.conf written)',
    async () => [
      '-mode=dns',
      ...facts,
      `-dns_port=${await freePort()}`,
      `-http_proxy_port=${await freePort()}`,
      `-resolv_conf_file=${resolvConf}`,
      '--',
      ...CHILD,
    ],
  ]);
}

const variants: [string, Record<string, string>][] = [
  ['source (.ts, type stripping)', { RUNSD_FROM_SOURCE: '1' }],
];
const hasDist = existsSync(fileURLToPath(new URL('../dist/runsd.mjs', import.meta.url)));
if (hasDist) variants.push(['bundle (dist/, npm run build)', {}]);
const only = opt('only', '');
try {
  for (const [variant, vEnv] of variants) {
    if (only && !variant.startsWith(only)) continue;
    variantEnv = vEnv;
    console.log(`\n## ${variant}`);
    console.log(
      `bin: ${BIN}   runs: ${RUNS}   load average: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const bare: number[] = [];
    const wrapped: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(await exitTime('true', []));
      wrapped.push(await exitTime(BIN, ['--', 'true']));
    }
    console.log(`wall time, \`true\` alone (ms)            ${fmt(bare)}`);
    console.log(`wall time, \`runsd -- true\` (ms)         ${fmt(wrapped)}`);
    for (const [name, argsFor] of scenarios) {
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await once(BIN, await argsFor()));
      const rss = samples.map((s) => s.rssKiB / 1024);
      console.log(
        `${name.padEnd(52)} time to command (ms) ${fmt(samples.map((s) => s.toChildMs))}   CPU (ms) ${fmt(samples.map((s) => s.cpuMs))}   RSS (MiB) median ${pct(rss, 50).toFixed(1)} max ${Math.max(...rss).toFixed(1)}`,
      );
    }
  }
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

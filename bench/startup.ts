// Start-up benchmark (not a test): how long from exec until the command runs, the CPU that took, and
// how much memory the process holds while the command runs — for every way runsd ships, beside the
// floors it is judged against and the Go runsd, all in one run, taking turns.
//   node bench/startup.ts [--runs=20] [--only=floor,node,source,bundle,sea,go] [--sea]   (npm run bench:startup)
// --sea is --only=floor,node,sea,go. bundle and sea need `npm run build`; go needs
// ../shared/anchors/go-runsd (skipped when absent); dns needs root.
// Programs ("variants"):
//   floor   node + 3 empty worker threads that each post a message and stay (the floor of a three-room design)
//   node    bare node printing one line (the floor when runsd only runs the command)
//   source  bin/runsd from the .ts source (RUNSD_FROM_SOURCE=1)
//   bundle  bin/runsd running dist/runsd.cjs (the npm package)
//   sea     dist/runsd, the single executable
//   go      the Go runsd (../shared/anchors/go-runsd), the tool runsd replaces
// Scenarios: off (runsd only runs the command), env (token + proxy READY), dns (dns + token + proxy
// READY, resolv.conf written). The floors run the same in every scenario, for the ratios.
// Time to command = spawn() until the first byte on stdout (the command runs `echo started` first;
// stdio is inherited, so the byte goes straight from the command to us). CPU = time on CPU of the
// process's threads (/proc/PID/task/*/schedstat) and RSS = its VmRSS, both read 300 ms later while
// the command sleeps (the command itself is another process and not counted). VmRSS includes the
// executable's file pages, which depend on how the file entered the page cache (a freshly built
// dist/runsd maps ~20 MiB more than a `cp` of it: large folios); RssAnon is what the process allocated.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const opt = (name: string, def: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;
const RUNS = Number(opt('runs', '20'));
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const LAUNCHER = here('../bin/runsd');
const SEA = here('../dist/runsd');
const GO = here('../../shared/anchors/go-runsd');
const ONLY = process.argv.includes('--sea') ? 'floor,node,sea,go' : opt('only', 'floor,node,bundle,sea,go');

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
  /** anonymous RSS: what the process itself allocated (the rest maps the executable's file pages) */
  anonKiB: number;
  cpuMs: number;
}

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const e: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(K_|CLOUD_RUN_|GCE_METADATA_|PORT$|RUNSD_FROM_SOURCE$)/.test(k)) e[k] = v;
  }
  return { ...e, ...extra };
}

// Stop the process under measurement if the bench itself is interrupted (it would be orphaned).
let current: ReturnType<typeof spawn> | null = null;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    current?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}

/** One run: spawn, time the first stdout byte, read CPU and VmRSS while the command sleeps, stop it. */
function once(argv: string[], env: Record<string, string>, quiet = false): Promise<Sample> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(file, args, { stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'], env });
    current = p;
    let sample: Sample | null = null;
    p.stdout.once('data', () => {
      const toChildMs = Number(process.hrtime.bigint() - t0) / 1e6;
      // Let start-up garbage settle a little, as an idle runsd would.
      setTimeout(() => {
        const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
        const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        const anonKiB = Number(/^RssAnon:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        sample = { toChildMs, rssKiB, anonKiB, cpuMs: cpuMsOf(p.pid!) };
        p.kill('SIGTERM');
        setTimeout(() => p.kill('SIGKILL'), 2000).unref();
      }, 300);
    });
    p.once('error', reject);
    p.once('close', () => {
      if (sample) resolve(sample);
      else reject(new Error(`${argv.join(' ')}: the command never ran`));
    });
  });
}

/** CPU time of every live thread of `pid`, in ms: schedstat's ns (stat's clock ticks are 10 ms). */
function cpuMsOf(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return ns / 1e6;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const CHILD = ['sh', '-c', 'echo started; exec sleep 30'];
const FLOOR = [
  process.execPath,
  '-e',
  "const{Worker}=require('node:worker_threads');let n=0;for(let i=0;i<3;i++)new Worker(\"require('node:worker_threads').parentPort.postMessage(1);setInterval(()=>{},1e6)\",{eval:true}).once('message',()=>{if(++n===3)process.stdout.write('started\\n')});setInterval(()=>{},1e6)",
];
const NODE = [process.execPath, '-e', "process.stdout.write('started\\n');setInterval(()=>{},1e6)"];
const dir = mkdtempSync(join(tmpdir(), 'runsd-bench-'));
const resolvConf = join(dir, 'resolv.conf');
const RESOLV = 'nameserver 10.1.2.3\n';

type Scenario = 'off' | 'env' | 'dns';
interface Variant {
  name: string;
  /** argv for a scenario, or null when this variant has no such mode */
  argv(s: Scenario): Promise<string[] | null>;
  env: Record<string, string>;
  /** its stderr is not shown (the Go runsd logs every exit at -v=0) */
  quiet?: boolean;
}

const facts = ['-gcp_region=us-central1', '-project_number=123'];
async function runsdArgs(s: Scenario): Promise<string[]> {
  if (s === 'off') return ['--', ...CHILD];
  if (s === 'env') return ['-mode=env', ...facts, '--', ...CHILD];
  writeFileSync(resolvConf, RESOLV);
  return [
    '-mode=dns',
    ...facts,
    `-dns_port=${await freePort()}`,
    `-http_proxy_port=${await freePort()}`,
    `-resolv_conf_file=${resolvConf}`,
    '--',
    ...CHILD,
  ];
}
// The Go runsd has no env mode; it is on "Cloud Run" when K_SERVICE is set and needs a project hash.
async function goArgs(s: Scenario): Promise<string[] | null> {
  if (s === 'env') return null;
  if (s === 'off') return [GO, '--', ...CHILD];
  writeFileSync(resolvConf, RESOLV);
  return [
    GO,
    '-gcp_region=us-central1',
    '-gcp_project_hash=abcdefghij',
    `-dns_port=${await freePort()}`,
    `-http_proxy_port=${await freePort()}`,
    `-resolv_conf_file=${resolvConf}`,
    '--',
    ...CHILD,
  ];
}

const all: Variant[] = [
  { name: 'floor', argv: async () => FLOOR, env: baseEnv({}) },
  { name: 'node', argv: async () => NODE, env: baseEnv({}) },
  {
    name: 'source',
    argv: async (s) => [LAUNCHER, ...(await runsdArgs(s))],
    env: baseEnv({ RUNSD_FROM_SOURCE: '1' }),
  },
  { name: 'bundle', argv: async (s) => [LAUNCHER, ...(await runsdArgs(s))], env: baseEnv({}) },
  { name: 'sea', argv: async (s) => [SEA, ...(await runsdArgs(s))], env: baseEnv({}) },
  {
    name: 'go',
    argv: goArgs,
    env: baseEnv({ K_SERVICE: 'bench' }),
    quiet: true,
  },
];
const missing: Record<string, string | null> = {
  bundle: existsSync(here('../dist/runsd.cjs')) ? null : 'no dist/runsd.cjs (npm run build)',
  sea: existsSync(SEA) ? null : 'no dist/runsd (npm run build)',
  go: existsSync(GO) ? null : `no ${GO}`,
};
const variants = all.filter((v) => {
  if (!ONLY.split(',').includes(v.name)) return false;
  if (missing[v.name]) console.log(`(${v.name} skipped: ${missing[v.name]})`);
  return !missing[v.name];
});
const scenarios: Scenario[] = process.getuid?.() === 0 ? ['off', 'env', 'dns'] : ['off', 'env'];
if (!scenarios.includes('dns')) console.log('(dns scenario skipped: needs root)');

const fmt = (n: number, d = 0) => n.toFixed(d);
try {
  console.log(
    `runs: ${RUNS} per cell, variants taking turns; node ${process.versions.node}; load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const s of scenarios) {
    const samples = new Map<string, Sample[]>();
    for (let i = 0; i < RUNS; i++) {
      for (const v of variants) {
        const argv = await v.argv(s);
        if (!argv) continue;
        const got = await once(argv, v.env, v.quiet);
        samples.set(v.name, [...(samples.get(v.name) ?? []), got]);
      }
    }
    const med = (name: string, k: keyof Sample) => median((samples.get(name) ?? []).map((x) => x[k]));
    // The floor to compare with: bare node when runsd only runs the command, node + 3 workers otherwise.
    const base = s === 'off' ? 'node' : 'floor';
    console.log(`\n## ${s}   (ratios against ${base}; medians)`);
    console.log(
      '| variant | time to command (ms) | × | CPU (ms) | × | RSS (MiB) | + MiB | anon RSS (MiB) | + MiB |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const v of variants) {
      if (!samples.has(v.name)) continue;
      const t = med(v.name, 'toChildMs');
      const c = med(v.name, 'cpuMs');
      const r = med(v.name, 'rssKiB') / 1024;
      const a = med(v.name, 'anonKiB') / 1024;
      const has = samples.has(base);
      const ratio = (a: number, b: number) => (has && b > 0 ? `${fmt(a / b, 2)}×` : '–');
      console.log(
        `| ${v.name} | ${fmt(t)} | ${ratio(t, med(base, 'toChildMs'))} | ${fmt(c)} | ${ratio(c, med(base, 'cpuMs'))} | ${fmt(r, 1)} | ${has ? fmt(r - med(base, 'rssKiB') / 1024, 1) : '–'} | ${fmt(a, 1)} | ${has ? fmt(a - med(base, 'anonKiB') / 1024, 1) : '–'} |`,
      );
    }
  }
  console.log(
    `\nload average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

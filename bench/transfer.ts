// Large transfers through the proxy (not a test): does runsd's memory grow with the size of a body
// or with a slow reader? The real runsd in env mode in front of the emulator; curl moves 1 GiB down
// and 1 GiB up, over HTTP/1.1 and over h2c, and the body is checked (size down, sha256 up). RSS of
// the runsd process is sampled every 50 ms; growth = peak during the transfer - RSS before it.
// Run: ./node_modules/.bin/node bench/transfer.ts [--sea] [--mib=1024]   (needs curl)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../src/emulator/index.ts';
import { startEnvModeRunsd } from '../test/helpers/env-mode-runsd.ts';

const opt = (name: string, def: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;
const MIB = Number(opt('mib', '1024'));
const BYTES = MIB * 2 ** 20;
const sea = process.argv.includes('--sea');
const runsd = fileURLToPath(new URL(sea ? '../dist/runsd' : '../bin/runsd', import.meta.url));

const emu = await startEmulator({});
const { port, rssMiB } = await startEnvModeRunsd(emu, runsd, 'transfer');

/** Runs curl (stdin from `upload` bytes of zeros when given) and returns its stdout. */
function curl(args: string[], upload?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('curl', ['-sS', '--fail-with-body', '-H', 'Host: hello', ...args], {
      stdio: [upload === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    if (upload !== undefined) {
      const chunk = Buffer.alloc(1 << 20);
      let left = upload;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!p.stdin!.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
            return void p.stdin!.once('drain', pump);
        }
        p.stdin!.end();
      };
      pump();
    }
    p.once('error', reject);
    p.once('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`curl ${args.join(' ')}: exit ${code}`)),
    );
  });
}

const zerosSha = (() => {
  const h = createHash('sha256');
  const chunk = Buffer.alloc(1 << 20);
  for (let left = BYTES; left > 0; left -= chunk.length)
    h.update(left >= chunk.length ? chunk : chunk.subarray(0, left));
  return h.digest('hex');
})();

const base = `http://127.0.0.1:${port}`;
const cases: [string, () => Promise<string>, (out: string) => boolean][] = [
  [
    'download, HTTP/1.1',
    () => curl(['-o', '/dev/null', '-w', '%{size_download}', `${base}/bytes/${BYTES}`]),
    (o) => Number(o) === BYTES,
  ],
  [
    'download, h2c',
    () =>
      curl([
        '--http2-prior-knowledge',
        '-o',
        '/dev/null',
        '-w',
        '%{size_download}',
        `${base}/bytes/${BYTES}`,
      ]),
    (o) => Number(o) === BYTES,
  ],
  [
    'upload, HTTP/1.1 (chunked)',
    () => curl(['-T', '-', `${base}/upload`], BYTES),
    (o) => JSON.parse(o).bodySha256 === zerosSha,
  ],
  [
    'upload, h2c',
    () => curl(['--http2-prior-knowledge', '-T', '-', `${base}/upload`], BYTES),
    (o) => JSON.parse(o).bodySha256 === zerosSha,
  ],
];

console.log(
  `runsd: ${sea ? 'dist/runsd' : 'bin/runsd'}; ${MIB} MiB per transfer; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
// Warm up (token, upstream session) so that the first case measures the transfer, not set-up.
await curl(['-o', '/dev/null', `${base}/bytes/1024`]);
await curl(['--http2-prior-knowledge', '-o', '/dev/null', `${base}/bytes/1024`]);
console.log('| transfer | body intact | MiB/s | RSS before | peak | after | growth (peak - before) |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const [name, run, ok] of cases) {
  const before = rssMiB();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB());
  }, 50);
  const t0 = performance.now();
  const out = await run();
  const secs = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB());
  await new Promise((r) => setTimeout(r, 500));
  console.log(
    `| ${name} | ${ok(out) ? 'yes' : `NO: ${out.slice(0, 80)}`} | ${(MIB / secs).toFixed(0)} | ${before.toFixed(1)} | ${peak.toFixed(1)} | ${rssMiB().toFixed(1)} | ${(peak - before).toFixed(1)} |`,
  );
}
await emu.close();
process.exit(0);

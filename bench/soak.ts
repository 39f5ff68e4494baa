import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../src/emulator/index.ts';
import { startEnvModeRunsd } from '../test/helpers/env-mode-runsd.ts';
import { h2load as loadH2, wrk as loadWrk } from './load-tools.ts';

const SECONDS = Number(process.env['SECONDS'] ?? 20);
const SERVICES = 200;
const emu = await startEmulator({
  frontend: {
    services: [{ name: 'hello' }, ...Array.from({ length: SERVICES }, (_, i) => ({ name: `svc${i}` }))],
  },
});
// The real bin/runsd in env mode (the bundle when `npm run build` is fresh, as users run it).
const runsd = await startEnvModeRunsd(emu, fileURLToPath(new URL('../bin/runsd', import.meta.url)), 'soak');
const { port, rssMiB } = runsd;
const url = `http://127.0.0.1:${port}/status/200`;

const wrk = async () => (await loadWrk(url, 16, SECONDS, ['Host: hello'])).requests;
const h2load = async () => (await loadH2(url, 16, 10, SECONDS, [':authority: hello'])).requests;
/** 50 requests to each of SERVICES services, 32 at a time over keep-alive HTTP/1.1. */
async function manyServices(): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const jobs = Array.from({ length: SERVICES * 50 }, (_, i) => `svc${i % SERVICES}`);
  let done = 0;
  const worker = async () => {
    for (let svc = jobs.pop(); svc !== undefined; svc = jobs.pop()) {
      const status = await new Promise<number>((resolve, reject) =>
        http
          .get({ host: '127.0.0.1', port, path: '/status/200', headers: { host: svc }, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject),
      );
      if (status !== 200) throw new Error(`${svc}: status ${status}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  agent.destroy();
  return done;
}

const rows: [string, number, number][] = [];
let total = 0;
const phase = async (name: string, go: () => Promise<number>) => {
  const n = await go();
  total += n;
  rows.push([name, total, rssMiB()]);
  console.error(`${name}: ${n} requests, RSS ${rssMiB().toFixed(1)} MiB`);
};
rows.push(['started (rooms READY)', 0, rssMiB()]);
await phase('HTTP/1.1, wrk 16 connections', wrk);
await phase('h2c, h2load 16×10', h2load);
await phase(`${SERVICES} services × 50 requests`, manyServices);
await phase('HTTP/1.1 again', wrk);
await phase('h2c again', h2load);
await phase(`${SERVICES} services again`, manyServices);
await phase('HTTP/1.1 a third time', wrk);
console.log(
  `Node ${process.version}; ${SECONDS} s per load phase; RSS = VmRSS of the runsd process (its child not counted) after each phase.`,
);
console.log('| after | requests so far | RSS MiB |');
console.log('| --- | ---: | ---: |');
for (const [name, n, rss] of rows)
  console.log(`| ${name} | ${n.toLocaleString('en-US')} | ${rss.toFixed(1)} |`);
const calls = emu.report().identityCalls;
console.log(
  `identity calls: ${Object.values(calls).reduce((a, b) => a + b, 0)} for ${Object.keys(calls).length} audiences`,
);
await runsd.stop();
await emu.close();

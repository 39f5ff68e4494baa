// How much load the emulator itself can take (so load tests know when they measure runsd and when
// the emulator): ID tokens minted per second, and front-end echo requests per second over h2 and
// http/1.1. Run: ./node_modules/.bin/node bench/emulator.ts [seconds]
import http2 from 'node:http2';
import https from 'node:https';
import { startEmulator } from '../src/emulator/index.ts';

const seconds = Number(process.argv[2] ?? 3);
const emu = await startEmulator();
const host = new URL(emu.frontend.url('public')).host;
const lookup = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
  o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never;

async function loop(concurrency: number, one: () => Promise<void>): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await one();
        n++;
      }
    }),
  );
  return n / seconds;
}

const tokens = await loop(16, async () => {
  const r = await fetch(
    `${emu.metadata.url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://a${Math.random()}`,
    { headers: { 'Metadata-Flavor': 'Google' } },
  );
  await r.text();
});

const session = http2.connect(`https://${host}:${emu.frontend.port}`, { ca: emu.frontend.caPem, lookup });
const h2 = await loop(64, () => {
  return new Promise<void>((resolve, reject) => {
    const req = session.request({ ':path': '/', ':authority': host });
    req.on('error', reject);
    req.resume();
    req.on('end', () => resolve());
    req.end();
  });
});
session.close();

const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: emu.frontend.caPem, lookup });
const h1 = await loop(16, () => {
  return new Promise<void>((resolve, reject) => {
    const req = https.request(
      { host, port: emu.frontend.port, path: '/', agent, servername: host },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end();
  });
});
agent.destroy();
await emu.close();

console.log(`metadata identity tokens/s (16 concurrent, new audience each): ${tokens.toFixed(0)}`);
console.log(`front end echo req/s over one h2 session (64 streams): ${h2.toFixed(0)}`);
console.log(`front end echo req/s over http/1.1 (16 keep-alive sockets): ${h1.toFixed(0)}`);

// Token lookup cost, as the proxy sees it:
//   hot    — client.get() answered from the local mirror (no thread crossed)
//   peek   — the synchronous mirror read
//   room   — a port round trip to the token room that answers from its cache (mirror bypassed)
//   miss   — a new audience: port round trip + identity call to the emulator metadata server
//   direct — what the Go runsd did per request: one identity call (no cache), for comparison
// Run: ./node_modules/.bin/node bench/token.ts   (env MISSES=N, HOT=N, LATENCY_MS=N)
import { startMetadataServer } from '../src/emulator/metadata.ts';
import { rawApi, startTokenRoom, tokenSettings } from '../test/workers/token/room-harness.ts';
import { createTokenClient } from '../workers/token/client.ts';

const HOT = Number(process.env['HOT'] ?? 1_000_000);
const MISSES = Number(process.env['MISSES'] ?? 2000);
const LATENCY_MS = Number(process.env['LATENCY_MS'] ?? 0);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function report(name: string, samplesNs: number[], totalNs: number, n: number) {
  const s = samplesNs.sort((a, b) => a - b);
  const us = (ns: number) => (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
  console.log(
    `${name.padEnd(7)} n=${String(n).padStart(8)}  mean ${us(totalNs / n).padStart(8)} µs  p50 ${us(pct(s, 50)).padStart(8)} µs  p99 ${us(pct(s, 99)).padStart(8)} µs  ${Math.round(n / (totalNs / 1e9)).toLocaleString('en')} ops/s`,
  );
}
async function measure(
  name: string,
  n: number,
  fn: (i: number) => Promise<unknown> | unknown,
  sampleEvery = 1,
) {
  const samples: number[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (i % sampleEvery === 0) {
      const a = process.hrtime.bigint();
      await fn(i);
      samples.push(Number(process.hrtime.bigint() - a));
    } else await fn(i);
  }
  report(name, samples, Number(process.hrtime.bigint() - t0), n);
}

const meta = await startMetadataServer({ latencyMs: LATENCY_MS });
const room = await startTokenRoom(tokenSettings({ metadataHost: meta.hostPort, maxConcurrent: 8 }));
const client = createTokenClient(room.peer);
const raw = rawApi(room.peer);
console.log(`node ${process.version}, metadata latency ${LATENCY_MS} ms (emulator signs real RS256 tokens)`);
try {
  const aud = 'https://hot-123456789012.us-central1.run.app';
  await client.get(aud);
  for (let w = 0; w < 100_000; w++) await client.get(aud); // warm-up
  await measure('hot', HOT, () => client.get(aud), 100);
  await measure('peek', HOT, () => client.peek(aud), 100);
  for (let w = 0; w < 500; w++) await raw.token(aud);
  await measure('room', MISSES * 5, () => raw.token(aud));
  const before = meta.identityCalls();
  await measure('miss', MISSES, (i) => client.get(`https://miss${i}-123456789012.us-central1.run.app`));
  if (meta.identityCalls() - before !== MISSES) throw new Error('miss bench did not fetch once per miss');
  const url = (i: number) =>
    `${meta.url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(`https://d${i}.run.app`)}&format=full`;
  await measure('direct', MISSES, async (i) => {
    const r = await fetch(url(i), { headers: { 'Metadata-Flavor': 'Google' } });
    await r.text();
  });
} finally {
  client.close();
  await room.stop();
  await meta.close();
}

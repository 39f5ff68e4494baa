// wrk (HTTP/1.1) and h2load (h2c) runs for the benchmarks, parsed; a run with failures or non-2xx
// answers throws with the tool's output, so a benchmark never reports numbers for broken traffic.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoadResult {
  rps: number;
  /** Median latency (wrk only). */
  p50ms: number | null;
  requests: number;
}

export async function wrk(
  url: string,
  conns: number,
  seconds: number,
  headers: string[],
): Promise<LoadResult> {
  const args = ['-t', String(Math.min(conns, 2)), '-c', String(conns), '-d', `${seconds}s`, '--latency'];
  for (const h of headers) args.push('-H', h);
  const { stdout } = await run('wrk', [...args, url]);
  if (/Non-2xx/.test(stdout)) throw new Error(`non-2xx responses:\n${stdout}`);
  const m = /50%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
    p50ms: m ? Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1) : null,
    requests: Number(/(\d+) requests in/.exec(stdout)?.[1]),
  };
}

export async function h2load(
  url: string,
  conns: number,
  streams: number,
  seconds: number,
  headers: string[],
): Promise<LoadResult> {
  const args = ['-c', String(conns), '-m', String(streams), '-D', String(seconds), '-t', '1'];
  for (const h of headers) args.push('-H', h);
  const { stdout } = await run('h2load', [...args, url], { maxBuffer: 16 << 20 });
  const st = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(stdout);
  if (st?.[3] !== '0') throw new Error(`h2load failures:\n${stdout}`);
  const bad = /status codes: \d+ 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  if (bad?.[2] !== '0' || bad[3] !== '0') throw new Error(`non-2xx:\n${stdout}`);
  return {
    rps: Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout)?.[1]),
    p50ms: null,
    requests: Number(st[2]),
  };
}

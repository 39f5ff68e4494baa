// `npm run loadgen` options: argv → a validated, frozen LoadgenOptions (pure; node:util parseArgs does
// the tokenising). Every error names the option and the bad value, like src/config.ts does for runsd.
import { parseArgs } from 'node:util';

export type LoadProtocol = 'http1' | 'h2c';

export interface LoadgenOptions {
  /** null only with --help */
  url: string | null;
  durationMs: number;
  connections: number;
  /** concurrent streams per connection (h2c only; HTTP/1.1 has one request per connection) */
  streams: number;
  threads: number;
  protocol: LoadProtocol;
  method: string;
  headers: [string, string][];
  bodySize: number;
  /** http://HOST:PORT of an HTTP proxy (runsd in env mode): requests go there in absolute form */
  proxy: string | null;
  /** per-request timeout (counted as error TIMEOUT) */
  timeoutMs: number;
  json: boolean;
  emulator: boolean;
  help: boolean;
}

/** what --emulator loads when no URL is given: the emulator's `hello` service, through runsd */
export const EMULATOR_URL = 'http://hello/';

export class LoadgenUsageError extends Error {
  readonly code = 'RUNSD_LOADGEN_USAGE';
}

export const USAGE = `usage: npm run loadgen -- [options] URL
       npm run loadgen -- --emulator [options] [URL (default http://hello/, through runsd)]
  --duration SECONDS     how long to send requests (default 5; decimals allowed)
  --connections N        concurrent connections, split across the threads (default 10)
  --streams N            concurrent streams per connection, h2c only (default 1)
  --threads N            worker threads (piscina pool; default 2, at most --connections)
  --protocol http1|h2c   HTTP/1.1 keep-alive (default) or HTTP/2 cleartext with prior knowledge
  --method M             request method (default GET)
  --header 'K: V'        extra request header (repeatable)
  --body-size BYTES      send a body of that many bytes (default 0)
  --proxy http://H:P     send requests through this HTTP proxy (runsd env mode), absolute form
  --timeout SECONDS      per-request timeout, counted as error TIMEOUT (default 10)
  --json                 print the report as one JSON object
  --emulator             start the emulator + bin/runsd (env mode) and load URL through it
  -h, --help             this text`;

const SPEC = {
  duration: { type: 'string' },
  connections: { type: 'string', short: 'c' },
  streams: { type: 'string' },
  threads: { type: 'string', short: 't' },
  protocol: { type: 'string' },
  method: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  'body-size': { type: 'string' },
  proxy: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  emulator: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function bad(option: string, value: string, why: string): never {
  throw new LoadgenUsageError(`--${option}=${JSON.stringify(value)}: ${why}`);
}

function int(option: string, value: string | undefined, dflt: number, min: number, max: number): number {
  if (value === undefined) return dflt;
  if (!/^\d+$/.test(value)) bad(option, value, 'not a whole number');
  const n = Number(value);
  if (n < min || n > max) bad(option, value, `must be between ${min} and ${max}`);
  return n;
}

function seconds(option: string, value: string | undefined, dflt: number, max: number): number {
  if (value === undefined) return dflt * 1000;
  const m = /^(\d+(?:\.\d+)?)(s?)$/.exec(value);
  if (!m) bad(option, value, 'not a number of seconds (e.g. 5 or 0.5)');
  const n = Number(m[1]);
  if (n <= 0 || n > max) bad(option, value, `must be > 0 and at most ${max} seconds`);
  return Math.round(n * 1000);
}

function httpUrl(option: string, value: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    bad(option, value, 'not a URL');
  }
  if (u.protocol !== 'http:')
    bad(option, value, 'only http:// URLs (TLS is runsd’s job, not the load generator’s)');
  return u;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export function parseLoadgenArgs(argv: readonly string[]): LoadgenOptions {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof SPEC; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: SPEC, allowPositionals: true, strict: true });
  } catch (err) {
    throw new LoadgenUsageError((err as Error).message);
  }
  const v = parsed.values;
  const help = v.help ?? false;
  const emulator = v.emulator ?? false;
  if (parsed.positionals.length > 1) {
    throw new LoadgenUsageError(
      `one URL expected, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`,
    );
  }
  const rawUrl = parsed.positionals[0];
  if (rawUrl === undefined && !emulator && !help) throw new LoadgenUsageError('missing URL (or --emulator)');
  if (emulator && v.proxy !== undefined)
    throw new LoadgenUsageError('--emulator sets the proxy itself; drop --proxy');
  const url = rawUrl === undefined ? (emulator ? EMULATOR_URL : null) : httpUrl('url', rawUrl).href;
  const proxy = v.proxy === undefined ? null : httpUrl('proxy', v.proxy).origin;

  const protocol = v.protocol ?? 'http1';
  if (protocol !== 'http1' && protocol !== 'h2c') bad('protocol', protocol, 'expected http1 or h2c');
  const connections = int('connections', v.connections, 10, 1, 10_000);
  const threads = Math.min(int('threads', v.threads, 2, 1, 64), connections);
  const streams = int('streams', v.streams, 1, 1, 1000);
  if (streams > 1 && protocol !== 'h2c') bad('streams', String(streams), 'only with --protocol h2c');

  const method = (v.method ?? 'GET').toUpperCase();
  if (!TOKEN.test(method)) bad('method', v.method ?? '', 'not an HTTP method token');
  const headers: [string, string][] = [];
  for (const h of v.header ?? []) {
    const i = h.indexOf(':');
    const name = i > 0 ? h.slice(0, i).trim().toLowerCase() : '';
    if (!TOKEN.test(name)) bad('header', h, "expected 'Name: value'");
    headers.push([name, h.slice(i + 1).trim()]);
  }
  return Object.freeze({
    url,
    durationMs: seconds('duration', v.duration, 5, 3600),
    connections,
    streams,
    threads,
    protocol,
    method,
    headers,
    bodySize: int('body-size', v['body-size'], 0, 0, 64 * 1024 * 1024),
    proxy,
    timeoutMs: seconds('timeout', v.timeout, 10, 3600),
    json: v.json ?? false,
    emulator,
    help,
  });
}

// `runsd loadtest` options: argv → a validated, frozen LoadgenOptions (pure; node:util parseArgs does
// the tokenising). Every error is one line naming the option (and the bad value), never parseArgs'
// own wording, like src/config.ts does for runsd.
import { parseArgs } from 'node:util';

export { USAGE } from './loadgen-usage.ts';

/** what the user asked for; the wire protocol also depends on the URL's scheme (wireProtocol) */
export type LoadProtocol = 'http1' | 'h2' | 'h2c';
/** what goes on the wire: h2c on http://, h2 (TLS, ALPN) on https:// */
export type WireProtocol = 'http1' | 'h2c' | 'h2';

export type BodySource =
  | { kind: 'none' }
  | { kind: 'text'; text: string }
  | { kind: 'file'; path: string }
  | { kind: 'size'; bytes: number };

export interface LoadgenOptions {
  /** null only with --help */
  url: string | null;
  /** measured time; null = until --requests are done */
  durationMs: number | null;
  requests: number | null;
  /** requests/s in all (open loop); null = closed loop */
  rate: number | null;
  warmupMs: number;
  connections: number;
  streams: number;
  threads: number;
  protocol: LoadProtocol;
  grpc: string | null;
  method: string;
  headers: [string, string][];
  body: BodySource;
  proxy: string | null;
  token: string | null;
  tokenFile: string | null;
  noToken: boolean;
  connectTo: { host: string; port: number } | null;
  cacert: string | null;
  compare: string | null;
  rounds: number;
  timeoutMs: number;
  json: boolean;
  html: string | null;
  quiet: boolean;
  emulator: boolean;
  help: boolean;
}

/** what --emulator loads when no URL is given: the emulator's `hello` service, through runsd */
export const EMULATOR_URL = 'http://hello/';
export const DEFAULT_DURATION_MS = 10_000;

export class LoadgenUsageError extends Error {
  readonly code = 'RUNSD_LOADGEN_USAGE';
}

const SPEC = {
  connections: { type: 'string', short: 'c' },
  streams: { type: 'string' },
  duration: { type: 'string', short: 'd' },
  requests: { type: 'string', short: 'n' },
  rate: { type: 'string', short: 'R' },
  warmup: { type: 'string' },
  threads: { type: 'string', short: 't' },
  timeout: { type: 'string' },
  method: { type: 'string', short: 'm' },
  X: { type: 'string', short: 'X' },
  header: { type: 'string', short: 'H', multiple: true },
  body: { type: 'string', short: 'b' },
  'body-file': { type: 'string' },
  'body-size': { type: 'string' },
  protocol: { type: 'string' },
  grpc: { type: 'string' },
  proxy: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'no-token': { type: 'boolean' },
  'connect-to': { type: 'string' },
  cacert: { type: 'string' },
  compare: { type: 'string' },
  rounds: { type: 'string' },
  emulator: { type: 'boolean' },
  json: { type: 'boolean' },
  html: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

function bad(option: string, value: string, why: string): never {
  throw new LoadgenUsageError(`${option}=${JSON.stringify(value)}: ${why}`);
}

/** parseArgs' messages, reworded as one line that names the option */
function fromParseArgs(err: Error & { code?: string }): LoadgenUsageError {
  const opt = /'(-[^',\s]*)(?:, (--[^'\s]+))?/.exec(err.message);
  const given = opt?.[2] ?? opt?.[1] ?? '?';
  // a short form is named by its long one (-d → --duration), as the help text does
  const long = Object.entries(SPEC).find(([, o]) => 'short' in o && `-${o.short}` === given)?.[0];
  const name = long && long !== 'X' ? `--${long}` : given;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new LoadgenUsageError(`unknown option ${name}`);
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(err.message)) return new LoadgenUsageError(`${name} takes no value`);
    if (/ambiguous/.test(err.message))
      return new LoadgenUsageError(`${name} needs a value (one starting with '-' goes as ${name}=VALUE)`);
    return new LoadgenUsageError(`${name} needs a value`);
  }
  return new LoadgenUsageError(err.message.split('\n')[0] ?? 'bad arguments');
}

function int(option: string, value: string | undefined, min: number, max: number): number | null {
  if (value === undefined) return null;
  if (!/^\d+$/.test(value)) bad(option, value, 'not a whole number');
  const n = Number(value);
  if (n < min || n > max) bad(option, value, `must be between ${min} and ${max}`);
  return n;
}

/** 10 | 10s | 1.5s | 500ms | 2m | 1h → ms */
export function parseTime(option: string, value: string | undefined, max: number): number | null {
  if (value === undefined) return null;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value);
  if (!m) bad(option, value, 'not a time (e.g. 10, 10s, 500ms, 2m)');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  const ms = Math.round(Number(m[1]) * unit);
  if (ms > max) bad(option, value, `at most ${max / 1000} s`);
  return ms;
}

function url(option: string, value: string, schemes: string[]): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    bad(option, value, 'not a URL');
  }
  if (!schemes.includes(u.protocol))
    bad(option, value, `expected ${schemes.map((s) => `${s}//`).join(' or ')}`);
  return u;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HOUR = 3_600_000;

export function parseLoadgenArgs(argv: readonly string[], cores = 2): LoadgenOptions {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof SPEC; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: SPEC, allowPositionals: true, strict: true });
  } catch (err) {
    throw fromParseArgs(err as Error);
  }
  const v = parsed.values;
  const help = v.help ?? false;
  const emulator = v.emulator ?? false;
  const pos = parsed.positionals;
  if (pos.length > 1) throw new LoadgenUsageError(`one URL expected, got ${pos.length}: ${pos.join(' ')}`);
  const rawUrl = pos[0];
  if (rawUrl === undefined && !emulator && !help) throw new LoadgenUsageError('missing URL (or --emulator)');
  if (emulator && v.proxy !== undefined)
    throw new LoadgenUsageError('--emulator sets the proxy itself; drop --proxy');
  const target =
    rawUrl === undefined
      ? emulator
        ? new URL(EMULATOR_URL)
        : null
      : url('URL', rawUrl, ['http:', 'https:']);
  const proxy = v.proxy === undefined ? null : url('--proxy', v.proxy, ['http:']).origin;
  if (proxy && target?.protocol === 'https:')
    bad('--proxy', v.proxy ?? '', 'only for http:// URLs (https:// goes straight)');
  const compare = v.compare === undefined ? null : url('--compare', v.compare, ['http:', 'https:']).href;

  const grpc = v.grpc ?? null;
  if (grpc !== null && !/^\/[\w.]+\/\w+$/.test(grpc)) bad('--grpc', grpc, 'expected /package.Service/Method');
  const protocol = (v.protocol ?? (grpc ? 'h2' : 'http1')) as LoadProtocol;
  if (!['http1', 'h2', 'h2c'].includes(protocol)) bad('--protocol', protocol, 'expected http1, h2 or h2c');
  if (grpc && protocol === 'http1') bad('--protocol', protocol, 'gRPC needs HTTP/2 (h2 or h2c)');
  if (protocol === 'h2c' && target?.protocol === 'https:')
    bad('--protocol', protocol, 'h2c is cleartext: use h2 for https://');

  const connections = int('--connections', v.connections, 1, 10_000) ?? 10;
  const threads = Math.min(int('--threads', v.threads, 1, 256) ?? cores, connections);
  const streams = int('--streams', v.streams, 1, 1000) ?? 1;
  if (streams > 1 && protocol === 'http1')
    bad('--streams', String(streams), 'only with HTTP/2 (--protocol h2 or --grpc)');
  const requests = int('--requests', v.requests, 1, 1e12);
  const durationMs =
    parseTime('--duration', v.duration, 24 * HOUR) ?? (requests === null ? DEFAULT_DURATION_MS : null);
  if (durationMs === 0) bad('--duration', v.duration ?? '', 'must be more than 0');
  let rate: number | null = null;
  if (v.rate !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(v.rate) || Number(v.rate) <= 0)
      bad('--rate', v.rate, 'not a positive number of requests/s');
    rate = Number(v.rate);
  }
  const timeoutMs = parseTime('--timeout', v.timeout, HOUR) ?? 10_000;
  if (timeoutMs === 0) bad('--timeout', v.timeout ?? '', 'must be more than 0');

  if (v.method !== undefined && v.X !== undefined)
    throw new LoadgenUsageError('-m and -X both given: use one');
  const rawMethod = v.method ?? v.X ?? (grpc ? 'POST' : 'GET');
  const method = rawMethod.toUpperCase();
  if (!TOKEN.test(method)) bad('--method', rawMethod, 'not an HTTP method token');
  if (grpc && method !== 'POST') bad('--method', rawMethod, 'gRPC calls are POST');
  const headers: [string, string][] = [];
  for (const h of v.header ?? []) {
    const i = h.indexOf(':');
    const name = i > 0 ? h.slice(0, i).trim().toLowerCase() : '';
    if (!TOKEN.test(name)) bad('--header', h, "expected 'Name: value'");
    const value = h.slice(i + 1).trim();
    // CR or LF would end the header line early and smuggle in others; NUL is never valid.
    if (/[\r\n\0]/.test(value)) bad('--header', h, 'the value holds CR, LF or NUL');
    headers.push([name, value]);
  }
  const bodies = (['body', 'body-file', 'body-size'] as const).filter((k) => v[k] !== undefined);
  if (bodies.length > 1) throw new LoadgenUsageError(`--${bodies[0]} and --${bodies[1]} both given: use one`);
  let body: BodySource = { kind: 'none' };
  if (v.body !== undefined) body = { kind: 'text', text: v.body };
  if (v['body-file'] !== undefined) body = { kind: 'file', path: v['body-file'] };
  const size = int('--body-size', v['body-size'], 0, 64 * 1024 * 1024);
  if (size !== null) body = { kind: 'size', bytes: size };

  const tokens = (['token', 'token-file', 'no-token'] as const).filter((k) => v[k] !== undefined);
  if (tokens.length > 1) throw new LoadgenUsageError(`--${tokens[0]} and --${tokens[1]} both given: use one`);
  let connectTo: LoadgenOptions['connectTo'] = null;
  if (v['connect-to'] !== undefined) {
    const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v['connect-to']);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
      bad('--connect-to', v['connect-to'], 'expected HOST:PORT');
    connectTo = { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port: Number(m[2]) };
  }
  const rounds = int('--rounds', v.rounds, 1, 100) ?? 3;
  if (v.rounds !== undefined && compare === null) bad('--rounds', v.rounds, 'only with --compare');
  const html = v.html ?? null;
  if (html === '') bad('--html', '', 'expected a file name');

  return Object.freeze({
    url: target?.href ?? null,
    durationMs,
    requests,
    rate,
    warmupMs: parseTime('--warmup', v.warmup, HOUR) ?? 0,
    connections,
    streams,
    threads,
    protocol,
    grpc,
    method,
    headers,
    body,
    proxy,
    token: v.token ?? null,
    tokenFile: v['token-file'] ?? null,
    noToken: v['no-token'] ?? false,
    connectTo,
    cacert: v.cacert ?? null,
    compare,
    rounds,
    timeoutMs,
    json: v.json ?? false,
    html,
    quiet: v.quiet ?? false,
    emulator,
    help,
  });
}

/** h2 on an http:// URL is h2c (prior knowledge); h2c on https:// was refused above */
export function wireProtocol(p: LoadProtocol, url: string): WireProtocol {
  if (p === 'http1') return 'http1';
  return url.startsWith('https:') ? 'h2' : 'h2c';
}

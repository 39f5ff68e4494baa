// HTTP client for the GCE/Cloud Run metadata server. Every request sends Metadata-Flavor: Google and
// insists on it in the answer (anything else is not the metadata server — e.g. a captive proxy),
// is bounded by two timeouts (lookup + connect, then the whole answer; each capped by the caller's
// remaining budget), and can be aborted. Failures carry a FailureKind so callers know what is
// worth retrying.
import http from 'node:http';
import { metadataOrigin } from '../../src/domain/metadata-facts.ts';
import { type FailureKind, retryable } from '../../src/domain/token-policy.ts';
import { RunsdError } from '../../src/errors.ts';
import { createUpstreamLookup, type LookupFn } from '../../src/net/upstream-lookup.ts';

export const METADATA_DEFAULT_HOST = 'metadata.google.internal';

export class MetadataError extends RunsdError {
  readonly failure: FailureKind;
  constructor(message: string, failure: FailureKind, options?: { cause?: unknown }) {
    super('RUNSD_METADATA', message, options);
    this.failure = failure;
  }
  get retryable(): boolean {
    return retryable(this.failure);
  }
}

export interface MetadataClientOptions {
  metadataHost: string | null;
  upstreams: string[];
  /** Name lookup + TCP connect: a blackholed address (SYNs dropped) fails after this. */
  connectTimeoutMs: number;
  /** From the connection to the end of the answer: a server that accepts and never answers. */
  responseTimeoutMs: number;
  /** dns.lookup-compatible; default: straight to `upstreams` (never runsd's own resolver). */
  lookup?: LookupFn;
}

/** Per call: the caller's abort signal and the most the call may take (the rest of its deadline). */
export interface CallOptions {
  signal?: AbortSignal;
  budgetMs?: number;
}

interface Answer {
  status: number;
  flavor: string | undefined;
  body: string;
}

type Phase = 'lookup' | 'connect' | 'response';

// Metadata answers are short (a token is ~1 KB); anything much larger is not the metadata server.
const MAX_BODY = 64 * 1024;

/** Why httpGet gave up on its own: the phase whose timer fired and that timer's length. */
class PhaseTimeout extends Error {
  readonly phase: Phase;
  readonly ms: number;
  constructor(phase: Phase, ms: number) {
    super(`${phase} timeout after ${ms} ms`);
    this.phase = phase;
    this.ms = ms;
  }
}

interface Limits {
  connectMs: number;
  responseMs: number;
}

/** node:http with our own keep-alive Agent rather than fetch(): a private Agent never goes through
 * HTTP_PROXY even when NODE_USE_ENV_PROXY is set in the container (the real metadata server refuses
 * proxied requests), and it never follows redirects. Lookup + connect get `connectMs`; once the
 * socket is connected (or a kept-alive one is reused) the whole answer gets `responseMs`. A timer
 * that fires destroys the request with a PhaseTimeout. */
function httpGet(
  agent: http.Agent,
  url: string,
  signal: AbortSignal | undefined,
  limits: Limits,
  lookup?: LookupFn,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const o: http.RequestOptions = { agent, headers: { 'Metadata-Flavor': 'Google' } };
    if (signal) o.signal = signal;
    if (lookup) o.lookup = lookup as NonNullable<http.RequestOptions['lookup']>;
    // Which step a failure (or the timeout) hit: a silent nameserver is not a silent metadata server.
    let phase: Phase = 'connect';
    let timer: NodeJS.Timeout | undefined;
    const arm = (p: Phase, ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => req.destroy(new PhaseTimeout(p, ms)), ms);
    };
    const done = () => clearTimeout(timer);
    const req = http.get(url, o, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
      });
      res.on('end', () => {
        done();
        const f = res.headers['metadata-flavor'];
        resolve({ status: res.statusCode ?? 0, flavor: Array.isArray(f) ? f[0] : f, body });
      });
      res.on('error', (err) => {
        done();
        reject(Object.assign(err, { phase }));
      });
    });
    arm('connect', limits.connectMs);
    req.on('socket', (sock) => {
      if (!sock.connecting) {
        phase = 'response'; // a kept-alive connection
        arm('response', limits.responseMs);
        return;
      }
      if (lookup) phase = 'lookup';
      sock.once('lookup', () => {
        phase = 'connect';
      });
      sock.once('connect', () => {
        phase = 'response';
        arm('response', limits.responseMs);
      });
    });
    req.on('error', (err) => {
      done();
      reject(Object.assign(err, { phase }));
    });
  });
}

export interface MetadataClient {
  /** GET /computeMetadata/v1/<path>; the body as text. */
  get(path: string, call?: CallOptions): Promise<string>;
  /** A Google-signed ID token for `audience` (format=full: carries exp, email, …). */
  identity(audience: string, call?: CallOptions): Promise<string>;
  /** The origin requests go to, e.g. http://metadata.google.internal or http://127.0.0.1:8080. */
  readonly origin: string;
  /** Drops kept-alive connections. */
  close(): void;
}

export function createMetadataClient(opts: MetadataClientOptions): MetadataClient {
  const agent = new http.Agent({ keepAlive: true, timeout: 60_000 });
  // metadata.google.internal is looked up through the ORIGINAL nameservers: after start-up
  // /etc/resolv.conf points at runsd's own resolver (and its search list), which must not be used.
  const lookup = opts.metadataHost
    ? undefined
    : (opts.lookup ??
      createUpstreamLookup(opts.upstreams, {
        // c-ares waits t, then 2t: a dead nameserver is reported (ENOTFOUND) before the request times out.
        timeoutMs: Math.max(50, Math.floor(opts.connectTimeoutMs / 4)),
        tries: 2,
      }));
  const base = metadataOrigin(opts.metadataHost ?? METADATA_DEFAULT_HOST);

  const get = async (path: string, call: CallOptions = {}): Promise<string> => {
    const { signal } = call;
    const budget = Math.max(1, Math.floor(call.budgetMs ?? Number.POSITIVE_INFINITY));
    const limits: Limits = {
      connectMs: Math.min(opts.connectTimeoutMs, budget),
      responseMs: Math.min(opts.responseTimeoutMs, budget),
    };
    const url = `${base}/computeMetadata/v1/${path}`;
    const what = path.split('?')[0];
    try {
      const res = await httpGet(agent, url, signal, limits, lookup);
      const body = res.body;
      if (res.flavor !== 'Google') {
        throw new MetadataError(
          `${base} is not a metadata server: answer to ${what} lacks "Metadata-Flavor: Google" (HTTP ${res.status})`,
          { kind: 'invalid' },
        );
      }
      if (res.status !== 200) {
        throw new MetadataError(
          `metadata server ${base} answered HTTP ${res.status} to ${what}${body ? `: ${oneLine(body)}` : ''}`,
          { kind: 'status', status: res.status },
        );
      }
      return body;
    } catch (err) {
      if (err instanceof MetadataError) throw err;
      const phase = (err as { phase?: Phase }).phase;
      const via = opts.upstreams.join(', ') || 'no nameserver';
      if (err instanceof PhaseTimeout && phase === 'lookup') {
        throw new MetadataError(
          `cannot resolve ${METADATA_DEFAULT_HOST} via ${via}: no answer within ${err.ms} ms`,
          { kind: 'timeout' },
        );
      }
      if (err instanceof PhaseTimeout && err.phase === 'connect') {
        // SYNs unanswered: a blackholed address or a partition (a closed port is refused at once).
        throw new MetadataError(
          `metadata server ${base} did not accept a connection within ${err.ms} ms (for ${what})`,
          { kind: 'timeout' },
        );
      }
      if (err instanceof PhaseTimeout) {
        throw new MetadataError(`metadata server ${base} did not answer ${what} within ${err.ms} ms`, {
          kind: 'timeout',
        });
      }
      if (signal?.aborted) throw err;
      if ((err as NodeJS.ErrnoException).code === 'ENOTFOUND') {
        throw new MetadataError(
          `cannot resolve ${METADATA_DEFAULT_HOST} via ${via}`,
          { kind: 'network' },
          { cause: err },
        );
      }
      throw new MetadataError(
        `cannot reach metadata server ${base} for ${what}: ${errText(err)}`,
        { kind: 'network' },
        { cause: err },
      );
    }
  };

  const identity = async (audience: string, call?: CallOptions): Promise<string> => {
    const q = new URLSearchParams({ audience, format: 'full' });
    const token = (await get(`instance/service-accounts/default/identity?${q}`, call)).trim();
    if (!token)
      throw new MetadataError(`metadata server returned an empty ID token for ${audience}`, {
        kind: 'invalid',
      });
    return token;
  };

  return { get, identity, origin: base, close: () => agent.destroy() };
}

function errText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

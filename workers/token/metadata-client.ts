// HTTP client for the GCE/Cloud Run metadata server. Every request sends Metadata-Flavor: Google and
// insists on it in the answer (anything else is not the metadata server — e.g. a captive proxy),
// is bounded by a timeout, and can be aborted. Failures carry a FailureKind so callers know what is
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
  timeoutMs: number;
  /** dns.lookup-compatible; default: straight to `upstreams` (never runsd's own resolver). */
  lookup?: LookupFn;
}

interface Answer {
  status: number;
  flavor: string | undefined;
  body: string;
}

type Phase = 'lookup' | 'connect' | 'response';

// Metadata answers are short (a token is ~1 KB); anything much larger is not the metadata server.
const MAX_BODY = 64 * 1024;

/** node:http with our own keep-alive Agent rather than fetch(): a private Agent never goes through
 * HTTP_PROXY even when NODE_USE_ENV_PROXY is set in the container (the real metadata server refuses
 * proxied requests), and it never follows redirects. */
function httpGet(agent: http.Agent, url: string, signal: AbortSignal, lookup?: LookupFn): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const o: http.RequestOptions = { agent, headers: { 'Metadata-Flavor': 'Google' }, signal };
    if (lookup) o.lookup = lookup as NonNullable<http.RequestOptions['lookup']>;
    // Which step a failure (or the timeout) hit: a silent nameserver is not a silent metadata server.
    let phase: Phase = 'connect';
    const req = http.get(url, o, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
      });
      res.on('end', () => {
        const f = res.headers['metadata-flavor'];
        resolve({ status: res.statusCode ?? 0, flavor: Array.isArray(f) ? f[0] : f, body });
      });
      res.on('error', reject);
    });
    req.on('socket', (sock) => {
      if (!sock.connecting) {
        phase = 'response'; // a kept-alive connection
        return;
      }
      if (lookup) phase = 'lookup';
      sock.once('lookup', () => {
        phase = 'connect';
      });
      sock.once('connect', () => {
        phase = 'response';
      });
    });
    req.on('error', (err) => reject(Object.assign(err, { phase })));
  });
}

export interface MetadataClient {
  /** GET /computeMetadata/v1/<path>; the body as text. */
  get(path: string, signal?: AbortSignal): Promise<string>;
  /** A Google-signed ID token for `audience` (format=full: carries exp, email, …). */
  identity(audience: string, signal?: AbortSignal): Promise<string>;
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
        timeoutMs: Math.max(50, Math.floor(opts.timeoutMs / 4)),
        tries: 2,
      }));
  const base = metadataOrigin(opts.metadataHost ?? METADATA_DEFAULT_HOST);

  const get = async (path: string, signal?: AbortSignal): Promise<string> => {
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const url = `${base}/computeMetadata/v1/${path}`;
    const what = path.split('?')[0];
    try {
      const res = await httpGet(agent, url, both, lookup);
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
      if (timeout.aborted && phase === 'lookup') {
        throw new MetadataError(
          `cannot resolve ${METADATA_DEFAULT_HOST} via ${via}: no answer within ${opts.timeoutMs} ms`,
          {
            kind: 'timeout',
          },
        );
      }
      if (timeout.aborted) {
        throw new MetadataError(
          `metadata server ${base} did not answer ${what} within ${opts.timeoutMs} ms`,
          {
            kind: 'timeout',
          },
        );
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

  const identity = async (audience: string, signal?: AbortSignal): Promise<string> => {
    const q = new URLSearchParams({ audience, format: 'full' });
    const token = (await get(`instance/service-accounts/default/identity?${q}`, signal)).trim();
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

// HTTP client for the GCE/Cloud Run metadata server. Every request sends Metadata-Flavor: Google and
// insists on it in the answer (anything else is not the metadata server — e.g. a captive proxy),
// is bounded by a timeout, and can be aborted. Failures carry a FailureKind so callers know what is
// worth retrying.
import { metadataOrigin } from '../../src/domain/metadata-facts.ts';
import { type FailureKind, retryable } from '../../src/domain/token-policy.ts';
import { RunsdError } from '../../src/errors.ts';
import { type Lookup, upstreamLookup } from './upstream-lookup.ts';

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
  fetch?: typeof fetch;
  lookup?: Lookup;
}

export interface MetadataClient {
  /** GET /computeMetadata/v1/<path>; the body as text. */
  get(path: string, signal?: AbortSignal): Promise<string>;
  /** A Google-signed ID token for `audience` (format=full: carries exp, email, …). */
  identity(audience: string, signal?: AbortSignal): Promise<string>;
  /** The origin requests go to (resolves metadata.google.internal on first use). */
  origin(signal?: AbortSignal): Promise<string>;
}

export function createMetadataClient(opts: MetadataClientOptions): MetadataClient {
  const doFetch = opts.fetch ?? fetch;
  const lookup = opts.lookup ?? upstreamLookup(opts.upstreams, opts.timeoutMs);
  let resolved: Promise<string> | null = null;

  const origin = (signal?: AbortSignal): Promise<string> => {
    if (opts.metadataHost) return Promise.resolve(metadataOrigin(opts.metadataHost));
    if (!resolved) {
      resolved = lookup(METADATA_DEFAULT_HOST, signal).then(
        (ip) => metadataOrigin(ip),
        (err: unknown) => {
          resolved = null; // try again next time
          throw new MetadataError(
            `cannot resolve ${METADATA_DEFAULT_HOST} via ${opts.upstreams.join(', ') || 'no nameserver'}: ${errText(err)}`,
            { kind: 'network' },
            { cause: err },
          );
        },
      );
    }
    return resolved;
  };

  const get = async (path: string, signal?: AbortSignal): Promise<string> => {
    const timeout = AbortSignal.timeout(opts.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const base = await origin(both);
    const url = `${base}/computeMetadata/v1/${path}`;
    const what = path.split('?')[0];
    try {
      const res = await doFetch(url, {
        headers: { 'Metadata-Flavor': 'Google' },
        signal: both,
        redirect: 'error',
      });
      const body = await res.text();
      if (res.headers.get('metadata-flavor') !== 'Google') {
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
      if (timeout.aborted) {
        throw new MetadataError(
          `metadata server ${base} did not answer ${what} within ${opts.timeoutMs} ms`,
          {
            kind: 'timeout',
          },
        );
      }
      if (signal?.aborted) throw err;
      // Connection refused/reset: forget a resolved address, it may have moved.
      if (!opts.metadataHost) resolved = null;
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

  return { get, identity, origin };
}

function errText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici wraps the socket error: "fetch failed" + cause ECONNREFUSED …
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) return `${err.message} (${(cause as { code?: string }).code ?? cause.message})`;
  return err.message;
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

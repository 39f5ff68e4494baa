// Header rewriting between the app and the upstream (pure). RFC 9110 §7.6.1: hop-by-hop headers and
// every header named in Connection are dropped; HTTP/2 forbids connection-specific headers outright
// (node:http2 throws on them), so both directions go through here.

import type { AuthHeader } from './vocabulary.ts';

export type Headers = Record<string, string | string[] | undefined>;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
]);

const NONE: ReadonlySet<string> = new Set();

function connectionTokens(h: Headers): ReadonlySet<string> {
  const c = h['connection'];
  // Most requests name nothing (HTTP/2 never does): no Set per request then.
  if (c === undefined) return NONE;
  const out = new Set<string>();
  for (const v of Array.isArray(c) ? c : c ? [c] : [])
    for (const t of v.split(',')) {
      const n = t.trim().toLowerCase();
      if (n) out.add(n);
    }
  return out;
}

/** End-to-end headers only (no pseudo headers, no hop-by-hop, nothing named in Connection). */
export function endToEnd(h: Headers): Headers {
  const named = connectionTokens(h);
  const out: Headers = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k.charCodeAt(0) === 58 /* ':' */ || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

export interface TokenPlacement {
  /** 'x-serverless-authorization' (default) or 'authorization' (Go runsd behaviour). */
  header: AuthHeader;
}

/** Whether the request already carries the credential we would add (then no token is needed). */
export function hasCredential(h: Headers, header: TokenPlacement['header']): boolean {
  // A client-supplied X-Serverless-Authorization always wins: Cloud Run checks it first.
  if (h['x-serverless-authorization'] !== undefined) return true;
  return header === 'authorization' && h['authorization'] !== undefined;
}

/**
 * Request headers for the upstream: end-to-end headers, TE: trailers kept (gRPC needs it), the
 * credential (`Bearer <token>`) in the configured header unless the client brought its own.
 */
export function upstreamRequestHeaders(
  h: Headers,
  credential: string | null,
  header: TokenPlacement['header'],
): Headers {
  const out = endToEnd(h);
  const te = h['te'];
  if (typeof te === 'string' && /(^|,)\s*trailers\s*(;|,|$)/i.test(te)) out['te'] = 'trailers';
  if (credential !== null && !hasCredential(h, header)) out[header] = credential;
  return out;
}

/**
 * Why an HTTP/1.1 request's framing cannot be passed on unambiguously, or null. node's parser
 * refuses most bad framing itself (CL with TE, duplicate CL, obs-fold, bare CR/LF, NUL, bad chunk
 * syntax) but takes a Transfer-Encoding it does not know: RFC 9112 §6.3 says a request whose final
 * coding is not chunked has no knowable length, and the only coding runsd decodes is chunked, so any
 * other is refused too (test/workers/proxy/framing.test.ts).
 */
export function requestFramingProblem(h: Headers): string | null {
  const te = h['transfer-encoding'];
  if (te === undefined) return null;
  const codings = (Array.isArray(te) ? te.join(',') : te)
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '');
  if (codings.length === 1 && codings[0] === 'chunked') return null;
  return `Transfer-Encoding "${String(te).slice(0, 100)}" is not "chunked", the only transfer coding runsd forwards (RFC 9112 §6.3)`;
}

/** Trailers that may be forwarded (pseudo headers and framing fields are never trailers). */
export function forwardableTrailers(h: Headers): Headers {
  const out: Headers = {};
  for (const k in h) {
    const v = h[k];
    if (v === undefined || k.charCodeAt(0) === 58 || HOP_BY_HOP.has(k) || k === 'content-length') continue;
    out[k] = v;
  }
  return out;
}

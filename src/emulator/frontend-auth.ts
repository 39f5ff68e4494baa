// Cloud Run's invoker check, as the front end does it before a request reaches a private service.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthHeader } from '../domain/vocabulary.ts';
import { type Jwk, type JwtClaims, verifyJwt } from './jwt.ts';

export type AuthFailure =
  | 'missing'
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'wrong-issuer';

export type AuthResult =
  | { ok: true; via: AuthHeader; claims: JwtClaims }
  | { ok: false; reason: AuthFailure; status: 401 | 403 };

const ISSUERS = new Set(['https://accounts.google.com', 'accounts.google.com']);

function bearer(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  const m = s?.match(/^\s*Bearer\s+(\S+)\s*$/i);
  return m?.[1];
}

/**
 * X-Serverless-Authorization is preferred (then the app's own Authorization passes untouched).
 * No token at all → 403 (Cloud Run: "Your client does not have permission to get URL"); a token
 * that does not verify, is expired or is for another audience → 401.
 */
export function checkAuth(
  headers: IncomingHttpHeaders,
  keys: readonly Jwk[],
  audiences: readonly string[],
): AuthResult {
  const xsa = bearer(headers['x-serverless-authorization']);
  const auth = xsa === undefined ? bearer(headers.authorization) : undefined;
  const token = xsa ?? auth;
  if (token === undefined) return { ok: false, reason: 'missing', status: 403 };
  const v = verifyJwt(token, keys);
  if (!v.ok) return { ok: false, reason: v.reason, status: 401 };
  if (!ISSUERS.has(String(v.claims.iss))) return { ok: false, reason: 'wrong-issuer', status: 401 };
  if (typeof v.claims.aud !== 'string' || !audiences.includes(v.claims.aud)) {
    return { ok: false, reason: 'wrong-audience', status: 401 };
  }
  return {
    ok: true,
    via: xsa !== undefined ? 'x-serverless-authorization' : 'authorization',
    claims: v.claims,
  };
}

/** Cloud Run hands the verified token on with its signature replaced, so the app can read but not replay it. */
export function withoutSignature(headerValue: string): string {
  return headerValue.replace(/^(\s*Bearer\s+[^.\s]+\.[^.\s]+\.)\S+/i, '$1SIGNATURE_REMOVED_BY_GOOGLE');
}

export const PAGES = {
  403: (path: string) =>
    page(
      '403 Forbidden',
      'Error: Forbidden',
      `Your client does not have permission to get URL <code>${esc(path)}</code> from this server.`,
    ),
  401: (path: string) =>
    page(
      '401 Unauthorized',
      'Error: Unauthorized',
      `Your client does not have permission to the requested URL <code>${esc(path)}</code>.`,
    ),
  404: () =>
    page('404 Page not found', 'Error: Page not found', 'The requested URL was not found on this server.'),
};

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, h1: string, h2: string): string {
  return (
    `<html><head>\n<meta http-equiv="content-type" content="text/html;charset=utf-8">\n<title>${title}</title>\n` +
    `</head>\n<body text=#000000 bgcolor=#ffffff>\n<h1>${h1}</h1>\n<h2>${h2}</h2>\n<h2></h2>\n</body></html>\n`
  );
}

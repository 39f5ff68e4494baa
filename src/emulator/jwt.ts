// Minimal RS256 JWT mint/verify on node:crypto for the emulator (the real metadata server signs with
// Google's keys; ours are generated at start and published as a JWKS).
import crypto, { type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const signAsync = promisify(crypto.sign);

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface Jwk {
  kty: string;
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await promisify(crypto.generateKeyPair)('rsa', { modulusLength: 2048 });
  const n = (publicKey.export({ format: 'jwk' }) as { n: string }).n;
  const kid = crypto.createHash('sha256').update(n).digest('hex').slice(0, 40);
  return { kid, privateKey, publicKey };
}

export function publicJwk(key: SigningKey): Jwk {
  const jwk = key.publicKey.export({ format: 'jwk' }) as { kty: string; n: string; e: string };
  return { kty: jwk.kty, n: jwk.n, e: jwk.e, kid: key.kid, alg: 'RS256', use: 'sig' };
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function signJwt(payload: Record<string, unknown>, key: SigningKey): Promise<string> {
  const head = b64url(JSON.stringify({ alg: 'RS256', kid: key.kid, typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const sig = await signAsync('sha256', Buffer.from(`${head}.${body}`), key.privateKey);
  return `${head}.${body}.${b64url(sig)}`;
}

export type JwtFailure = 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'not-yet-valid';

export interface JwtClaims {
  iss?: string;
  aud?: string;
  azp?: string;
  sub?: string;
  email?: string;
  email_verified?: boolean;
  iat?: number;
  exp?: number;
  [k: string]: unknown;
}

const keyCache = new WeakMap<Jwk, KeyObject>();

export type VerifyResult = { ok: true; claims: JwtClaims } | { ok: false; reason: JwtFailure };

/** Verifies signature (against any of the keys, by kid) and time; audience is the caller's business. */
export function verifyJwt(
  token: string,
  keys: readonly Jwk[],
  nowSec = Math.floor(Date.now() / 1000),
  skewSec = 0,
): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  let header: { alg?: string; kid?: string };
  let claims: JwtClaims;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (header.alg !== 'RS256' || typeof claims !== 'object' || claims === null) {
    return { ok: false, reason: 'malformed' };
  }
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk) return { ok: false, reason: 'unknown-key' };
  let pub = keyCache.get(jwk);
  if (!pub) {
    pub = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
    keyCache.set(jwk, pub);
  }
  const valid = crypto.verify(
    'sha256',
    Buffer.from(`${parts[0]}.${parts[1]}`),
    pub,
    Buffer.from(parts[2]!, 'base64url'),
  );
  if (!valid) return { ok: false, reason: 'bad-signature' };
  if (typeof claims.exp !== 'number' || claims.exp + skewSec <= nowSec)
    return { ok: false, reason: 'expired' };
  if (typeof claims.iat === 'number' && claims.iat - skewSec > nowSec + 300) {
    return { ok: false, reason: 'not-yet-valid' };
  }
  return { ok: true, claims };
}

/** Decodes claims without verifying (for tests and logs). */
export function decodeJwt(token: string): JwtClaims {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

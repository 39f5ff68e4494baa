// Unsigned test JWTs: the token room only reads `exp`, it never verifies.
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

export function fakeJwt(claims: { aud: string; exp: number; [k: string]: unknown }): string {
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: 'https://accounts.google.com', ...claims })}.c2lnbmF0dXJl`;
}

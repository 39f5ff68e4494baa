import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { decodeJwt, verifyJwt } from '../../src/emulator/jwt.ts';
import { type MetadataServer, startMetadataServer } from '../../src/emulator/metadata.ts';

const FLAVOR = { 'Metadata-Flavor': 'Google' };

async function start(t: { after(fn: () => unknown): void }, opts = {}) {
  const md = await startMetadataServer({ projectNumber: '987654321', region: 'europe-west1', ...opts });
  t.after(() => md.close());
  return md;
}
const get = (md: MetadataServer, path: string, headers: Record<string, string> = FLAVOR) =>
  fetch(`${md.url}/computeMetadata/v1/${path}`, { headers });
const identity = (md: MetadataServer, aud: string, extra = '') =>
  get(md, `instance/service-accounts/default/identity?audience=${encodeURIComponent(aud)}${extra}`);

test('facts: region, zone, project id and number, email; Metadata-Flavor on answers', async (t) => {
  const md = await start(t, { projectId: 'my-proj' });
  const region = await get(md, 'instance/region');
  assert.equal(region.status, 200);
  assert.equal(region.headers.get('metadata-flavor'), 'Google');
  assert.equal(await region.text(), 'projects/987654321/regions/europe-west1');
  assert.equal(await (await get(md, 'instance/zone')).text(), 'projects/987654321/zones/europe-west1-1');
  assert.equal(await (await get(md, 'project/project-id')).text(), 'my-proj');
  assert.equal(await (await get(md, 'project/numeric-project-id')).text(), '987654321');
  assert.match(
    await (await get(md, 'instance/service-accounts/default/email')).text(),
    /^987654321-compute@/,
  );
  assert.equal((await get(md, 'instance/nothing-here')).status, 404);
});

test('403 without Metadata-Flavor (and with X-Forwarded-For), 400 without audience', async (t) => {
  const md = await start(t);
  const no = await get(md, 'project/project-id', {});
  assert.equal(no.status, 403);
  assert.match(await no.text(), /Missing Metadata-Flavor:Google header/);
  assert.equal(
    (await get(md, 'project/project-id', { ...FLAVOR, 'X-Forwarded-For': '1.2.3.4' })).status,
    403,
  );
  const noAud = await get(md, 'instance/service-accounts/default/identity');
  assert.equal(noAud.status, 400);
  assert.match(await noAud.text(), /audience/);
  assert.equal((await identity(md, '')).status, 400);
  assert.equal(md.identityCalls(), 0);
  assert.equal(md.stats().rejected.noFlavor, 2);
});

test('identity tokens are RS256 JWTs that verify with the published keys', async (t) => {
  const md = await start(t, { tokenLifetimeSec: 1200 });
  const aud = 'https://hello-987654321.europe-west1.run.app';
  const token = await (await identity(md, aud, '&format=full')).text();
  const jwks = (await (await fetch(`${md.url}/emulator/jwks`)).json()) as { keys: never[] };
  const v = verifyJwt(token, jwks.keys);
  assert.ok(v.ok, JSON.stringify(v));
  assert.equal(v.claims.aud, aud);
  assert.equal(v.claims.iss, 'https://accounts.google.com');
  assert.equal(v.claims.email, md.facts.email);
  assert.equal(v.claims.exp! - v.claims.iat!, 1200);
  assert.ok(v.claims.sub && v.claims.azp);
  // independently: node:crypto with the JWK as published
  const [h, p, s] = token.split('.') as [string, string, string];
  const pub = crypto.createPublicKey({ key: jwks.keys[0]!, format: 'jwk' });
  assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${p}`), pub, Buffer.from(s, 'base64url')));
  // without format=full: no email claim (like the real server)
  assert.equal(decodeJwt(await (await identity(md, aud)).text()).email, undefined);
  // tampered payload fails
  const forged = Buffer.from(JSON.stringify({ ...v.claims, aud: 'https://evil' })).toString('base64url');
  assert.deepEqual(verifyJwt(`${h}.${forged}.${s}`, jwks.keys), { ok: false, reason: 'bad-signature' });
  // lifetime knob: negative → already expired
  md.knobs.tokenLifetimeSec = -10;
  const old = await (await identity(md, aud)).text();
  assert.deepEqual(verifyJwt(old, md.jwks().keys), { ok: false, reason: 'expired' });
});

test('counters per audience, over HTTP and in code; in-flight maximum under concurrency', async (t) => {
  const md = await start(t, { latencyMs: 150 });
  await Promise.all([identity(md, 'https://a'), identity(md, 'https://a'), identity(md, 'https://b')]);
  assert.equal(md.identityCalls('https://a'), 2);
  assert.equal(md.identityCalls('https://b'), 1);
  assert.equal(md.identityCalls(), 3);
  assert.equal(md.inFlightMax, 3);
  assert.equal(md.inFlight, 0);
  const stats = (await (await fetch(`${md.url}/emulator/stats`)).json()) as { identityCalls: object };
  assert.deepEqual(stats.identityCalls, { 'https://a': 2, 'https://b': 1 });
  md.resetStats();
  assert.equal(md.identityCalls(), 0);
});

test('knobs: error rate answers 500, outage resets connections', async (t) => {
  const md = await start(t);
  md.knobs.errorRate = 1;
  assert.equal((await identity(md, 'https://a')).status, 500);
  md.knobs.errorRate = 0;
  md.knobs.outage = true;
  await assert.rejects(identity(md, 'https://a'), /fetch failed/);
  md.knobs.outage = false;
  assert.equal((await identity(md, 'https://a')).status, 200);
});

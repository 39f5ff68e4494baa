import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import { startMetadataServer } from '../../src/emulator/metadata.ts';
import { HASH, HELLO, NUMBER, startBed } from './fixture.ts';

const status = ['-o', '/dev/null', '-w', '%{http_code}'];

test('echo over h2 and http/1.1 with the CA: protocol, headers, query, body sha256', async (t) => {
  const bed = await startBed(t);
  const tok = await bed.token(`https://${HELLO}`);
  const body = 'x'.repeat(1000);
  for (const [flag, proto] of [
    ['--http2', 'h2'],
    ['--http1.1', 'http/1.1'],
  ] as const) {
    const out = JSON.parse(
      await bed.curl([
        flag,
        '-H',
        `X-Serverless-Authorization: Bearer ${tok}`,
        '-H',
        'Authorization: Basic YXBwOnNlY3JldA==',
        '-H',
        'X-Custom: 1',
        '--data-binary',
        body,
        'https://HOST/some/path?a=1&b=two',
      ]),
    );
    assert.equal(out.protocol, proto);
    assert.equal(out.service, 'hello');
    assert.equal(out.region, 'us-central1');
    assert.equal(out.method, 'POST');
    assert.equal(out.path, '/some/path');
    assert.deepEqual(out.query, { a: '1', b: 'two' });
    assert.equal(out.headers['x-custom'], '1');
    // token came in X-Serverless-Authorization: the app's own Authorization is untouched
    assert.equal(out.headers.authorization, 'Basic YXBwOnNlY3JldA==');
    assert.match(out.headers['x-serverless-authorization'], /^Bearer .+\..+\.SIGNATURE_REMOVED_BY_GOOGLE$/);
    assert.equal(out.bodySize, 1000);
    assert.equal(out.bodySha256, crypto.createHash('sha256').update(body).digest('hex'));
    assert.deepEqual(out.auth, {
      via: 'x-serverless-authorization',
      aud: `https://${HELLO}`,
      email: bed.md.facts.email,
    });
  }
  assert.deepEqual(bed.fe.stats().requests, { hello: { h2: 1, 'http/1.1': 1 } });
});

test('auth: missing 403, wrong aud / expired / bad signature / unknown key 401, Authorization: Bearer accepted', async (t) => {
  const bed = await startBed(t);
  const url = 'https://HOST/';
  const code = async (...h: string[]) => bed.curl([...status, ...h.flatMap((x) => ['-H', x]), url]);
  assert.equal(await code(), '403');
  const good = await bed.token(`https://${HELLO}`);
  assert.equal(await code(`Authorization: Bearer ${good}`), '200');
  assert.equal(await code(`X-Serverless-Authorization: Bearer ${good}`), '200');
  // preferred header wins: a bad X-Serverless-Authorization is not rescued by a good Authorization
  const other = await bed.token(`https://world-${NUMBER}.us-central1.run.app`);
  assert.equal(
    await code(`X-Serverless-Authorization: Bearer ${other}`, `Authorization: Bearer ${good}`),
    '401',
  );
  assert.equal(await code(`Authorization: Bearer ${other}`), '401');
  assert.equal(await code(`Authorization: Bearer ${await bed.token(`https://${HELLO}/`)}`), '401');
  bed.md.knobs.tokenLifetimeSec = -5;
  assert.equal(await code(`Authorization: Bearer ${await bed.token(`https://${HELLO}`)}`), '401');
  const [h, p, s] = good.split('.') as [string, string, string];
  const flipped = Buffer.from(s, 'base64url');
  flipped[10] = flipped[10]! ^ 1;
  assert.equal(await code(`Authorization: Bearer ${h}.${p}.${flipped.toString('base64url')}`), '401');
  const stranger = await startMetadataServer({ projectNumber: NUMBER });
  t.after(() => stranger.close());
  const foreign = await (
    await fetch(
      `${stranger.url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://${HELLO}`,
      {
        headers: { 'Metadata-Flavor': 'Google' },
      },
    )
  ).text();
  assert.equal(await code(`Authorization: Bearer ${foreign}`), '401');
  assert.equal(await code('Authorization: Bearer not-a-jwt'), '401');
  assert.deepEqual(bed.fe.stats().authFailures, {
    missing: 1,
    'wrong-audience': 3,
    expired: 1,
    'bad-signature': 1,
    'unknown-key': 1,
    malformed: 1,
  });
  const page = await bed.curl(['https://HOST/private']);
  assert.match(page, /Error: Forbidden[\s\S]*\/private/);
});

test('routing: legacy URL form, public service, unknown service/region/host → 404 page', async (t) => {
  const bed = await startBed(t);
  const legacy = `hello-${HASH}-uc.a.run.app`;
  const tok = await bed.token(`https://${legacy}`);
  const out = JSON.parse(await bed.curl(['-H', `Authorization: Bearer ${tok}`, 'https://HOST/'], legacy));
  assert.equal(out.form, 'legacy');
  assert.equal(out.region, 'us-central1');
  // a token for the deterministic URL is good on the legacy host too (both are URLs of the service)
  const det = await bed.token(`https://${HELLO}`);
  assert.equal(
    await bed.curl([...status, '-H', `Authorization: Bearer ${det}`, 'https://HOST/'], legacy),
    '200',
  );
  assert.equal(await bed.curl([...status, 'https://HOST/'], `public-${NUMBER}.europe-west1.run.app`), '200');
  const nf = await bed.curl(['-w', '%{http_code}', 'https://HOST/'], `nope-${NUMBER}.us-central1.run.app`);
  assert.match(nf, /Error: Page not found[\s\S]*404$/);
  assert.equal(await bed.curl([...status, 'https://HOST/'], `hello-${NUMBER}.asia-east1.run.app`), '404');
  assert.equal(await bed.curl([...status, 'https://HOST/'], `hello-999.us-central1.run.app`), '404');
  assert.equal(await bed.curl([...status, 'https://HOST/'], `hello-wronghash-uc.a.run.app`), '404');
  assert.equal(bed.fe.stats().notFound, 4);
});

test('status on demand and SSE', async (t) => {
  const bed = await startBed(t);
  const pub = `public-${NUMBER}.us-central1.run.app`;
  assert.equal(await bed.curl([...status, 'https://HOST/status/503'], pub), '503');
  assert.equal(await bed.curl([...status, '--http1.1', 'https://HOST/status/418'], pub), '418');
  const sse = await bed.curl(['-N', '-i', '--http2', 'https://HOST/sse?n=3&interval=5'], pub);
  assert.match(sse, /content-type: text\/event-stream/i);
  const events = [...sse.matchAll(/^id: (\d+)\nevent: tick\ndata: (.+)$/gm)].map((m) => JSON.parse(m[2]!));
  assert.deepEqual(events, [
    { i: 0, service: 'public' },
    { i: 1, service: 'public' },
    { i: 2, service: 'public' },
  ]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHost, serviceUrl, splitHostPort, type UrlContext } from '../../src/domain/names.ts';
import { REGION_CODES } from '../../src/domain/region-codes.ts';
import { RunsdError } from '../../src/errors.ts';

const D = 'run.internal.';

test('parseHost: every accepted form', () => {
  const table: [string, string, string | null][] = [
    ['hello', 'hello', null],
    ['HELLO', 'hello', null],
    ['hello.', 'hello', null],
    ['hello:80', 'hello', null],
    ['hello.:8080', 'hello', null],
    ['hello.us-central1', 'hello', 'us-central1'],
    ['Hello.US-Central1.', 'hello', 'us-central1'],
    ['hello.us-central1:80', 'hello', 'us-central1'],
    ['hello.us-central1.run.internal', 'hello', 'us-central1'],
    ['hello.us-central1.run.internal.', 'hello', 'us-central1'],
    ['HELLO.EUROPE-WEST1.RUN.INTERNAL.:80', 'hello', 'europe-west1'],
    ['hello.run.internal', 'hello', null],
    ['my-svc-2', 'my-svc-2', null],
    [`${'a'.repeat(49)}`, 'a'.repeat(49), null],
  ];
  for (const [host, service, region] of table) {
    assert.deepEqual(parseHost(host, D), { kind: 'service', service, region }, host);
  }
});

test('parseHost: a custom domain', () => {
  assert.deepEqual(parseHost('api.asia-east1.corp.example', 'corp.example.'), {
    kind: 'service',
    service: 'api',
    region: 'asia-east1',
  });
  // With a custom domain, run.internal is just another external name.
  assert.equal(parseHost('api.us-east1.run.internal', 'corp.example.').kind, 'external');
});

test('parseHost: external names are not services', () => {
  const table: [string, string, number | null][] = [
    ['example.com', 'example.com', null],
    ['www.example.com:8080', 'www.example.com', 8080],
    ['127.0.0.1:80', '127.0.0.1', 80],
    ['[::1]:80', '::1', 80],
    ['localhost', 'localhost', null],
    ['LOCALHOST:3000', 'localhost', 3000],
    ['a.b.c', 'a.b.c', null],
    ['hello.com', 'hello.com', null],
  ];
  for (const [raw, host, port] of table) {
    assert.deepEqual(parseHost(raw, D), { kind: 'external', host, port }, raw);
  }
});

test('parseHost: invalid internal names → RUNSD_BAD_HOST with the reason', () => {
  const table: [string, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    ['hello_world', /not a Cloud Run service name/],
    ['1hello', /not a Cloud Run service name/],
    ['hello-', /not a Cloud Run service name/],
    ['-hello', /not a Cloud Run service name/],
    ['a'.repeat(50), /longer than 49/],
    ['hello.us-central1.extra.run.internal', /is not SERVICE, SERVICE.REGION/],
    ['run.internal', /is not SERVICE, SERVICE.REGION/],
    ['hello.nowhere.run.internal', /where a region like us-central1 belongs/],
    ['héllo', /not a Cloud Run service name/],
    ['hello..run.internal', /not a Cloud Run service name|where a region/],
  ];
  for (const [host, why] of table) {
    assert.throws(
      () => parseHost(host, D),
      (e: unknown) => e instanceof RunsdError && e.code === 'RUNSD_BAD_HOST' && why.test(e.message),
      JSON.stringify(host),
    );
  }
});

test('splitHostPort', () => {
  assert.deepEqual(splitHostPort('Hello.:81'), { name: 'hello', port: 81, ip: false });
  assert.deepEqual(splitHostPort('[::1]'), { name: '::1', port: null, ip: true });
  assert.deepEqual(splitHostPort('10.0.0.1'), { name: '10.0.0.1', port: null, ip: true });
});

const det: UrlContext = {
  urlFormat: 'auto',
  projectHash: null,
  projectNumber: '123456789012',
  ownRegion: 'us-central1',
};
const hash: UrlContext = { ...det, projectHash: 'abcdefghij' };

test('serviceUrl: deterministic and legacy forms', () => {
  const table: [string, string | null, UrlContext, string][] = [
    ['hello', null, det, 'https://hello-123456789012.us-central1.run.app'],
    ['hello', 'europe-west1', det, 'https://hello-123456789012.europe-west1.run.app'],
    ['hello', null, hash, 'https://hello-abcdefghij-uc.a.run.app'],
    ['hello', 'europe-west1', hash, 'https://hello-abcdefghij-ew.a.run.app'],
    ['hello', 'asia-east1', { ...hash, urlFormat: 'hash' }, 'https://hello-abcdefghij-de.a.run.app'],
    [
      'hello',
      'asia-east1',
      { ...hash, urlFormat: 'deterministic' },
      'https://hello-123456789012.asia-east1.run.app',
    ],
    // The region need not be in any table for deterministic URLs.
    ['hello', 'me-west9', det, 'https://hello-123456789012.me-west9.run.app'],
  ];
  for (const [svc, region, ctx, url] of table) assert.equal(serviceUrl(svc, region, ctx), url);
});

test('serviceUrl: every region in the code table yields a legacy URL', () => {
  for (const [region, code] of Object.entries(REGION_CODES)) {
    assert.equal(serviceUrl('s', region, hash), `https://s-abcdefghij-${code}.a.run.app`);
  }
});

test('serviceUrl: errors', () => {
  const table: [string, string | null, UrlContext, string, RegExp][] = [
    ['hello', null, { ...det, ownRegion: null }, 'RUNSD_FACT_MISSING', /own region/],
    ['hello', 'us-east1', { ...det, projectNumber: null }, 'RUNSD_FACT_MISSING', /project number/],
    ['hello', 'us-east1', { ...det, urlFormat: 'hash' }, 'RUNSD_FACT_MISSING', /project hash/],
    ['hello', 'me-west9', hash, 'RUNSD_BAD_HOST', /no known legacy URL code.*deterministic/],
    // 'a'*50 + '-' + 12 digits = 63: fine; 51 + 13 = 64: too long.
    ['a'.repeat(51), 'us-east1', det, 'RUNSD_BAD_HOST', /64 characters, over the DNS limit of 63/],
    [
      'a'.repeat(49),
      'us-east1',
      { ...hash, projectHash: 'abcdefghijklmnopqrst' },
      'RUNSD_BAD_HOST',
      /over the DNS limit/,
    ],
  ];
  for (const [svc, region, ctx, code, why] of table) {
    assert.throws(
      () => serviceUrl(svc, region, ctx),
      (e: unknown) => e instanceof RunsdError && e.code === code && why.test(e.message),
      `${svc} ${region}`,
    );
  }
  assert.equal(
    serviceUrl('a'.repeat(50), 'us-east1', det).length,
    'https://'.length + 63 + '.us-east1.run.app'.length,
  );
});

test('parseHost: tagged revisions, TAG---SERVICE in every form', () => {
  const table: [string, string, string, string | null][] = [
    ['green---hello', 'green', 'hello', null],
    ['GREEN---hello.', 'green', 'hello', null],
    ['green---hello:80', 'green', 'hello', null],
    ['v2---hello.europe-west1', 'v2', 'hello', 'europe-west1'],
    ['1a---hello.europe-west1.run.internal.', '1a', 'hello', 'europe-west1'],
    ['canary-1---my-svc.run.internal', 'canary-1', 'my-svc', null],
  ];
  for (const [host, tag, service, region] of table)
    assert.deepEqual(parseHost(host, D), { kind: 'service', service, region, tag }, host);
  const bad: [string, RegExp][] = [
    ['---hello', /has "" where a revision tag belongs/],
    ['-x---hello', /has "-x" where a revision tag belongs/],
    ['x----hello', /is not a Cloud Run service name \("-hello"/],
    ['green---', /is not a Cloud Run service name \(""/],
    ['green---1hello', /is not a Cloud Run service name/],
  ];
  for (const [host, why] of bad)
    assert.throws(
      () => parseHost(host, D),
      (e: unknown) => e instanceof RunsdError && e.code === 'RUNSD_BAD_HOST' && why.test(e.message),
      host,
    );
});

test('serviceUrl: a tag URL is TAG---SERVICE-…, its label ≤ 63 characters', () => {
  const det: UrlContext = {
    urlFormat: 'auto',
    projectHash: null,
    projectNumber: '123456789012',
    ownRegion: 'us-central1',
  };
  assert.equal(
    serviceUrl('hello', null, det, 'green'),
    'https://green---hello-123456789012.us-central1.run.app',
  );
  assert.equal(
    serviceUrl('hello', 'europe-west1', { ...det, projectHash: 'abcdefghij' }, 'v2'),
    'https://v2---hello-abcdefghij-ew.a.run.app',
  );
  // 42 + 3 + 5 + 13 = 63: fits; one more character does not.
  const tag = 't'.repeat(42);
  assert.equal(
    serviceUrl('hello', null, det, tag),
    `https://${tag}---hello-123456789012.us-central1.run.app`,
  );
  assert.throws(
    () => serviceUrl('hello', null, det, `${tag}t`),
    (e: unknown) =>
      e instanceof RunsdError &&
      e.code === 'RUNSD_BAD_HOST' &&
      /the deterministic URL label "t{43}---hello-123456789012" would be 64 characters, over the DNS limit of 63$/.test(
        e.message,
      ),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServiceHost, serviceUrls } from '../../src/emulator/routing.ts';

test('parseServiceHost: both URL forms, ports, case, and what is not a service host', () => {
  const cases: [string, ReturnType<typeof parseServiceHost>][] = [
    ['hello-123.us-central1.run.app', { service: 'hello', region: 'us-central1', form: 'deterministic' }],
    ['Hello-123.US-CENTRAL1.run.app:443', { service: 'hello', region: 'us-central1', form: 'deterministic' }],
    [
      'my-svc-123.europe-west1.run.app.',
      { service: 'my-svc', region: 'europe-west1', form: 'deterministic' },
    ],
    ['hello-abc123-uc.a.run.app', { service: 'hello', region: 'us-central1', form: 'legacy' }],
    ['my-svc-abc123-ew.a.run.app', { service: 'my-svc', region: 'europe-west1', form: 'legacy' }],
    ['hello-abc123-zz.a.run.app', null], // unknown region code
    ['hello-other-uc.a.run.app', null], // another project's hash
    ['hello-124.us-central1.run.app', null], // another project number
    ['-123.us-central1.run.app', null],
    ['hello.run.app', null],
    ['example.com', null],
    ['127.0.0.1:443', null],
  ];
  for (const [host, want] of cases) assert.deepEqual(parseServiceHost(host, '123', 'abc123'), want, host);
  assert.equal(
    parseServiceHost('hello-abc123-uc.a.run.app', '123'),
    null,
    'no hash configured: no legacy URLs',
  );
});

test('serviceUrls: the audiences a service accepts', () => {
  assert.deepEqual(serviceUrls('hello', 'us-central1', '123', 'abc123'), [
    'https://hello-123.us-central1.run.app',
    'https://hello-abc123-uc.a.run.app',
  ]);
  assert.deepEqual(serviceUrls('hello', 'mars-north1', '123', 'abc123'), [
    'https://hello-123.mars-north1.run.app',
  ]);
});

test('parseServiceHost: tagged hosts (TAG---SERVICE) in both URL forms', () => {
  assert.deepEqual(parseServiceHost('green---hello-123.us-central1.run.app', '123'), {
    service: 'hello',
    region: 'us-central1',
    form: 'deterministic',
    tag: 'green',
  });
  assert.deepEqual(parseServiceHost('v2---hello-abc123-ew.a.run.app:443', '123', 'abc123'), {
    service: 'hello',
    region: 'europe-west1',
    form: 'legacy',
    tag: 'v2',
  });
});

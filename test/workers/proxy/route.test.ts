// The proxy's first stage (workers/proxy/route.ts): one parse of the target, routes cached per
// authority and rebuilt when the facts change, refusals with the code and words the app sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunsdError } from '../../../src/errors.ts';
import { checkTarget, Router } from '../../../workers/proxy/route.ts';
import { baseProxySettings } from '../../helpers/proxy-settings.ts';

const facts = { region: 'us-central1', projectNumber: '123', projectId: 'p' };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RunsdError, String(err));
    return `${err.code}: ${err.message}`;
  }
  return 'no error';
}

test('a service route carries its URL as the audience and is cached per authority', () => {
  const r = new Router(baseProxySettings(), facts);
  const a = r.route('hello', false);
  assert.deepEqual(a, {
    kind: 'service',
    service: 'hello',
    region: 'us-central1',
    host: 'hello-123.us-central1.run.app',
    audience: 'https://hello-123.us-central1.run.app',
    bearer: null,
  });
  assert.equal(r.route('hello', false), a, 'the same object: the per-route bearer cache survives');
  const b = r.route('hello.europe-west1.run.internal', false);
  assert.equal(b.kind === 'service' && b.host, 'hello-123.europe-west1.run.app');
});

test('new facts rebuild every route; a flag beats the metadata server', () => {
  const r = new Router(baseProxySettings(), { ...facts, region: null });
  assert.match(
    code(() => r.route('hello', false)),
    /^RUNSD_FACT_MISSING: "hello" needs this service's own region/,
  );
  r.setFacts(facts);
  const a = r.route('hello', false);
  r.setFacts({ ...facts, projectNumber: '456' });
  const b = r.route('hello', false);
  assert.notEqual(a, b);
  assert.equal(b.kind === 'service' && b.host, 'hello-456.us-central1.run.app');
  const flagged = new Router(baseProxySettings({ projectNumber: '789' }), facts).route('hello', false);
  assert.equal(flagged.kind === 'service' && flagged.audience, 'https://hello-789.us-central1.run.app');
});

test('external hosts: plain forwarding only for env mode absolute-form, else not a relay', () => {
  const env = new Router(baseProxySettings({ mode: 'env' }), facts);
  assert.deepEqual(env.route('example.com:8080', true), { kind: 'plain', host: 'example.com', port: 8080 });
  assert.deepEqual(env.route('example.com', true), { kind: 'plain', host: 'example.com', port: 80 });
  assert.match(
    code(() => env.route('example.com:70000', true)),
    /^RUNSD_BAD_HOST: "example.com:70000": port 70000 is not a TCP port/,
  );
  assert.match(
    code(() => env.route('example.com', false)),
    /^RUNSD_NOT_RELAY: "example.com" is not an internal service name/,
  );
  const dns = new Router(baseProxySettings(), facts);
  assert.match(
    code(() => dns.route('example.com', true)),
    /^RUNSD_NOT_RELAY/,
  );
  assert.match(
    code(() => dns.route('Bad_Name', false)),
    /^RUNSD_BAD_HOST/,
  );
});

test('CONNECT: internal names only, and never to :443 (TLS the proxy cannot add a token to)', () => {
  const r = new Router(baseProxySettings({ mode: 'env' }), facts);
  assert.equal(
    code(() => r.checkConnect('hello:80')),
    'no error',
  );
  assert.match(
    code(() => r.checkConnect('example.com:80')),
    /^RUNSD_NOT_RELAY: CONNECT "example.com:80": only internal service names/,
  );
  assert.match(
    code(() => r.checkConnect('hello.us-east1:443')),
    /^RUNSD_NOT_RELAY: CONNECT "hello.us-east1:443": internal names are served over plain HTTP; call http:\/\/hello.us-east1 instead/,
  );
});

test('targets no upstream kind can forward are refused before routing', () => {
  assert.equal(
    code(() => checkTarget('http1', 'GET', '/x', 'hello')),
    'no error',
  );
  assert.equal(
    code(() => checkTarget('http1', 'OPTIONS', '*', 'hello')),
    'no error',
  );
  assert.match(
    code(() => checkTarget('h2c', 'CONNECT', '/', 'hello')),
    /^RUNSD_METHOD: hello: CONNECT over HTTP\/2/,
  );
  assert.match(
    code(() => checkTarget('http1', 'GET', 'https://hello/x', 'hello')),
    /^RUNSD_BAD_REQUEST: request target "https:\/\/hello\/x"/,
  );
  assert.match(
    code(() => checkTarget('http1', 'GET', '*', 'hello')),
    /^RUNSD_BAD_REQUEST/,
  );
});

test('a -route wins over the Cloud Run naming: its host, port, prefix and audience', async () => {
  const { parseRoutes } = await import('../../../src/domain/routes.ts');
  const routes = parseRoutes(
    [
      { text: 'hello=https://other-9.us-east1.run.app', source: '-route #1' },
      { text: 'pay.acme=https://lb.example.com:8443/v1,audience=pay', source: '-route #2' },
    ],
    'run.internal.',
  );
  for (const mode of ['dns', 'env'] as const) {
    const r = new Router(baseProxySettings({ mode, routes }), facts);
    assert.deepEqual(r.route('hello', false), {
      kind: 'service',
      service: 'hello',
      region: '',
      host: 'other-9.us-east1.run.app',
      audience: 'https://other-9.us-east1.run.app',
      bearer: null,
      route: 'hello',
    });
    assert.deepEqual(r.route('PAY.acme.:80', mode === 'env'), {
      kind: 'service',
      service: 'pay.acme',
      region: '',
      host: 'lb.example.com',
      audience: 'pay',
      bearer: null,
      route: 'pay.acme',
      port: 8443,
      prefix: '/v1',
    });
    // the Cloud Run naming still serves everything else
    assert.equal(
      r.route('world', false).kind === 'service' && r.route('world', false).host,
      'world-123.us-central1.run.app',
    );
    assert.doesNotThrow(() => r.checkConnect('pay.acme:80'));
  }
});

test('a tagged revision goes to its tag URL with its service URL as the audience', () => {
  const r = new Router(baseProxySettings(), facts);
  assert.deepEqual(r.route('green---hello.europe-west1', false), {
    kind: 'service',
    service: 'hello',
    region: 'europe-west1',
    host: 'green---hello-123.europe-west1.run.app',
    audience: 'https://hello-123.europe-west1.run.app',
    bearer: null,
  });
});

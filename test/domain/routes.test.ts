// -route parsing (src/domain/routes.ts): every accepted shape, and every invalid case with the words
// the user sees (the entry and where it came from).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  envRouteEntries,
  parseRoute,
  parseRoutes,
  type RouteSpec,
  routePath,
  routesFileEntries,
  routeUrl,
} from '../../src/domain/routes.ts';
import { RunsdError } from '../../src/errors.ts';

const Z = 'run.internal.';
const e = (text: string, source = '-route #1') => ({ text, source });

test('parseRoute: accepted forms', () => {
  const table: [string, Omit<RouteSpec, 'source'>][] = [
    [
      'billing=https://billing-42.us-east1.run.app',
      {
        name: 'billing',
        host: 'billing-42.us-east1.run.app',
        port: null,
        prefix: '',
        audience: 'https://billing-42.us-east1.run.app',
      },
    ],
    [
      'Billing.ACME.=https://api.example.com:8443/v1/,audience=custom-aud',
      { name: 'billing.acme', host: 'api.example.com', port: 8443, prefix: '/v1', audience: 'custom-aud' },
    ],
    [
      ' pay = https://LB.example.com:443/a/b , audience = https://pay.example.com ',
      {
        name: 'pay',
        host: 'lb.example.com',
        port: null,
        prefix: '/a/b',
        audience: 'https://pay.example.com',
      },
    ],
    [
      'x=https://10.0.0.7:9443',
      { name: 'x', host: '10.0.0.7', port: 9443, prefix: '', audience: 'https://10.0.0.7:9443' },
    ],
    [
      'v6=https://[2001:db8::1]/',
      { name: 'v6', host: '2001:db8::1', port: null, prefix: '', audience: 'https://[2001:db8::1]' },
    ],
    [
      'a1-b.c-2=https://h.example',
      { name: 'a1-b.c-2', host: 'h.example', port: null, prefix: '', audience: 'https://h.example' },
    ],
  ];
  for (const [text, want] of table)
    assert.deepEqual(parseRoute(e(text), Z), { ...want, source: '-route #1' }, text);
});

test('parseRoute: every invalid case names the entry and the reason', () => {
  const table: [string, RegExp][] = [
    ['billing', /expected NAME=https:\/\/HOST/],
    ['=https://x.example', /the name before "=" is empty/],
    ['bad_name=https://x.example', /"bad_name" in the name is not a DNS label/],
    ['-a=https://x.example', /"-a" in the name is not a DNS label/],
    ['a..b=https://x.example', /"" in the name is not a DNS label/],
    [`${'a'.repeat(64)}=https://x.example`, /is not a DNS label/],
    [`${'a.'.repeat(127)}a=https://x.example`, /longer than 253/],
    ['10.0.0.1=https://x.example', /is an IP address/],
    ['hello.us-central1.run.internal=https://x.example', /inside run\.internal, which runsd answers itself/],
    ['run.internal=https://x.example', /inside run\.internal/],
    ['metadata.google.internal=https://x.example', /inside google\.internal/],
    ['localhost=https://x.example', /inside localhost/],
    ['a=http://x.example', /"http:\/\/x\.example" is not an https:\/\/ URL/],
    ['a=x.example', /is not an https:\/\/ URL/],
    ['a=https://', /is not a valid URL|has no host/],
    ['a=https://x.example:99999', /is not a valid URL/],
    ['a=https://user:pw@x.example', /has a user or password/],
    ['a=https://x.example/?q=1', /has a query/],
    ['a=https://x.example/#f', /has a fragment/],
    ['a=https://x.example,audience', /option "audience" is not KEY=VALUE/],
    ['a=https://x.example,aud=z', /unknown option "aud"/],
    ['a=https://x.example,audience=', /audience= needs a value/],
    ['a=https://x.example,audience=a b', /audience= needs a value without spaces/],
    ['a=https://x.example,audience=a,audience=b', /audience= is given twice/],
  ];
  for (const [text, why] of table) {
    let err: unknown;
    try {
      parseRoute(e(text, 'routes.txt:7'), Z);
    } catch (x) {
      err = x;
    }
    assert.ok(err instanceof RunsdError, `${text}: no error`);
    assert.equal(err.code, 'RUNSD_USAGE', text);
    assert.ok(err.message.includes(`"${text}" (routes.txt:7)`), `${text}: ${err.message}`);
    assert.match(err.message, why, text);
  }
});

test('parseRoutes: a duplicate name names both entries; a custom zone is the one refused', () => {
  assert.throws(
    () =>
      parseRoutes(
        [e('a=https://x.example', '-route #1'), e('A.=https://y.example', 'RUNSD_ROUTES entry 1')],
        Z,
      ),
    /invalid route "A\.=https:\/\/y\.example" \(RUNSD_ROUTES entry 1\): the name "a" is already routed by -route #1/,
  );
  assert.equal(parseRoutes([e('x.run.internal=https://x.example')], 'corp.example.').length, 1);
  assert.throws(
    () => parseRoutes([e('api.corp.example=https://x.example')], 'corp.example.'),
    /inside corp\.example/,
  );
});

test('routes file and RUNSD_ROUTES entries keep where they came from', () => {
  const text =
    '# routes\n\nbilling=https://b.example  # the billing API\n  pay=https://p.example,audience=p\n';
  assert.deepEqual(routesFileEntries(text, '/etc/routes'), [
    { text: 'billing=https://b.example', source: '/etc/routes:3' },
    { text: 'pay=https://p.example,audience=p', source: '/etc/routes:4' },
  ]);
  assert.deepEqual(envRouteEntries(' a=https://a.example ;; b=https://b.example;'), [
    { text: 'a=https://a.example', source: 'RUNSD_ROUTES entry 1' },
    { text: 'b=https://b.example', source: 'RUNSD_ROUTES entry 2' },
  ]);
});

test('routePath and routeUrl', () => {
  assert.equal(routePath('/v1', '/x?y=1'), '/v1/x?y=1');
  assert.equal(routePath('/v1', '*'), '/v1');
  const r = parseRoute(e('a=https://h.example:8443/v1'), Z);
  assert.equal(routeUrl(r), 'https://h.example:8443/v1');
  assert.equal(routeUrl(parseRoute(e('a=https://[::1]'), Z)), 'https://[::1]');
});

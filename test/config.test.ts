import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Config, FLAGS, helpText, parseConfig } from '../src/config.ts';
import { RunsdError } from '../src/errors.ts';

function run(argv: string[], env: Record<string, string> = {}): Config {
  const r = parseConfig(argv, env);
  assert.equal(r.kind, 'run');
  return (r as { config: Config }).config;
}

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseConfig(argv, env);
  } catch (err) {
    assert.ok(err instanceof RunsdError);
    assert.equal(err.code, 'RUNSD_USAGE');
    return err.message;
  }
  assert.fail(`expected a usage error for ${argv.join(' ')}`);
}

test('defaults match the Go runsd', () => {
  const c = run(['--', '/app', 'a']);
  assert.equal(c.verbosity, 0);
  assert.equal(c.domain, 'run.internal.');
  assert.equal(c.ndots, 4);
  assert.equal(c.httpProxyPort, 80);
  assert.equal(c.dnsPort, 53);
  assert.equal(c.resolvConfFile, '/etc/resolv.conf');
  assert.equal(c.mode, 'auto');
  assert.equal(c.urlFormat, 'auto');
  assert.equal(c.authHeader, 'x-serverless-authorization');
  assert.equal(c.metricsAddr, null);
  assert.deepEqual(c.command, ['/app', 'a']);
  assert.ok(Object.isFrozen(c));
});

test('every Go runsd flag is accepted in every form', () => {
  const c = run([
    '-v=5',
    '--domain',
    'Corp.Internal',
    '-ndots',
    '2',
    '-nameserver=10.0.0.2:53',
    '--gcp_region=europe-west1',
    '-gcp_project_hash',
    'abcdefghij',
    '-skip_dns_hijack',
    '-skip_http_proxy=true',
    '-http_proxy_port=8080',
    '-dns_port',
    '5353',
    '-user',
    'nobody',
    '-resolv_conf_file=/tmp/rc',
    '-logtostderr',
    '-alsologtostderr=false',
    '-stderrthreshold=INFO',
    '/app',
  ]);
  assert.equal(c.verbosity, 5);
  assert.equal(c.domain, 'corp.internal.');
  assert.equal(c.ndots, 2);
  assert.equal(c.nameserver, '10.0.0.2:53');
  assert.equal(c.region, 'europe-west1');
  assert.equal(c.projectHash, 'abcdefghij');
  assert.equal(c.skipDnsHijack, true);
  assert.equal(c.skipHttpProxy, true);
  assert.equal(c.httpProxyPort, 8080);
  assert.equal(c.dnsPort, 5353);
  assert.equal(c.user, 'nobody');
  assert.equal(c.resolvConfFile, '/tmp/rc');
  assert.deepEqual(c.command, ['/app']);
});

test('new flags and their environment fallbacks', () => {
  const c = run(
    [
      '-mode=env',
      '-metadata_host=127.0.0.1:8999',
      '-project_number=123',
      '-url_format=deterministic',
      '-auth_header=Authorization',
      '-metrics_addr=:9090',
      '-log_format=json',
      'app',
    ],
    {},
  );
  assert.equal(c.mode, 'env');
  assert.equal(c.metadataHost, '127.0.0.1:8999');
  assert.equal(c.projectNumber, '123');
  assert.equal(c.urlFormat, 'deterministic');
  assert.equal(c.authHeader, 'authorization');
  assert.deepEqual(c.metricsAddr, { host: '127.0.0.1', port: 9090 });
  assert.equal(c.logFormat, 'json');
  assert.equal(c.dnsThreads, 1);
  assert.equal(run(['-dns_threads', '2', 'app']).dnsThreads, 2);
  const e = run(['app'], {
    GCE_METADATA_HOST: 'meta:80',
    CLOUD_RUN_PROJECT_HASH: 'xyz123',
    K_SERVICE: 's',
    PORT: '8080',
    CLOUD_RUN_ID_TOKEN: 'tok',
  });
  assert.equal(e.metadataHost, 'meta:80');
  assert.equal(e.projectHash, 'xyz123');
  assert.equal(e.env.kService, 's');
  assert.equal(e.env.port, '8080');
  assert.equal(e.env.staticIdToken, 'tok');
  assert.equal(run(['app'], { GCE_METADATA_IP: '127.0.0.9' }).metadataHost, '127.0.0.9');
  assert.equal(run(['-gcp_project_hash=abc', 'app'], { CLOUD_RUN_PROJECT_HASH: 'zzz' }).projectHash, 'abc');
  assert.deepEqual(run(['-metrics_addr=[::1]:9091', 'app']).metricsAddr, { host: '::1', port: 9091 });
  assert.deepEqual(run(['-metrics_addr=127.0.0.2:9091', 'app']).metricsAddr, {
    host: '127.0.0.2',
    port: 9091,
  });
  // localhost is pinned to 127.0.0.1: what it resolves to is the resolver's business, not ours.
  assert.deepEqual(run(['-metrics_addr=LOCALHOST:9091', 'app']).metricsAddr, {
    host: '127.0.0.1',
    port: 9091,
  });
  assert.deepEqual(run(['-metrics_addr=[::ffff:127.0.0.1]:9091', 'app']).metricsAddr, {
    host: '::ffff:127.0.0.1',
    port: 9091,
  });
});

test('bad values are rejected with the flag and value named', () => {
  const cases: [string[], RegExp][] = [
    [['-ndots=x', 'a'], /invalid value "x" for -ndots: expected a whole number from 1 to 15/],
    [['-ndots=0', 'a'], /-ndots/],
    [
      ['-dns_port=99999', 'a'],
      /invalid value "99999" for -dns_port: expected a whole number from 1 to 65535/,
    ],
    [['-http_proxy_port=-1', 'a'], /bad flag syntax|-http_proxy_port/],
    [['-v=11', 'a'], /-v: expected a whole number from 0 to 10/],
    [['-mode=docker', 'a'], /invalid value "docker" for -mode: expected one of auto, dns, env/],
    [['-url_format=x', 'a'], /-url_format/],
    [['-auth_header=x-foo', 'a'], /-auth_header: expected one of x-serverless-authorization, authorization/],
    [['-log_format=xml', 'a'], /-log_format/],
    [['-dns_threads=0', 'a'], /invalid value "0" for -dns_threads: expected a whole number from 1 to 8/],
    [['-gcp_region=US Central', 'a'], /-gcp_region: expected a region like us-central1/],
    [['-project_number=abc', 'a'], /-project_number/],
    [['-metrics_addr=9090', 'a'], /-metrics_addr: expected \[HOST\]:PORT/],
    [['-metrics_addr=0.0.0.0:9090', 'a'], /-metrics_addr: 0\.0\.0\.0 is not a loopback address/],
    [['-metrics_addr=[::]:9090', 'a'], /-metrics_addr: :: is not a loopback address/],
    [['-metrics_addr=10.0.0.5:9090', 'a'], /-metrics_addr: 10\.0\.0\.5 is not a loopback/],
    [['-metrics_addr=127.999.0.1:9090', 'a'], /-metrics_addr: 127\.999\.0\.1 is not a loopback/],
    [['-metrics_addr=[::ffff:10.0.0.1]:9090', 'a'], /"\[::ffff:10\.0\.0\.1\]:9090" for -metrics_addr/],
    [['-metrics_addr=metrics.example:9090', 'a'], /-metrics_addr: metrics\.example is not a loopback/],
    [['-nameserver=not a host', 'a'], /-nameserver/],
    [['-domain=bad_domain', 'a'], /-domain/],
    [['-user=a:b:c', 'a'], /-user/],
    [['-url_format=hash', 'a'], /needs a project hash/],
    [['-bogus', 'a'], /flag provided but not defined: -bogus/],
    [[], /no command given/],
    [['-v=1'], /no command given/],
    [['--'], /no command given/],
  ];
  for (const [argv, re] of cases) assert.match(usageError(argv), re, argv.join(' '));
  assert.match(usageError(['a'], { CLOUD_RUN_PROJECT_HASH: 'BAD HASH' }), /CLOUD_RUN_PROJECT_HASH/);
});

test('help and version', () => {
  assert.equal(parseConfig(['--help'], {}).kind, 'help');
  assert.equal(parseConfig(['-h'], {}).kind, 'help');
  assert.equal(parseConfig(['-version'], {}).kind, 'version');
  const text = helpText('1.2.3');
  for (const f of FLAGS.filter((x) => x.name !== 'h'))
    assert.match(text, new RegExp(`-${f.name}\\b`), f.name);
});

test('-log_format=auto: json where Cloud Run collects stderr, text elsewhere; a bad value is named', () => {
  const fmt = (env: Record<string, string>) => {
    const p = parseConfig(['-log_format=auto', 'app'], env);
    assert.equal(p.kind, 'run');
    return p.kind === 'run' ? p.config.logFormat : null;
  };
  assert.equal(fmt({ K_SERVICE: 'svc' }), 'json');
  assert.equal(fmt({ CLOUD_RUN_JOB: 'job' }), 'json');
  assert.equal(fmt({ CLOUD_RUN_WORKER_POOL: 'pool' }), 'json');
  assert.equal(fmt({}), 'text');
  assert.throws(
    () => parseConfig(['-log_format=yaml', 'app'], {}),
    (e: unknown) => e instanceof RunsdError && e.code === 'RUNSD_USAGE' && /log_format/.test(e.message),
  );
});

test('-route (repeatable), RUNSD_ROUTES and -routes_file all add routes, in that order', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'runsd-routes-'));
  try {
    const file = join(dir, 'routes');
    writeFileSync(file, '# more\nc=https://c.example/v1 # c\n');
    const c = run(
      [
        '-route=a=https://a.example',
        '-route',
        'b=https://b.example,audience=bb',
        `-routes_file=${file}`,
        '--',
        'x',
      ],
      {
        RUNSD_ROUTES: 'd=https://d.example',
      },
    );
    assert.deepEqual(
      c.routes.map((r) => [r.name, r.audience, r.source]),
      [
        ['a', 'https://a.example', '-route #1'],
        ['b', 'bb', '-route #2'],
        ['d', 'https://d.example', 'RUNSD_ROUTES entry 1'],
        ['c', 'https://c.example', `${file}:2`],
      ],
    );
    assert.match(
      usageError([
        '-route=a=https://a.example',
        `-routes_file=${file}`,
        '-route=c=https://x.example',
        '--',
        'x',
      ]),
      /invalid route "c=https:\/\/c\.example\/v1" \(.*routes:2\): the name "c" is already routed by -route #2/,
    );
    assert.match(
      usageError(['-route=x.run.internal=https://a.example', '--', 'x']),
      /\(-route #1\): the name "x\.run\.internal" is inside run\.internal/,
    );
    assert.match(
      usageError(['-domain=corp.example', '-route=api.corp.example=https://a.example', '--', 'x']),
      /inside corp\.example/,
    );
    assert.match(
      usageError([`-routes_file=${join(dir, 'none')}`, '--', 'x']),
      /cannot read -routes_file ".*none"/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(run(['--', 'x']).routes, []);
});

test('-check_services and -services_refresh', () => {
  const c = run(['--', 'x']);
  assert.equal(c.checkServices, true);
  assert.equal(c.servicesRefreshSec, 60);
  const d = run(['-check_services=false', '-services_refresh=300', '--', 'x']);
  assert.equal(d.checkServices, false);
  assert.equal(d.servicesRefreshSec, 300);
  assert.match(
    usageError(['-check_services=maybe', '--', 'x']),
    /invalid boolean value "maybe" for -check_services/,
  );
  assert.match(
    usageError(['-services_refresh=5', '--', 'x']),
    /-services_refresh: expected a whole number from 10 to 3600/,
  );
});

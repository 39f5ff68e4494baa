import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as O from '../../src/domain/loadgen-options.ts';

const { EMULATOR_URL, LoadgenUsageError, parseLoadgenArgs, USAGE, wireProtocol } = O;
type LoadgenOptions = O.LoadgenOptions;

test('defaults', () => {
  const o = parseLoadgenArgs(['http://127.0.0.1:8080/x?y=1'], 4);
  assert.deepEqual(o, {
    url: 'http://127.0.0.1:8080/x?y=1',
    durationMs: 10_000,
    requests: null,
    rate: null,
    warmupMs: 0,
    connections: 10,
    streams: 1,
    threads: 4,
    protocol: 'http1',
    grpc: null,
    method: 'GET',
    headers: [],
    body: { kind: 'none' },
    proxy: null,
    token: null,
    tokenFile: null,
    noToken: false,
    connectTo: null,
    cacert: null,
    compare: null,
    rounds: 3,
    timeoutMs: 10_000,
    json: false,
    html: null,
    quiet: false,
    emulator: false,
    help: false,
  });
  assert.ok(Object.isFrozen(o));
});

test('options are read, short and long forms alike', () => {
  const cases: [string[], Partial<LoadgenOptions>][] = [
    [['-d', '0.5', 'http://h/'], { durationMs: 500 }],
    [['--duration=3s', 'http://h/'], { durationMs: 3000 }],
    [['-d', '250ms', 'http://h/'], { durationMs: 250 }],
    [['-d', '2m', 'http://h/'], { durationMs: 120_000 }],
    [['-n', '100', 'http://h/'], { requests: 100, durationMs: null }],
    [['-n', '100', '-d', '5', 'http://h/'], { requests: 100, durationMs: 5000 }],
    [['-R', '250', 'http://h/'], { rate: 250 }],
    [['--rate', '0.5', 'http://h/'], { rate: 0.5 }],
    [['--warmup', '1s', 'http://h/'], { warmupMs: 1000 }],
    [['--connections', '7', '--threads', '3', 'http://h/'], { connections: 7, threads: 3 }],
    [['-c', '1', '-t', '4', 'http://h/'], { connections: 1, threads: 1 }], // threads ≤ connections
    [['--protocol', 'h2c', '--streams', '8', 'http://h/'], { protocol: 'h2c', streams: 8 }],
    [['--protocol', 'h2', 'https://h/'], { protocol: 'h2' }],
    [['--grpc', '/pkg.Svc/Call', 'https://h/'], { grpc: '/pkg.Svc/Call', protocol: 'h2', method: 'POST' }],
    [
      ['-m', 'post', '--body-size', '1024', 'http://h/'],
      { method: 'POST', body: { kind: 'size', bytes: 1024 } },
    ],
    [['-X', 'PUT', '-b', 'hi', 'http://h/'], { method: 'PUT', body: { kind: 'text', text: 'hi' } }],
    [['--body-file', '/tmp/f', 'http://h/'], { body: { kind: 'file', path: '/tmp/f' } }],
    [
      ['-H', 'X-A: 1', '--header', 'x-b:two: parts ', 'http://h/'],
      {
        headers: [
          ['x-a', '1'],
          ['x-b', 'two: parts'],
        ],
      },
    ],
    [
      ['--proxy', 'http://127.0.0.1:9999/', 'http://hello/'],
      { proxy: 'http://127.0.0.1:9999', url: 'http://hello/' },
    ],
    [['--token', 'a.b.c', 'https://h/'], { token: 'a.b.c' }],
    [['--token-file', '/t', 'https://h/'], { tokenFile: '/t' }],
    [['--no-token', 'https://h/'], { noToken: true }],
    [['--connect-to', '127.0.0.1:8443', 'https://h/'], { connectTo: { host: '127.0.0.1', port: 8443 } }],
    [['--connect-to', '[::1]:8443', 'https://h/'], { connectTo: { host: '::1', port: 8443 } }],
    [['--cacert', '/ca.pem', 'https://h/'], { cacert: '/ca.pem' }],
    [['--compare', 'https://h-1.r.run.app/', 'http://h/'], { compare: 'https://h-1.r.run.app/', rounds: 3 }],
    [['--compare', 'https://u/', '--rounds', '5', 'http://h/'], { rounds: 5 }],
    [
      ['--timeout', '2', '--json', '--html', 'r.html', '-q', 'http://h/'],
      { timeoutMs: 2000, json: true, html: 'r.html', quiet: true },
    ],
    [['--emulator'], { emulator: true, url: EMULATOR_URL, proxy: null }],
    [['--emulator', 'http://other/p'], { emulator: true, url: 'http://other/p' }],
    [['--help'], { help: true, url: null }],
    [['-h'], { help: true }],
  ];
  for (const [argv, want] of cases) {
    const o = parseLoadgenArgs(argv);
    for (const [k, v] of Object.entries(want))
      assert.deepEqual(o[k as keyof typeof o], v, `${argv.join(' ')}: ${k}`);
  }
});

test('every bad option is one line naming it (never parseArgs’ own wording)', () => {
  const cases: [string[], RegExp][] = [
    [[], /^missing URL \(or --emulator\)$/],
    [['http://a/', 'http://b/'], /one URL expected, got 2/],
    [['ftp://h/'], /^URL="ftp:\/\/h\/": expected http:\/\/ or https:\/\//],
    [['not a url'], /^URL="not a url": not a URL/],
    [['--nope', 'http://h/'], /^unknown option --nope$/],
    [['-z', 'http://h/'], /^unknown option -z$/],
    [['--json=yes', 'http://h/'], /^--json takes no value$/],
    [['http://h/', '-c'], /^--connections needs a value$/],
    [['http://h/', '-d'], /^--duration needs a value$/],
    [['-d', 'x', 'http://h/'], /^--duration="x": not a time/],
    [['-d', '0', 'http://h/'], /^--duration="0": must be more than 0/],
    [['-d', '-1', 'http://h/'], /--duration/],
    [['-d', '25h', 'http://h/'], /^--duration="25h": at most/],
    [['-n', '0', 'http://h/'], /^--requests="0": must be between 1/],
    [['-n', 'ten', 'http://h/'], /^--requests="ten": not a whole number/],
    [['-R', '0', 'http://h/'], /^--rate="0": not a positive number/],
    [['-R', 'fast', 'http://h/'], /^--rate="fast"/],
    [['--warmup', 'soon', 'http://h/'], /^--warmup="soon": not a time/],
    [['--timeout', '0', 'http://h/'], /^--timeout="0": must be more than 0/],
    [['-c', '0', 'http://h/'], /^--connections="0": must be between 1 and 10000/],
    [['-c', '2.5', 'http://h/'], /^--connections="2.5": not a whole number/],
    [['-t', 'many', 'http://h/'], /^--threads="many": not a whole number/],
    [['--protocol', 'h3', 'http://h/'], /^--protocol="h3": expected http1, h2 or h2c/],
    [['--protocol', 'h2c', 'https://h/'], /^--protocol="h2c": h2c is cleartext/],
    [['--streams', '4', 'http://h/'], /^--streams="4": only with HTTP\/2/],
    [['--streams', '0', '--protocol', 'h2', 'http://h/'], /^--streams="0"/],
    [['--grpc', 'Svc.Method', 'http://h/'], /^--grpc="Svc.Method": expected \/package.Service\/Method/],
    [['--grpc', '/a.B/C', '--protocol', 'http1', 'http://h/'], /^--protocol="http1": gRPC needs HTTP\/2/],
    [['--grpc', '/a.B/C', '-m', 'GET', 'http://h/'], /^--method="GET": gRPC calls are POST/],
    [['-m', 'GE T', 'http://h/'], /^--method="GE T": not an HTTP method token/],
    [['-m', 'GET', '-X', 'PUT', 'http://h/'], /^-m and -X both given/],
    [['-H', 'nocolon', 'http://h/'], /^--header="nocolon": expected 'Name: value'/],
    [['--header', ': v', 'http://h/'], /^--header=": v"/],
    [
      ['-H', 'x-a: 1\r\nx-b: 2', 'http://h/'],
      /^--header="x-a: 1\\r\\nx-b: 2": the value holds CR, LF or NUL/,
    ],
    [['--body-size', '-3', 'http://h/'], /--body-size/],
    [['-b', 'x', '--body-file', 'f', 'http://h/'], /^--body and --body-file both given/],
    [['--proxy', 'socks5://h:1', 'http://h/'], /^--proxy="socks5:\/\/h:1": expected http:\/\//],
    [['--proxy', 'http://127.0.0.1:1', 'https://h/'], /^--proxy="http:\/\/127.0.0.1:1": only for http:\/\//],
    [['--emulator', '--proxy', 'http://127.0.0.1:1'], /^--emulator sets the proxy itself/],
    [['--token', 't', '--no-token', 'https://h/'], /^--token and --no-token both given/],
    [['--connect-to', 'nowhere', 'https://h/'], /^--connect-to="nowhere": expected HOST:PORT/],
    [['--connect-to', 'h:70000', 'https://h/'], /^--connect-to="h:70000"/],
    [['--compare', 'gopher://u', 'http://h/'], /^--compare="gopher:\/\/u"/],
    [['--rounds', '2', 'http://h/'], /^--rounds="2": only with --compare/],
    [['--compare', 'https://u/', '--rounds', '0', 'http://h/'], /^--rounds="0"/],
    [['--html=', 'http://h/'], /^--html="": expected a file name/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(
      () => parseLoadgenArgs(argv),
      (err: unknown) =>
        err instanceof LoadgenUsageError && re.test(err.message) && !err.message.includes('\n'),
      argv.join(' '),
    );
  }
});

test('--help lists every option the parser accepts', () => {
  for (const flag of [
    '-c, --connections',
    '--streams',
    '-d, --duration',
    '-n, --requests',
    '-R, --rate',
    '--warmup',
    '-t, --threads',
    '--timeout',
    '-m, --method',
    '-H, --header',
    '-b, --body',
    '--body-file',
    '--body-size',
    '--protocol',
    '--grpc',
    '--proxy',
    '--token',
    '--token-file',
    '--no-token',
    '--connect-to',
    '--cacert',
    '--compare',
    '--rounds',
    '--emulator',
    '--json',
    '--html',
    '-q, --quiet',
    '-h, --help',
  ])
    assert.ok(USAGE.includes(flag), flag);
});

test('h2 on http:// is h2c; https:// is h2 over TLS', () => {
  assert.equal(wireProtocol('h2', 'http://hello/'), 'h2c');
  assert.equal(wireProtocol('h2c', 'http://hello/'), 'h2c');
  assert.equal(wireProtocol('h2', 'https://a.run.app/'), 'h2');
  assert.equal(wireProtocol('http1', 'https://a.run.app/'), 'http1');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMULATOR_URL, LoadgenUsageError, parseLoadgenArgs } from '../../src/domain/loadgen-options.ts';

test('defaults', () => {
  const o = parseLoadgenArgs(['http://127.0.0.1:8080/x?y=1']);
  assert.deepEqual(o, {
    url: 'http://127.0.0.1:8080/x?y=1',
    durationMs: 5000,
    connections: 10,
    streams: 1,
    threads: 2,
    protocol: 'http1',
    method: 'GET',
    headers: [],
    bodySize: 0,
    proxy: null,
    timeoutMs: 10_000,
    json: false,
    emulator: false,
    help: false,
  });
  assert.ok(Object.isFrozen(o));
});

test('options are read', () => {
  const cases: [string[], Partial<ReturnType<typeof parseLoadgenArgs>>][] = [
    [['--duration', '0.5', 'http://h/'], { durationMs: 500 }],
    [['--duration=3s', 'http://h/'], { durationMs: 3000 }],
    [['--connections', '7', '--threads', '3', 'http://h/'], { connections: 7, threads: 3 }],
    [['-c', '1', '--threads', '4', 'http://h/'], { connections: 1, threads: 1 }], // threads ≤ connections
    [['--protocol', 'h2c', '--streams', '8', 'http://h/'], { protocol: 'h2c', streams: 8 }],
    [['--method', 'post', '--body-size', '1024', 'http://h/'], { method: 'POST', bodySize: 1024 }],
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
    [['--timeout', '2', '--json', 'http://h/'], { timeoutMs: 2000, json: true }],
    [['--emulator'], { emulator: true, url: EMULATOR_URL, proxy: null }],
    [['--emulator', 'http://other/p'], { emulator: true, url: 'http://other/p' }],
    [['--help'], { help: true, url: null }],
  ];
  for (const [argv, want] of cases) {
    const o = parseLoadgenArgs(argv);
    for (const [k, v] of Object.entries(want))
      assert.deepEqual(o[k as keyof typeof o], v, `${argv.join(' ')}: ${k}`);
  }
});

test('bad input names the option and the value', () => {
  const cases: [string[], RegExp][] = [
    [[], /missing URL \(or --emulator\)/],
    [['http://a/', 'http://b/'], /one URL expected, got 2/],
    [['ftp://h/'], /--url="ftp:\/\/h\/": only http:\/\//],
    [['https://h/'], /--url="https:\/\/h\/": only http:\/\//],
    [['not a url'], /--url="not a url": not a URL/],
    [['--duration', 'x', 'http://h/'], /--duration="x": not a number of seconds/],
    [['--duration', '0', 'http://h/'], /--duration="0": must be > 0/],
    [['--duration', '-1', 'http://h/'], /--duration/],
    [['--connections', '0', 'http://h/'], /--connections="0": must be between 1 and 10000/],
    [['--connections', '2.5', 'http://h/'], /--connections="2.5": not a whole number/],
    [['--threads', 'many', 'http://h/'], /--threads="many": not a whole number/],
    [['--protocol', 'h3', 'http://h/'], /--protocol="h3": expected http1 or h2c/],
    [['--streams', '4', 'http://h/'], /--streams="4": only with --protocol h2c/],
    [['--method', 'GE T', 'http://h/'], /--method="GE T": not an HTTP method token/],
    [['--header', 'nocolon', 'http://h/'], /--header="nocolon": expected 'Name: value'/],
    [['--header', ': v', 'http://h/'], /--header=": v"/],
    [['--body-size', '-3', 'http://h/'], /--body-size/],
    [['--proxy', 'socks5://h:1', 'http://h/'], /--proxy="socks5:\/\/h:1": only http:\/\//],
    [['--emulator', '--proxy', 'http://127.0.0.1:1'], /--emulator sets the proxy itself/],
    [['--nope', 'http://h/'], /--nope/],
    [['--json=yes', 'http://h/'], /--json/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(
      () => parseLoadgenArgs(argv),
      (err: unknown) => err instanceof LoadgenUsageError && re.test(err.message),
      argv.join(' '),
    );
  }
});

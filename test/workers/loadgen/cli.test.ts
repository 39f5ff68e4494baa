// The real `npm run loadgen` command (workers/loadgen/cli.ts in a child process) against loopback
// servers: HTTP/1.1, h2c, through a proxy, and a bad option.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { LoadReport } from '../../../src/domain/loadgen-report.ts';
import { CLI, loadgen, run } from './run-cli.ts';

interface Seen {
  requests: number;
  bad: string[];
}

// Every 5th request fails the way runsd's own errors do: 503 + x-runsd-error.
function handler(seen: Seen, expect: { method: string; bodySize: number; header: string }) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const n = ++seen.requests;
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
    });
    req.on('end', () => {
      if (req.method !== expect.method) seen.bad.push(`method ${req.method}`);
      if (size !== expect.bodySize) seen.bad.push(`body ${size}`);
      if (req.headers['x-test'] !== expect.header) seen.bad.push(`x-test ${req.headers['x-test']}`);
      if (n % 5 === 0) {
        res.writeHead(503, { 'x-runsd-error': 'RUNSD_TEST_UNAVAILABLE', 'content-type': 'text/plain' });
        res.end('test: unavailable\n');
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('hello\n');
      }
    });
  };
}

function checkReport(r: LoadReport, seen: Seen): void {
  assert.deepEqual(seen.bad.slice(0, 5), [], 'the server got what the options asked for');
  assert.ok(r.responses > 20, `responses ${r.responses}`);
  assert.deepEqual(r.errors, {});
  assert.equal(r.errorsTotal, 0);
  // the server answered at least what was counted, and nothing it answered went uncounted
  assert.ok(seen.requests >= r.responses, `server ${seen.requests} vs report ${r.responses}`);
  assert.ok(
    seen.requests <= r.responses + r.abandoned,
    `server ${seen.requests} vs report ${r.responses}+${r.abandoned}`,
  );
  const s200 = r.statuses['200'] ?? 0;
  const s503 = r.statuses['503'] ?? 0;
  assert.equal(s200 + s503, r.responses);
  assert.ok(s503 > 0 && s200 > s503, JSON.stringify(r.statuses));
  assert.deepEqual(r.runsdErrors, { RUNSD_TEST_UNAVAILABLE: s503 });
  assert.equal(r.ok, s200);
  assert.ok(r.reqPerSec > 0);
  assert.equal(r.bytesIn, s200 * 'hello\n'.length + s503 * 'test: unavailable\n'.length);
  const l = r.latencyMs;
  assert.ok(l);
  assert.equal(l.count, r.responses);
  assert.ok(
    l.min > 0 && l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max,
    JSON.stringify(l),
  );
  // bounded: nothing can take longer than the run plus the grace period
  assert.ok(l.max < 1000 + 1000 + 300, `max ${l.max}`);
}

const OPTS = [
  '--duration',
  '1',
  '--threads',
  '2',
  '--connections',
  '4',
  '--method',
  'POST',
  '--body-size',
  '100',
];
const EXPECT = { method: 'POST', bodySize: 100, header: 'yes' };

test('HTTP/1.1 keep-alive: counts, statuses, x-runsd-error, percentiles', async (t) => {
  const seen: Seen = { requests: 0, bad: [] };
  const connections = new Set<unknown>();
  const server = http.createServer(handler(seen, EXPECT));
  server.on('connection', (s) => connections.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const r = await loadgen([...OPTS, '--header', 'X-Test: yes', `http://127.0.0.1:${port}/p`]);
  checkReport(r, seen);
  assert.equal(r.load.threads, 2);
  assert.deepEqual(r.target, {
    url: `http://127.0.0.1:${port}/p`,
    proxy: null,
    protocol: 'http1',
    method: 'POST',
    grpc: null,
  });
  assert.ok(connections.size <= 4, `keep-alive: ${connections.size} connections for ${r.responses} requests`);
});

test('h2c prior knowledge: the same report over HTTP/2 sessions', async (t) => {
  const seen: Seen = { requests: 0, bad: [] };
  let sessions = 0;
  const h = handler(seen, EXPECT);
  // the compatibility API has the same shape for what the handler uses
  const server = http2.createServer((req, res) =>
    h(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse),
  );
  server.on('session', () => sessions++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const r = await loadgen([
    ...OPTS,
    '--protocol',
    'h2c',
    '--streams',
    '3',
    '-H',
    'x-test: yes',
    `http://127.0.0.1:${port}/`,
  ]);
  checkReport(r, seen);
  assert.equal(r.target.protocol, 'h2c');
  assert.equal(sessions, 4, 'one session per connection');
});

test('--proxy sends absolute-form requests to the proxy', async (t) => {
  const urls = new Set<string>();
  const hosts = new Set<string>();
  const server = http.createServer((req, res) => {
    urls.add(req.url ?? '');
    hosts.add(req.headers.host ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const proxy = `http://127.0.0.1:${port}`;
  const r = await loadgen([
    '--duration',
    '0.3',
    '--threads',
    '1',
    '-c',
    '2',
    '--proxy',
    proxy,
    'http://hello/x?y=1',
  ]);
  assert.deepEqual([...urls], ['http://hello/x?y=1']);
  assert.deepEqual([...hosts], ['hello']);
  assert.ok((r.statuses['200'] ?? 0) > 0);
  assert.equal(r.target.proxy, proxy);
});

test('a target that refuses connections: errors by code, no responses', async () => {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r)); // the port is now closed
  const r = await loadgen(['--duration', '0.3', '--threads', '1', '-c', '1', `http://127.0.0.1:${port}/`]);
  assert.equal(r.responses, 0);
  assert.ok((r.errors['ECONNREFUSED'] ?? 0) > 0, JSON.stringify(r.errors));
  assert.equal(r.errorsTotal, r.errors['ECONNREFUSED']);
});

test('a bad option: exit status 2 and a message naming it', async () => {
  await assert.rejects(
    run(process.execPath, [CLI, '--connections', 'zero', 'http://127.0.0.1:1/']),
    (err: unknown) => {
      const e = err as { code: number; stderr: string };
      assert.equal(e.code, 2);
      assert.equal(
        e.stderr,
        'runsd loadtest: --connections="zero": not a whole number (see runsd loadtest --help)\n',
      );
      return true;
    },
  );
});

test('unknown flags, short and long: exit 2, one line naming the flag', async () => {
  for (const [args, line] of [
    [['-z', 'http://127.0.0.1:1/'], 'unknown option -z'],
    [['--rate'], '--rate needs a value'],
    [['--bogus=1', 'http://127.0.0.1:1/'], 'unknown option --bogus'],
  ] as const) {
    await assert.rejects(run(process.execPath, [CLI, ...args]), (err: unknown) => {
      const e = err as { code: number; stderr: string };
      assert.equal(e.code, 2, args.join(' '));
      assert.equal(e.stderr, `runsd loadtest: ${line} (see runsd loadtest --help)\n`);
      return true;
    });
  }
});

test('-n: exactly that many requests; --rate: about that rate; progress lines on stderr (not a TTY)', async (t) => {
  let seen = 0;
  const server = http.createServer((_req, res) => {
    seen++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;
  const counted = JSON.parse(
    (await run(process.execPath, [CLI, '--json', '-q', '-n', '123', '-c', '3', '-t', '2', url])).stdout,
  ) as LoadReport;
  assert.equal(counted.responses, 123);
  assert.equal(seen, 123);
  assert.equal(counted.load.requests, 123);
  seen = 0;
  // 2.2 s at 50 req/s after a 0.3 s warm-up: ~110 counted, the warm-up's ~15 sent but not counted
  const { stdout, stderr } = await run(process.execPath, [
    CLI,
    '--json',
    '-R',
    '50',
    '-d',
    '2.2',
    '--warmup',
    '0.3',
    '-c',
    '2',
    '-t',
    '1',
    url,
  ]);
  const r = JSON.parse(stdout) as LoadReport;
  assert.equal(r.load.model, 'open');
  assert.equal(r.missed, 0);
  assert.equal(r.responses, 110);
  assert.ok(seen >= 110 + 14 && seen <= 110 + 16, `server saw ${seen}`);
  const lines = stderr.split('\n').filter(Boolean);
  assert.ok(lines.length >= 2, stderr);
  for (const l of lines)
    assert.match(l, /^(run|warm-up) +\d+ s +\d+ req\/s {2}\d+ errors {2}p99 (–|[\d.]+ ms)$/);
  assert.doesNotMatch(stderr, /\r|\x1b/, 'no terminal codes when stderr is not a TTY');
  assert.ok(r.timeline.length >= 2, JSON.stringify(r.timeline));
});

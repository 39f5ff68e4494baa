// `runsd loadtest --emulator`: the emulator + the real bin/runsd (env mode, no root), loaded through
// runsd's proxy over HTTP/1.1 and h2c, and --compare against the same service straight (https, h2,
// with the tool's own token). Everything on loopback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareReport } from '../../../src/domain/loadgen-compare.ts';
import { CLI, loadgen, run } from './run-cli.ts';

const AUD = 'https://hello-123456789012.us-central1.run.app';

test('--emulator loads http://hello/ through the real runsd; one identity call for the whole run', async () => {
  const r = await loadgen(['--emulator', '--duration', '1', '--threads', '2', '--connections', '2']);
  assert.equal(r.target.url, 'http://hello/');
  assert.match(r.target.proxy ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok((r.statuses['200'] ?? 0) > 0, JSON.stringify(r.statuses));
  assert.equal(r.ok, r.responses);
  assert.deepEqual(r.errors, {});
  assert.deepEqual(r.runsdErrors, {});
  // runsd caches the ID token: one identity call for the one audience, however many requests
  assert.deepEqual(r.emulator?.identityCalls, { [AUD]: 1 });
  assert.ok(r.responses > 1);
});

test('--emulator --compare: h2c through runsd vs h2 straight, alternating rounds, ratios', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      CLI,
      '--json',
      '-q',
      '--emulator',
      '--protocol',
      'h2',
      '-c',
      '2',
      '--streams',
      '2',
      '-t',
      '1',
      '-d',
      '1.2',
      '--rounds',
      '2',
      '--compare',
      `${AUD}/`,
      'http://hello/',
    ],
    { timeout: 90_000 },
  );
  const c = JSON.parse(stdout) as CompareReport;
  assert.equal(c.kind, 'compare');
  assert.deepEqual(
    c.rounds.map((r) => [r.round, r.first]),
    [
      [1, 'direct'],
      [2, 'runsd'],
    ],
  );
  assert.equal(c.runsd.target.protocol, 'h2c');
  assert.equal(c.direct.target.protocol, 'h2');
  for (const side of [c.runsd, c.direct]) {
    assert.ok(side.responses > 0, JSON.stringify(side.statuses));
    assert.deepEqual(Object.keys(side.statuses), ['200']);
    assert.deepEqual(side.errors, {});
    assert.equal(side.load.durationMs, 1200);
  }
  assert.ok((c.ratios.throughput ?? 0) > 0);
  assert.equal(typeof c.ratios.p50AddedMs, 'number');
  // one token for runsd, one for the tool's own direct legs: the same audience, two callers
  assert.deepEqual(c.emulator?.identityCalls, { [AUD]: 2 });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startControlServer } from '../../src/emulator/control.ts';
import { startEmulator } from '../../src/emulator/index.ts';

const run = promisify(execFile);

test('startEmulator wires DNS → front end/metadata, front end ← metadata keys; env and report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'emu-index-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const emu = await startEmulator({ caPath: join(dir, 'ca.pem') });
  t.after(() => emu.close());
  const { stdout: a } = await run('dig', [
    '@127.0.0.1',
    '-p',
    String(emu.dns.port),
    '+short',
    'metadata.google.internal',
  ]);
  assert.equal(a.trim(), emu.metadata.host);
  const env = emu.env();
  assert.equal(env.GCE_METADATA_HOST, emu.metadata.hostPort);
  assert.equal(env.NODE_EXTRA_CA_CERTS, join(dir, 'ca.pem'));
  const host = new URL(emu.frontend.url('hello')).host;
  const token = await (
    await fetch(
      `http://${env.GCE_METADATA_HOST}/computeMetadata/v1/instance/service-accounts/default/identity?audience=https://${host}`,
      { headers: { 'Metadata-Flavor': 'Google' } },
    )
  ).text();
  const { stdout } = await run('curl', [
    '-sS',
    '--cacert',
    env.NODE_EXTRA_CA_CERTS!,
    '--resolve',
    `${host}:${emu.frontend.port}:${emu.frontend.host}`,
    '-H',
    `Authorization: Bearer ${token}`,
    `https://${host}:${emu.frontend.port}/`,
  ]);
  assert.equal(JSON.parse(stdout).service, 'hello');
  const report = emu.report();
  assert.deepEqual(report.dnsQueries, [{ name: 'metadata.google.internal', type: 'A', transport: 'udp' }]);
  assert.deepEqual(report.identityCalls, { [`https://${host}`]: 1 });
  assert.equal(report.frontendRequests.length, 1);
  assert.equal(report.frontendRequests[0]?.authVia, 'authorization');
});

test('no CA file unless asked; nothing listens outside loopback', async (t) => {
  const emu = await startEmulator();
  t.after(() => emu.close());
  assert.equal(emu.frontend.caPath, undefined);
  // every TCP/UDP socket this process has bound is on a loopback address
  const { stdout } = await run('ss', ['-H', '-a', '-n', '-t', '-u', '-p']);
  const mine = stdout.split('\n').filter((l) => l.includes(`pid=${process.pid},`));
  const local = mine.map((l) => l.trim().split(/\s+/)[4] ?? '');
  for (const port of [emu.dns.port, emu.frontend.port, emu.metadata.port]) {
    assert.ok(
      local.some((a) => a.endsWith(`:${port}`)),
      `port ${port} found among ${local.join(' ')}`,
    );
  }
  for (const addr of local) assert.match(addr, /^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.[\d.]+\]):\d+$/);
});

test('control plane: report, knobs (validated), reset, close-connections', async (t) => {
  const emu = await startEmulator();
  const control = await startControlServer(emu);
  t.after(async () => {
    await control.close();
    await emu.close();
  });
  const post = (path: string, body?: unknown) =>
    fetch(`${control.url}${path}`, {
      method: 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const set = await post('/knobs', {
    metadata: { latencyMs: 5 },
    frontend: { goawayAfterStreams: 3 },
    dns: { truncate: ['X.test.'] },
  });
  assert.equal(set.status, 200);
  assert.equal(emu.metadata.knobs.latencyMs, 5);
  assert.equal(emu.frontend.knobs.goawayAfterStreams, 3);
  assert.deepEqual([...emu.dns.knobs.truncate], ['x.test']);
  assert.equal((await post('/knobs', { metadata: { nope: 1 } })).status, 400);
  assert.equal((await post('/knobs', { metadata: { outage: 'yes' } })).status, 400);
  assert.equal(emu.metadata.knobs.outage, false);
  await run('dig', ['@127.0.0.1', '-p', String(emu.dns.port), '+short', 'example.test']);
  const report = (await (await fetch(`${control.url}/report`)).json()) as { dnsQueries: unknown[] };
  assert.equal(report.dnsQueries.length, 1);
  assert.equal((await post('/reset')).status, 200);
  assert.equal(emu.report().dnsQueries.length, 0);
  assert.equal((await post('/close-connections')).status, 200);
});

// runsd loadtest straight to the emulator's Cloud Run front end (https, loopback, port 0) with an
// ID token it fetches itself from the emulator's metadata server (GCE_METADATA_HOST): HTTP/1.1 over
// TLS, h2 (ALPN) with several streams per connection, and gRPC unary with a raw message body.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import protobuf from 'protobufjs';
import type { LoadReport } from '../../../src/domain/loadgen-report.ts';
import { ECHO_PROTO_PATH, type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { CLI, run } from './run-cli.ts';

let emu: Emulator;
let dir: string;
const URL_ = 'https://hello-123456789012.us-central1.run.app/';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runsd-loadtest-test-'));
  emu = await startEmulator({ caPath: join(dir, 'ca.pem') });
});
after(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

async function loadtest(args: string[]): Promise<LoadReport> {
  const { stdout } = await run(
    process.execPath,
    [
      CLI,
      '--json',
      '-q',
      '--connect-to',
      `127.0.0.1:${emu.frontend.port}`,
      '--cacert',
      join(dir, 'ca.pem'),
      ...args,
    ],
    { timeout: 60_000, env: { ...process.env, GCE_METADATA_HOST: emu.metadata.hostPort } },
  );
  return JSON.parse(stdout) as LoadReport;
}

function served(protocol: string) {
  return emu.frontend.log.filter((r) => r.protocol === protocol && r.service === 'hello');
}

test('HTTP/1.1 over TLS with a fetched ID token: every request admitted', async () => {
  emu.frontend.resetStats();
  const before = emu.metadata.stats().identityCalls[URL_.slice(0, -1)] ?? 0;
  const r = await loadtest(['-n', '60', '-c', '3', '-t', '2', URL_]);
  assert.equal(r.target.protocol, 'http1');
  assert.deepEqual(r.statuses, { '200': 60 });
  assert.equal(r.ok, 60);
  const log = served('http/1.1');
  assert.equal(log.length, 60);
  assert.ok(log.every((e) => e.authVia === 'x-serverless-authorization' && e.aud === URL_.slice(0, -1)));
  assert.equal((emu.metadata.stats().identityCalls[URL_.slice(0, -1)] ?? 0) - before, 1, 'one token per run');
});

test('h2 over TLS (ALPN), 2 connections × 4 streams', async () => {
  emu.frontend.resetStats();
  const r = await loadtest(['-d', '0.5', '--protocol', 'h2', '-c', '2', '--streams', '4', '-t', '1', URL_]);
  assert.equal(r.target.protocol, 'h2');
  assert.ok(r.responses > 8, String(r.responses));
  assert.deepEqual(Object.keys(r.statuses), ['200']);
  assert.equal(served('h2').length, r.responses + r.abandoned);
  assert.equal(emu.frontend.stats().connections, 2, 'one TLS connection per -c');
});

test('gRPC unary: framed raw message, grpc-status counted (0 and a failing status)', async () => {
  const root = protobuf.loadSync(ECHO_PROTO_PATH);
  const Req = root.lookupType('runsd.emulator.EchoRequest');
  const ok = join(dir, 'ok.bin');
  const notFound = join(dir, 'nf.bin');
  writeFileSync(ok, Req.encode(Req.fromObject({ message: 'hi' })).finish());
  writeFileSync(notFound, Req.encode(Req.fromObject({ message: 'x', status: 5 })).finish());
  emu.frontend.resetStats();
  const r = await loadtest([
    '-n',
    '20',
    '-c',
    '2',
    '-t',
    '1',
    '--grpc',
    '/runsd.emulator.Echo/Unary',
    '--body-file',
    ok,
    URL_,
  ]);
  assert.equal(r.target.grpc, '/runsd.emulator.Echo/Unary');
  assert.deepEqual(r.grpcStatuses, { '0': 20 });
  assert.equal(r.ok, 20);
  assert.equal(served('grpc').length, 20);
  // EchoReply carries the message back: 5-byte prefix + protobuf, so the bytes are more than nothing
  assert.ok(r.bytesIn > 20 * 5);
  const bad = await loadtest([
    '-n',
    '5',
    '-c',
    '1',
    '--grpc',
    '/runsd.emulator.Echo/Unary',
    '--body-file',
    notFound,
    URL_,
  ]);
  assert.deepEqual(bad.statuses, { '200': 5 });
  assert.deepEqual(bad.grpcStatuses, { '5': 5 });
  assert.equal(bad.ok, 0, 'HTTP 200 with grpc-status 5 is not ok');
});

test('without a token the front end says 403; a metadata server that is down: exit 1, one line', async () => {
  const r = await loadtest(['-n', '3', '-c', '1', '--no-token', URL_]);
  assert.deepEqual(r.statuses, { '403': 3 });
  await assert.rejects(
    run(process.execPath, [CLI, '-q', '-n', '1', URL_], {
      env: { ...process.env, GCE_METADATA_HOST: '127.0.0.1:1' },
    }),
    (err: unknown) => {
      const e = err as { code: number; stderr: string };
      assert.equal(e.code, 1);
      assert.match(
        e.stderr,
        /^runsd loadtest: no ID token for https:\/\/hello-123456789012\.us-central1\.run\.app from the metadata server 127\.0\.0\.1:1: .*--token/,
      );
      assert.equal(e.stderr.trim().split('\n').length, 1);
      return true;
    },
  );
});

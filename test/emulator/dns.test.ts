import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startUpstreamDns, type UpstreamDns } from '../../src/emulator/dns.ts';

const run = promisify(execFile);

async function dig(dns: UpstreamDns, ...args: string[]) {
  const { stdout } = await run('dig', [
    `@${dns.host}`,
    '-p',
    String(dns.port),
    '+time=2',
    '+tries=1',
    ...args,
  ]);
  return stdout;
}
const short = async (dns: UpstreamDns, ...args: string[]) =>
  (await dig(dns, '+short', ...args)).trim().split('\n').filter(Boolean);

async function start(t: { after(fn: () => unknown): void }, extra = {}) {
  const dns = await startUpstreamDns({
    frontendAddress: '127.0.0.3',
    metadataAddress: '127.0.0.4',
    ...extra,
  });
  t.after(() => dns.close());
  return dns;
}

test('run.app names resolve to the front end, metadata.google.internal to the metadata server', async (t) => {
  const dns = await start(t);
  assert.deepEqual(await short(dns, 'hello-123.us-central1.run.app', 'A'), ['127.0.0.3']);
  assert.deepEqual(await short(dns, 'hello-abcdef-uc.a.run.app', 'A'), ['127.0.0.3']);
  assert.deepEqual(await short(dns, 'metadata.google.internal', 'A'), ['127.0.0.4']);
  // no IPv6 front end configured: NOERROR with no data, not NXDOMAIN
  const aaaa = await dig(dns, 'hello-123.us-central1.run.app', 'AAAA');
  assert.match(aaaa, /status: NOERROR/);
  assert.match(aaaa, /ANSWER: 0/);
});

test('fixed test names answer A, AAAA, MX, TXT, SRV, CNAME; others are NXDOMAIN', async (t) => {
  const dns = await start(t);
  assert.deepEqual(await short(dns, 'example.test', 'A'), ['192.0.2.10']);
  assert.deepEqual(await short(dns, 'EXAMPLE.test.', 'AAAA'), ['2001:db8::10']);
  assert.deepEqual(await short(dns, 'example.test', 'MX'), ['10 mail.example.test.']);
  assert.deepEqual(await short(dns, 'example.test', 'TXT'), ['"v=emulator hello"']);
  assert.deepEqual(await short(dns, '_http._tcp.example.test', 'SRV'), ['0 5 8080 example.test.']);
  assert.deepEqual(await short(dns, 'www.example.test', 'A'), ['example.test.', '192.0.2.10']);
  const nx = await dig(dns, 'nothing.example.invalid', 'A');
  assert.match(nx, /status: NXDOMAIN/);
  assert.match(nx, /SOA/, 'negative answers carry an SOA for negative caching');
  const nodata = await dig(dns, 'mail.example.test', 'MX');
  assert.match(nodata, /status: NOERROR/);
  assert.match(nodata, /ANSWER: 0/);
});

test('google.internal names: NXDOMAIN, or SERVFAIL when asked (like the real resolver)', async (t) => {
  const dns = await start(t);
  assert.match(await dig(dns, 'hello.google.internal', 'A'), /status: NXDOMAIN/);
  dns.knobs.servfailGoogleInternal = true;
  assert.match(await dig(dns, 'hello.google.internal', 'A'), /status: SERVFAIL/);
  assert.deepEqual(await short(dns, 'metadata.google.internal', 'A'), ['127.0.0.4']);
});

test('big.example.test is truncated over UDP and complete over TCP', async (t) => {
  const dns = await start(t);
  const udp = await dig(dns, '+ignore', '+notcp', 'big.example.test', 'A');
  assert.match(udp, /flags: qr aa tc/);
  assert.match(udp, /ANSWER: 0/);
  // dig retries over TCP by itself when it sees TC
  const answers = await short(dns, 'big.example.test', 'A');
  assert.equal(answers.length, 100);
  assert.deepEqual(
    dns.queries.filter((q) => q.name === 'big.example.test').map((q) => q.transport),
    ['udp', 'udp', 'tcp'],
  );
});

test('every question is counted in order, per transport', async (t) => {
  const dns = await start(t);
  await short(dns, 'example.test', 'A');
  await short(dns, '+tcp', 'example.test', 'MX');
  await short(dns, 'hello-1.europe-west1.run.app', 'AAAA');
  assert.deepEqual(dns.queries, [
    { name: 'example.test', type: 'A', transport: 'udp' },
    { name: 'example.test', type: 'MX', transport: 'tcp' },
    { name: 'hello-1.europe-west1.run.app', type: 'AAAA', transport: 'udp' },
  ]);
  assert.equal(
    dns.count((q) => q.name === 'example.test'),
    2,
  );
});

test('silent knob drops queries (the client times out), and extra records can be added', async (t) => {
  const dns = await start(t, { records: [{ name: 'extra.test', type: 'A', data: '192.0.2.99' }] });
  assert.deepEqual(await short(dns, 'extra.test', 'A'), ['192.0.2.99']);
  dns.knobs.silent = true;
  await assert.rejects(dig(dns, '+time=1', 'extra.test', 'A'), (err: { code?: number; stdout?: string }) => {
    assert.match(String(err.stdout), /timed out|no servers could be reached/);
    return true;
  });
  assert.equal(
    dns.count((q) => q.name === 'extra.test'),
    2,
  );
});

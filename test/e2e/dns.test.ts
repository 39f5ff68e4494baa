// End to end: the real bin/runsd as root in a private namespace (test/helpers/testbed.ts), its
// child using real clients (getent = glibc's resolver, dig) through the rewritten /etc/resolv.conf,
// with the emulator's DNS as the original nameserver. Proves what reaches the upstream: no
// .run.internal or .google.internal name, even with Cloud Run's SERVFAIL for *.google.internal on.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { runInTestbed, type TestbedResult, testbedAvailable } from '../helpers/testbed.ts';

const steps: [string, string][] = [
  ['short', 'getent ahosts hello'],
  ['regional', 'getent ahosts hello.us-central1'],
  ['full', 'getent ahosts hello.us-central1.run.internal'],
  ['external', 'getent ahosts example.test'],
  ['metadata', 'getent ahosts metadata.google.internal'],
  ['dig-search', 'dig +search +short hello'],
  ['dig-search-regional', 'dig +search +short hello.us-central1 AAAA'],
  ['dig-tcp', 'dig +tcp +short hello.us-central1.run.internal'],
  ['mx', 'dig +short example.test MX'],
  ['txt', 'dig +short example.test TXT'],
  ['srv', 'dig +short _http._tcp.example.test SRV'],
  ['mx-internal', 'dig hello.us-central1.run.internal MX'],
  ['nx-suffixed', 'dig api.example.com.us-central1.run.internal'],
  ['nx-google', 'dig foo.google.internal'],
  ['nx-external', 'getent ahosts nope.example.test; echo "exit=$?"'],
  ['tc', 'dig big.example.test A'],
];
const command = steps.map(([k, c]) => `echo "@@${k}"; ${c}`).join('; ');

function section(out: string, key: string): string {
  const m = new RegExp(`@@${key}\\n([\\s\\S]*?)(?=@@|$)`).exec(out);
  return m?.[1] ?? '';
}

describe('runsd in DNS mode, end to end', { skip: !testbedAvailable() && 'needs root and unshare' }, () => {
  let r: TestbedResult;
  let queries: { name: string; type: string; transport: string }[];
  before(async () => {
    r = await runInTestbed({
      runsdArgs: ['--gcp_region=us-central1', '--skip_http_proxy'],
      command: ['sh', '-c', command],
      resolvConf: 'nameserver 127.0.0.2\nsearch corp.example.test\noptions timeout:2\n',
      emulator: { dns: { servfailGoogleInternal: true } },
    });
    queries = r.report.dnsQueries;
  });

  it('the command ran and runsd exited with its status', () => {
    assert.equal(r.code, 0, r.stderr);
  });
  it('getent ahosts resolves the three name forms to loopback', () => {
    for (const k of ['short', 'regional', 'full']) {
      const s = section(r.stdout, k);
      assert.match(s, /^127\.0\.0\.1\s+STREAM/m, k);
      assert.match(s, /^::1\s+STREAM hello\.us-central1\.run\.internal/m, k);
    }
  });
  it('external names and the metadata name resolve', () => {
    assert.match(section(r.stdout, 'external'), /^192\.0\.2\.10\s+STREAM/m);
    assert.match(section(r.stdout, 'metadata'), /^169\.254\.169\.254\s+STREAM metadata\.google\.internal/m);
  });
  it('dig +search and dig +tcp', () => {
    assert.equal(section(r.stdout, 'dig-search').trim(), '127.0.0.1');
    assert.equal(section(r.stdout, 'dig-search-regional').trim(), '::1');
    assert.equal(section(r.stdout, 'dig-tcp').trim(), '127.0.0.1');
  });
  it('MX, TXT and SRV are forwarded; MX for an internal name is answered locally (NODATA)', () => {
    assert.equal(section(r.stdout, 'mx').trim(), '10 mail.example.test.');
    assert.equal(section(r.stdout, 'txt').trim(), '"v=emulator hello"');
    assert.equal(section(r.stdout, 'srv').trim(), '0 5 8080 example.test.');
    const mx = section(r.stdout, 'mx-internal');
    assert.match(mx, /status: NOERROR/);
    assert.match(mx, /ANSWER: 0, AUTHORITY: 1/);
  });
  it('NXDOMAIN for badly shaped internal names, other google.internal names and unknown names', () => {
    assert.match(section(r.stdout, 'nx-suffixed'), /status: NXDOMAIN/);
    assert.match(section(r.stdout, 'nx-google'), /status: NXDOMAIN/);
    assert.match(section(r.stdout, 'nx-external'), /exit=2/);
  });
  it('a truncated answer is followed over TCP', () => {
    assert.equal((section(r.stdout, 'tc').match(/IN\s+A\s+198\.51\.100\./g) ?? []).length, 100);
    const big = queries.filter((q) => q.name === 'big.example.test');
    assert.deepEqual([...new Set(big.map((q) => q.transport))].sort(), ['tcp', 'udp']);
  });
  it('no .run.internal or .google.internal name ever reached the upstream', () => {
    const leaked = queries.filter((q) => /(^|\.)(run|google)\.internal(\.|$)/.test(q.name));
    assert.deepEqual(leaked, []);
    // …while external names did (so the counter is real).
    assert.ok(queries.some((q) => q.name === 'example.test' && q.type === 'MX'));
    assert.ok(queries.some((q) => q.name === 'nope.example.test'));
  });
});

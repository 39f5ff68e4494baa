// End to end: the real bin/runsd as root in a private namespace (test/e2e/dns-bed.ts), its child
// using real clients (getent = glibc's resolver, dig) through the rewritten /etc/resolv.conf, with
// the emulator's DNS as the original nameserver. Proves what reaches the upstream: no internal name.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = process.getuid?.() === 0;

interface BedResult {
  code: number | null;
  stdout: string;
  stderr: string;
  queries: { name: string; type: string; transport: string }[];
}

async function bed(runsdArgs: string[], command: string): Promise<BedResult> {
  const node = process.execPath;
  const script = new URL('./dns-bed.ts', import.meta.url).pathname;
  const { stdout } = await run(
    'unshare',
    ['--net', '--mount', '--pid', '--fork', node, script, JSON.stringify({ runsdArgs, command })],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as BedResult;
}

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

describe('runsd in DNS mode, end to end', { skip: !root && 'needs root for unshare' }, () => {
  let r: BedResult;
  before(async () => {
    r = await bed(['--gcp_region=us-central1', '--skip_http_proxy', '--mode=dns'], command);
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
    const big = r.queries.filter((q) => q.name === 'big.example.test');
    assert.deepEqual([...new Set(big.map((q) => q.transport))].sort(), ['tcp', 'udp']);
  });
  it('no .run.internal or .google.internal name ever reached the upstream', () => {
    const leaked = r.queries.filter((q) => /(^|\.)(run|google)\.internal(\.|$)/.test(q.name));
    assert.deepEqual(leaked, []);
    // …while external names did (so the counter is real).
    assert.ok(r.queries.some((q) => q.name === 'example.test' && q.type === 'MX'));
    assert.ok(r.queries.some((q) => q.name === 'nope.example.test'));
  });
});

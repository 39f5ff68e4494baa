// The single executable dist/runsd (npm run build): it behaves like bin/runsd (the process-level
// suites run again against it), and it needs no Node — in a root filesystem holding only the
// executable, the libraries ldd names, busybox and /etc files (the README's Install recipe), run with
// chroot inside the test bed's namespace, DNS mode, -user and env mode all reach http://hello with a
// verified token.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULTS } from '../../src/emulator/index.ts';
import { ROOT, requireBuilt, SEA } from '../helpers/dist.ts';
import {
  BUSYBOX,
  buildRootfs,
  ROOTFS_DEVICES,
  ROOTFS_RUNSD,
  sharedLibraries,
  staticBusybox,
} from '../helpers/rootfs.ts';
import { runInTestbed, testbedAvailable } from '../helpers/testbed.ts';

const AUD = `https://hello-${DEFAULTS.projectNumber}.${DEFAULTS.region}.run.app`;

test('dist/runsd: an ELF executable of Node 24 with its sha256 beside it', () => {
  const exe = requireBuilt(SEA);
  const bytes = readFileSync(exe);
  assert.equal(bytes.subarray(0, 4).toString('latin1'), '\x7fELF');
  const [sum, name] = readFileSync(`${exe}.sha256`, 'utf8').trim().split(/\s+/);
  assert.equal(name, 'runsd');
  assert.equal(sum, createHash('sha256').update(bytes).digest('hex'), 'dist/runsd.sha256 matches');
  assert.ok(
    sharedLibraries(exe).every((l) => !l.includes('node_modules')),
    'only system libraries are linked',
  );
});

test('dist/runsd behaves like bin/runsd: the process, signal, -user and resolv.conf suites pass against it', async () => {
  const exe = requireBuilt(SEA);
  const suites = ['process', 'signals', 'user', 'resolv-conf', 'resolv-conf-namespace'].map((s) =>
    join(ROOT, `test/e2e/${s}.test.ts`),
  );
  const env: Record<string, string> = { RUNSD_TEST_BIN: exe };
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('NODE_TEST')) env[k] ??= v;
  const child = spawn(
    process.execPath,
    ['--test', '--test-concurrency=2', '--test-reporter=tap', ...suites],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const code = await new Promise<number | null>((r) => child.once('close', r));
  const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(out)?.[1] ?? -1);
  assert.equal(
    code,
    0,
    `the suites failed against ${exe}:\n${out
      .split('\n')
      .filter((l) => /not ok|Error|expected|actual/.test(l))
      .join('\n')}`,
  );
  assert.equal(count('fail'), 0);
  assert.ok(count('pass') >= 20, `expected the suites' tests to pass, got:\n${out.slice(-2000)}`);
});

// --- no Node: the executable alone in a minimal root filesystem ---
const chrootSkip = !testbedAvailable()
  ? 'needs root and unshare'
  : !staticBusybox()
    ? `needs Debian's busybox-static (${BUSYBOX}); .ci/run installs it`
    : false;
let rootfs = '';
before(() => {
  if (chrootSkip) return;
  rootfs = mkdtempSync(join(tmpdir(), 'runsd-rootfs-'));
  buildRootfs(rootfs, requireBuilt(SEA));
});
after(() => {
  if (rootfs) rmSync(rootfs, { recursive: true, force: true });
});

const inChroot = () => ({
  chroot: {
    dir: rootfs,
    runsd: ROOTFS_RUNSD,
    caPath: '/etc/ssl/certs/emulator-ca.pem',
    devices: ROOTFS_DEVICES,
  },
  env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root' },
});

/** The emulator's echo of one request: the JSON document wget printed after any other lines. */
function echoOf(stdout: string): {
  service: string;
  path: string;
  auth: { via: string; aud: unknown } | null;
} {
  try {
    return JSON.parse(stdout.slice(stdout.search(/^\{/m)));
  } catch {
    throw new Error(`no JSON echo from wget in:\n${stdout}`);
  }
}

test('in a root filesystem without Node: DNS mode as root, wget http://hello/ gets the echo with a verified token', {
  skip: chrootSkip,
}, async () => {
  const original = 'nameserver 127.0.0.2\noptions timeout:2\n';
  const r = await runInTestbed({
    ...inChroot(),
    runsdArgs: [],
    resolvConf: original,
    command: ['sh', '-c', 'wget -qO- http://hello/chroot'],
  });
  assert.equal(r.code, 0, r.stderr);
  const echo = echoOf(r.stdout);
  assert.equal(echo.service, 'hello');
  assert.equal(echo.path, '/chroot');
  assert.deepEqual(
    { via: echo.auth?.via, aud: echo.auth?.aud },
    { via: 'x-serverless-authorization', aud: AUD },
  );
  assert.equal(r.report.identityCalls[AUD], 1);
  assert.deepEqual(r.report.frontend.authFailures, {});
  assert.equal(r.resolvConfAfter, original, 'resolv.conf restored byte for byte');
});

test('in a root filesystem without Node: -user=nobody runs the command as nobody, still authenticated', {
  skip: chrootSkip,
}, async () => {
  const r = await runInTestbed({
    ...inChroot(),
    runsdArgs: ['-user=nobody'],
    command: ['sh', '-c', 'echo "uid $(id -u) gid $(id -g)"; wget -qO- http://hello/user'],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^uid 65534 gid 65534$/m);
  const echo = echoOf(r.stdout);
  assert.equal(echo.path, '/user');
  assert.equal(echo.auth?.via, 'x-serverless-authorization');
});

test('in a root filesystem without Node: env mode as a non-root user (HTTP_PROXY), authenticated', {
  skip: chrootSkip,
}, async () => {
  const r = await runInTestbed({
    ...inChroot(),
    runsdArgs: [],
    asUser: { uid: 65534, gid: 65534 },
    command: ['sh', '-c', 'echo "proxy $http_proxy"; wget -qO- http://hello/env'],
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^proxy http:\/\/127\.0\.0\.1:\d+$/m, 'env mode hands the command a loopback proxy');
  const echo = echoOf(r.stdout);
  assert.equal(echo.path, '/env');
  assert.equal(echo.auth?.via, 'x-serverless-authorization');
  assert.equal(r.resolvConfAfter, 'nameserver 127.0.0.2\n', 'env mode leaves resolv.conf alone');
});

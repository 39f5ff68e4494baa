// The npm package as a user gets it: `npm pack` (prepack builds the bundle and strips the manifest),
// `npm install -g --prefix` of the tarball, and the installed `runsd` making one proxied,
// authenticated request on the emulator. Also: an install without its dist/ says so in one line, and
// a Node older than 22.12 gets one clear line and status 1 at once — through the launcher and with
// `node dist/runsd.cjs` — tested with the machine's own Node (not the pinned one) when it is old.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { startEmulator } from '../../src/emulator/index.ts';
import { nodeTooOld } from '../../src/node-check.ts';
import { ROOT } from '../helpers/dist.ts';
import { runsd, tempDir } from './runsd.ts';

const NPM_ENV = {
  ...process.env,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};
let work = '';
let tarball = '';
let prefix = '';
let files: string[] = [];
let manifest: Record<string, unknown> = {};

/** The installed package's directory under the global prefix. */
const installed = () => join(prefix, 'lib/node_modules/runsd');

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

before(() => {
  // Pack a copy of the checkout (every file git does not ignore + node_modules linked), so prepack's build and its
  // manifest rewrite never touch the working tree other tests are reading.
  work = mkdtempSync(join(tmpdir(), 'runsd-pack-'));
  const src = join(work, 'src-copy');
  for (const f of execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).split('\0')) {
    if (!f || !existsSync(join(ROOT, f))) continue;
    mkdirSync(dirname(join(src, f)), { recursive: true });
    cpSync(join(ROOT, f), join(src, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: src,
    env: NPM_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info[0]!.filename);
  files = info[0]!.files.map((f) => f.path).sort();
  manifest = JSON.parse(
    execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
  );
  assert.equal(
    readFileSync(join(src, 'package.json'), 'utf8'),
    readFileSync(join(ROOT, 'package.json'), 'utf8'),
    'postpack restored package.json',
  );
  prefix = join(work, 'prefix');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, tarball], { env: NPM_ENV, stdio: 'ignore' });
  rmSync(src, { recursive: true, force: true });
});

test('the tarball ships bin/runsd, the bundle, grafana/, README and LICENSE only, with nothing to fetch or run on install', () => {
  const top = [...new Set(files.map((f) => (f.includes('/') ? `${f.split('/')[0]}/` : f)))].sort();
  assert.deepEqual(top, ['LICENSE', 'README.md', 'bin/', 'dist/', 'grafana/', 'package.json']);
  for (const need of [
    'bin/runsd',
    'dist/runsd.cjs',
    'dist/exec-as.cjs',
    'dist/workers/proxy.cjs',
    'dist/THIRD_PARTY_LICENSES',
  ])
    assert.ok(files.includes(need), `${need} is in the tarball`);
  assert.ok(!files.includes('dist/runsd'), 'the 100 MB single executable is not in the npm package');
  assert.ok(
    files.every((f) => !f.endsWith('.ts')),
    'no TypeScript source',
  );
  for (const key of ['dependencies', 'optionalDependencies', 'devDependencies', 'scripts'])
    assert.equal(manifest[key], undefined, `the shipped package.json has no ${key}`);
  assert.deepEqual(manifest['bin'], { runsd: 'bin/runsd' });
});

test('the installed runsd makes a proxied, authenticated request on the emulator', async (t) => {
  const dir = tempDir(t);
  const emu = await startEmulator({ caPath: join(dir, 'ca.pem') });
  t.after(() => emu.close());
  // Asynchronously: the emulator answers from this process's event loop.
  const r = await runsd(
    t,
    ['-mode=env', `-nameserver=${emu.dns.address}`, '--', 'sh', '-c', 'curl -sS http://hello/pkg'],
    {
      argv0: join(prefix, 'bin/runsd'),
      env: {
        // The launcher finds `node` on PATH (this test's Node: the pinned one under npm test).
        PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH']}`,
        K_SERVICE: 'pkg',
        GCE_METADATA_HOST: emu.metadata.hostPort,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
        RUNSD_DEV_UPSTREAM_PORT: String(emu.frontend.port),
      },
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\{/, `an echo, not an error: ${r.stdout}`);
  const echo = JSON.parse(r.stdout) as { service: string; path: string; auth: { via: string } | null };
  assert.equal(echo.service, 'hello');
  assert.equal(echo.path, '/pkg');
  assert.equal(echo.auth?.via, 'x-serverless-authorization');
  assert.equal(
    Object.values(emu.metadata.stats().identityCalls).reduce((a, b) => a + b, 0),
    1,
  );
});

test('an installed package without its dist/ says so in one line', (t) => {
  const copy = join(tempDir(t), 'runsd');
  cpSync(installed(), copy, { recursive: true });
  rmSync(join(copy, 'dist'), { recursive: true });
  const r = spawnSync(join(copy, 'bin/runsd'), ['--', 'true'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  assert.match(r.stderr, /^runsd: .*dist\/runsd\.cjs is missing: .*reinstall/);
});

/** The machine's own Node (PATH without node_modules, or the usual places), if older than 22.12. */
function oldSystemNode(): { path: string; version: string } | null {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d && !d.includes('node_modules'));
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const path = join(dir, 'node');
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    if (nodeTooOld(version)) return { path, version };
  }
  return null;
}
const old = oldSystemNode();

test('an old Node gets one clear line and status 1 at once: via the launcher and via node dist/runsd.cjs', {
  skip: old ? false : 'no Node older than 22.12 on this machine',
}, (t) => {
  const { path, version } = old!;
  const want = `${nodeTooOld(version)}\n`;
  assert.match(
    want,
    /^runsd: needs Node ≥ 22\.12, found v\d+\.\d+\.\d+ — use the single executable dist\/runsd or a newer Node\n$/,
  );
  const marker = join(tempDir(t), 'ran');
  const env = { PATH: `${dirname(path)}${delimiter}/usr/bin${delimiter}/bin` };
  // Off Cloud Run too: the command must not run at all.
  const viaLauncher = spawnSync(join(prefix, 'bin/runsd'), ['--', 'touch', marker], {
    encoding: 'utf8',
    env,
  });
  assert.deepEqual([viaLauncher.status, viaLauncher.stderr, viaLauncher.stdout], [1, want, '']);
  const direct = spawnSync(path, [join(installed(), 'dist/runsd.cjs'), '--', 'touch', marker], {
    encoding: 'utf8',
    env,
  });
  assert.deepEqual([direct.status, direct.stderr, direct.stdout], [1, want, '']);
  assert.ok(!existsSync(marker), 'the command never ran');
});

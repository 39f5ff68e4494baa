// Runs INSIDE the private namespace made by runInTestbed (unshare --net --mount --pid --fork):
// lo up, the emulator on fixed loopback addresses, a temp resolv.conf bind-mounted over
// /etc/resolv.conf, then `bin/runsd <args> -- <command>`. The outcome goes to DIR/outcome.json; the
// command's stdout/stderr are passed through untouched.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { applyKnobs, type ControlServer, startControlServer } from '../../src/emulator/control.ts';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { BED, type TestbedOutcome, type TestbedSpec } from './testbed-spec.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as TestbedSpec;
const emptyReport = { dnsQueries: [], identityCalls: {}, frontendRequests: [], metadata: {}, frontend: {} };

function finish(outcome: Partial<TestbedOutcome>, emu?: Emulator): never {
  const full: TestbedOutcome = {
    code: -1,
    signal: null,
    timedOut: false,
    resolvConfAfter: safeRead('/etc/resolv.conf'),
    report: (emu?.report() ?? emptyReport) as TestbedOutcome['report'],
    ...outcome,
  };
  writeFileSync(join(spec.dir, 'outcome.json'), JSON.stringify(full));
  process.exit(0);
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

let emu: Emulator | undefined;
let control: ControlServer | undefined;
try {
  if (process.pid !== 1) throw new Error('testbed-main must run as pid 1 of its own namespace');
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  const caPath = join(spec.dir, 'ca.pem');
  emu = await startEmulator({
    ...spec.emulator,
    metadata: { ...spec.emulator.metadata, host: BED.metadata, port: 80 },
    frontend: { ...spec.emulator.frontend, host: BED.frontend, port: 443 },
    dns: { ...spec.emulator.dns, host: BED.dns, port: 53 },
    caPath,
  });
  chmodSync(caPath, 0o644);
  applyKnobs(emu, spec.knobs);
  control = await startControlServer(emu, { host: BED.control, port: 80 });

  const resolv = join(spec.dir, 'resolv.conf');
  writeFileSync(resolv, spec.resolvConf, { mode: 0o644 });
  execFileSync('mount', ['--bind', resolv, '/etc/resolv.conf']);
  if (spec.chroot) {
    // What a container runtime gives the image: its own resolv.conf, /proc, the usual /dev nodes.
    const root = spec.chroot.dir;
    execFileSync('mount', ['--bind', resolv, join(root, 'etc/resolv.conf')]);
    execFileSync('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
    for (const d of spec.chroot.devices) execFileSync('mount', ['--bind', `/dev/${d}`, join(root, 'dev', d)]);
    copyFileSync(caPath, join(root, spec.chroot.caPath));
    chmodSync(join(root, spec.chroot.caPath), 0o644);
  }
} catch (err) {
  finish({ error: `testbed set-up failed: ${(err as Error).stack ?? err}` }, emu);
}
const e = emu!;

const env: Record<string, string> = {
  PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: spec.asUser ? '/tmp' : '/root',
  K_SERVICE: 'test',
  K_REVISION: 'test-00001-emu',
  K_CONFIGURATION: 'test',
  PORT: '8080',
  GCE_METADATA_HOST: BED.metadataHostPort,
  NODE_EXTRA_CA_CERTS: e.frontend.caPath!,
  EMULATOR_CA: e.frontend.caPath!,
  EMULATOR_CONTROL: control!.url,
  EMULATOR_PROJECT_NUMBER: e.projectNumber,
  EMULATOR_PROJECT_HASH: e.projectHash,
  EMULATOR_REGION: e.region,
};
for (const [key, v] of Object.entries(spec.env)) {
  if (v === null) delete env[key];
  else env[key] = v;
}
if (spec.chroot) env['NODE_EXTRA_CA_CERTS'] = env['EMULATOR_CA'] = spec.chroot.caPath;
const runsdArgv = (runsd: string) =>
  spec.runsdArgs === null ? spec.command : [runsd, ...spec.runsdArgs, '--', ...spec.command];
// In a chroot, chroot(8) itself must start as root: it switches user (--userspec) after chroot().
// It is looked up on the bed's PATH, not on the PATH given to the command inside the chroot.
const chrootBin = () =>
  (process.env.PATH ?? '/usr/sbin:/usr/bin')
    .split(':')
    .map((d) => join(d, 'chroot'))
    .find((p) => existsSync(p)) ?? '/usr/sbin/chroot';
const [file, ...args] = spec.chroot
  ? [
      chrootBin(),
      ...(spec.asUser ? [`--userspec=${spec.asUser.uid}:${spec.asUser.gid}`] : []),
      spec.chroot.dir,
      ...runsdArgv(spec.chroot.runsd),
    ]
  : runsdArgv(join(spec.root, 'bin/runsd'));
const child = spawn(file!, args, {
  env,
  cwd: spec.chroot ? '/' : spec.root,
  stdio: [spec.stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  ...(spec.asUser && !spec.chroot ? { uid: spec.asUser.uid, gid: spec.asUser.gid } : {}),
});
if (spec.stdin !== null) child.stdin!.end(spec.stdin);
let seen = '';
const pending = [...spec.signals];
const checkSignals = () => {
  for (const s of [...pending]) {
    if (s.whenOutput !== undefined && seen.includes(s.whenOutput)) {
      pending.splice(pending.indexOf(s), 1);
      child.kill(s.signal);
    }
  }
};
for (const s of spec.signals) {
  if (s.whenOutput === undefined) {
    setTimeout(() => child.kill(s.signal), s.afterMs ?? 0);
  }
}
child.stdout!.on('data', (d: Buffer) => {
  process.stdout.write(d);
  seen += d.toString();
  checkSignals();
});
child.stderr!.on('data', (d: Buffer) => {
  process.stderr.write(d);
  seen += d.toString();
  checkSignals();
});
let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 2000).unref();
}, spec.timeoutMs);
child.on('error', (err) => finish({ error: `spawn ${file}: ${err.message}`, code: 127 }, e));
let exited: { code: number; signal: NodeJS.Signals | null } | undefined;
const done = () => {
  if (exited) finish({ ...exited, timedOut }, e);
};
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  const signum = signal ? (constants.signals[signal] ?? 0) : 0;
  exited = { code: code ?? 128 + signum, signal };
  // grandchildren may still hold the pipes; they die with us (we are pid 1 of the namespace)
  setTimeout(done, 300).unref();
});
child.on('close', () => setImmediate(done));

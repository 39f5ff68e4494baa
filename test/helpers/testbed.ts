// End-to-end test bed: runs `bin/runsd <args> -- <command>` as root in a private network+mount+pid
// namespace with the emulator inside (DNS 127.0.0.2:53, front end 127.0.0.3:443 which *.run.app
// resolves to, metadata 127.0.0.4:80) and a temp resolv.conf bind-mounted over /etc/resolv.conf.
// The host's files and network are never touched.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DnsQuery } from '../../src/emulator/dns.ts';
import type { EmulatorOptions, EmulatorReport } from '../../src/emulator/index.ts';
import {
  BED,
  type TestbedChroot,
  type TestbedKnobs,
  type TestbedOutcome,
  type TestbedSignal,
  type TestbedSpec,
} from './testbed-spec.ts';

export { BED } from './testbed-spec.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = fileURLToPath(new URL('./testbed-main.ts', import.meta.url));

export interface TestbedOptions {
  /** flags for runsd (before `--`); null runs the command directly, without runsd */
  runsdArgs: string[] | null;
  command: string[];
  /** added to (or, with null, removed from) the default env: K_SERVICE=test, PORT=8080,
   * GCE_METADATA_HOST=127.0.0.4:80, NODE_EXTRA_CA_CERTS/EMULATOR_CA=<ca>, EMULATOR_PROJECT_NUMBER/_HASH/_REGION */
  env?: Record<string, string | null>;
  emulator?: Omit<EmulatorOptions, 'caPath' | 'host'>;
  /** initial emulator knobs */
  knobs?: TestbedKnobs;
  /** resolv.conf text the namespace starts with (default: nameserver 127.0.0.2) */
  resolvConf?: string;
  stdin?: string;
  /** the command is sent SIGTERM after this (then SIGKILL); default 20 s */
  timeoutMs?: number;
  /** run runsd (or the command) as this uid/gid */
  asUser?: { uid: number; gid: number };
  signals?: TestbedSignal[];
  /** run runsd with chroot inside this root filesystem (the emulator stays outside it) */
  chroot?: TestbedChroot;
}

export interface TestbedResult {
  code: number;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** /etc/resolv.conf as the namespace saw it after the command exited */
  resolvConfAfter: string;
  report: EmulatorReport & { dnsQueries: DnsQuery[]; identityCalls: Record<string, number> };
}

let available: boolean | undefined;

/** True when we are root and can make the namespaces (tests skip otherwise). */
export function testbedAvailable(): boolean {
  if (available !== undefined) return available;
  available =
    process.getuid?.() === 0 &&
    spawnSync(
      'unshare',
      ['--net', '--mount', '--pid', '--fork', '--kill-child', 'ip', 'link', 'set', 'lo', 'up'],
      {
        stdio: 'ignore',
        timeout: 5000,
      },
    ).status === 0;
  return available;
}

export async function runInTestbed(opts: TestbedOptions): Promise<TestbedResult> {
  const dir = mkdtempSync(join(tmpdir(), 'runsd-testbed-'));
  chmodSync(dir, 0o755);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const spec: TestbedSpec = {
    root: ROOT,
    dir,
    runsdArgs: opts.runsdArgs,
    command: opts.command,
    env: opts.env ?? {},
    emulator: opts.emulator ?? {},
    knobs: opts.knobs ?? {},
    resolvConf: opts.resolvConf ?? `nameserver ${BED.dns}\n`,
    stdin: opts.stdin ?? null,
    timeoutMs,
    asUser: opts.asUser ?? null,
    signals: opts.signals ?? [],
    chroot: opts.chroot ?? null,
  };
  try {
    const child = spawn(
      'unshare',
      [
        '--net',
        '--mount',
        '--pid',
        '--fork',
        '--kill-child',
        process.execPath,
        '--no-warnings',
        MAIN,
        JSON.stringify(spec),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    // guard: the namespace's own timer should have ended things long before this
    const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 15_000);
    const exit = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    clearTimeout(guard);
    const stdout = Buffer.concat(out).toString();
    const stderr = Buffer.concat(err).toString();
    const raw = existsSync(join(dir, 'outcome.json')) ? readFileSync(join(dir, 'outcome.json'), 'utf8') : '';
    if (!raw) throw new Error(`testbed ended without an outcome (exit ${exit}); stderr:\n${stderr}`);
    const outcome = JSON.parse(raw) as TestbedOutcome;
    if (outcome.error) throw new Error(`${outcome.error}\nstderr:\n${stderr}`);
    return {
      code: outcome.code,
      signal: outcome.signal,
      timedOut: outcome.timedOut,
      stdout,
      stderr,
      resolvConfAfter: outcome.resolvConfAfter,
      report: outcome.report,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

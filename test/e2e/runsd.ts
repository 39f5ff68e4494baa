// Test helpers for process-level tests: spawn the real bin/runsd with real children, collect what
// it prints, wait for a line, pick a free loopback port, make temp dirs that t.after removes.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * What the process tests run: bin/runsd (the launcher, from source), or with RUNSD_TEST_BIN another
 * build of the same command — test/e2e/single-executable.test.ts runs these suites again against
 * dist/runsd to show it behaves exactly like bin/runsd.
 */
export const RUNSD =
  process.env['RUNSD_TEST_BIN'] ?? fileURLToPath(new URL('../../bin/runsd', import.meta.url));
/** True when RUNSD is the sh launcher (which reads RUNSD_FROM_SOURCE and exports PWD). */
export const viaLauncher = process.env['RUNSD_TEST_BIN'] === undefined;

const CLOUD_RUN_VARS = [
  'K_SERVICE',
  'K_REVISION',
  'K_CONFIGURATION',
  'CLOUD_RUN_JOB',
  'CLOUD_RUN_EXECUTION',
  'CLOUD_RUN_TASK_INDEX',
  'CLOUD_RUN_WORKER_POOL',
  'CLOUD_RUN_PROJECT_HASH',
  'CLOUD_RUN_ID_TOKEN',
  'GCE_METADATA_HOST',
  'GCE_METADATA_IP',
  'PORT',
];

/**
 * The test's environment without anything that would make runsd think it is on Cloud Run.
 * RUNSD_FROM_SOURCE=1: bin/runsd runs src/ even when a dist/ bundle exists (the launcher unsets it,
 * so the command never sees it).
 */
export function offCloudRunEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = viaLauncher ? { RUNSD_FROM_SOURCE: '1' } : {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      v !== undefined &&
      !CLOUD_RUN_VARS.includes(k) &&
      !k.startsWith('NODE_TEST') &&
      k !== 'RUNSD_TEST_BIN'
    )
      env[k] = v;
  }
  return { ...env, ...extra };
}

export interface Run {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when runsd exits and its pipes are closed. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves once stdout (or stderr) contains `text`; rejects if runsd exits first. */
  waitFor(text: string, stream?: 'stdout' | 'stderr'): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  stdin?: string | Buffer;
  /** The program to run instead of bin/runsd (e.g. unshare …). */
  argv0?: string;
}

/** Starts `bin/runsd ARGS…` (or `argv0 ARGS…`); the process is killed in t.after if still running. */
export function start(t: TestContext, args: string[], opts: StartOptions = {}): Run {
  const proc = spawn(opts.argv0 ?? RUNSD, args, {
    env: opts.env ?? offCloudRunEnv(),
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  if (opts.stdin !== undefined) proc.stdin!.end(opts.stdin);
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
    // A command orphaned by a runsd bug would keep our pipes open and hang the test: once runsd has
    // exited, give the pipes a moment, then stop waiting (the assertions then fail, not time out).
    proc.once('exit', (code, signal) => {
      setTimeout(() => {
        proc.stdout!.destroy();
        proc.stderr!.destroy();
        resolve({ code, signal, stdout: out, stderr: err });
      }, 3000).unref();
    });
  });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const waitFor = (text: string, stream: 'stdout' | 'stderr' = 'stdout') =>
    new Promise<void>((resolve, reject) => {
      const s = stream === 'stdout' ? proc.stdout! : proc.stderr!;
      const has = () => (stream === 'stdout' ? out : err).includes(text);
      if (has()) return resolve();
      const onData = () => {
        if (has()) {
          s.off('data', onData);
          resolve();
        }
      };
      s.on('data', onData);
      void done.then((r) =>
        reject(
          new Error(
            `runsd exited (code ${r.code}, signal ${r.signal}) before printing ${JSON.stringify(text)}; stdout=${JSON.stringify(r.stdout)} stderr=${JSON.stringify(r.stderr)}`,
          ),
        ),
      );
    });
  return { proc, stdout: () => out, stderr: () => err, done, waitFor };
}

/** Runs `bin/runsd ARGS…` to completion. */
export function runsd(t: TestContext, args: string[], opts: StartOptions = {}) {
  return start(t, args, opts).done;
}

/** A loopback TCP port that was free a moment ago (for flags that cannot take 0). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

export function tempDir(t: TestContext, prefix = 'runsd-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const isRoot = process.getuid?.() === 0;

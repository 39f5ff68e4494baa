// The child process: inherited stdio and environment, forwarded signals, and an exit status that
// becomes ours (128+N for a child killed by signal N; 127 not found; 126 not executable).
import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { constants } from 'node:os';
import type { Identity } from '../domain/users.ts';
import type { Logger } from '../log.ts';
import { execAsCommand } from './entries.ts';

export const FORWARDED_SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
] as const;
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

export interface ChildOptions {
  command: readonly string[];
  env: Record<string, string>;
  identity: Identity | null;
  log: Logger;
}

export interface RunningChild {
  pid: number | undefined;
  /** Resolves with the exit status runsd should use. */
  exited: Promise<number>;
  kill(signal: NodeJS.Signals): void;
}

const EXEC_AS = execAsCommand();

function isDirectory(path: string): boolean {
  try {
    return path.includes('/') && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}

export function startChild(opts: ChildOptions): RunningChild {
  const [cmd, ...args] = opts.command as [string, ...string[]];
  // Handlers go in before the spawn: the command may print "ready" and be signalled before the
  // line after spawn() runs (seen on a loaded machine), and without a handler that signal would
  // kill runsd and orphan the command. A JS signal callback only runs on a later loop turn, when
  // `child` is set.
  let child: ChildProcess | undefined;
  const handlers = FORWARDED_SIGNALS.map((sig) => {
    const h = () => {
      opts.log.info(2, 'forwarding signal', { signal: sig });
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill(sig);
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  // Node's spawn({uid, gid}) drops supplementary groups (libuv calls setgroups(0)), so a -user
  // child goes through a tiny Node helper that sets groups, gid and uid and then execve()s
  // (exec-as-main.ts, or the executable itself: entries.ts).
  child = opts.identity
    ? spawn(
        EXEC_AS.file,
        [
          ...EXEC_AS.args,
          String(opts.identity.uid),
          String(opts.identity.gid),
          opts.identity.groups.join(','),
          '--',
          cmd,
          ...args,
        ],
        { stdio: 'inherit', env: opts.env },
      )
    : spawn(cmd, args, { stdio: 'inherit', env: opts.env });

  const exited = new Promise<number>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        opts.log.error(`${cmd}: command not found`);
        resolve(127);
      } else if (err.code === 'EACCES' || err.code === 'ENOEXEC' || err.code === 'EISDIR') {
        const why =
          err.code === 'ENOEXEC'
            ? 'not an executable format'
            : isDirectory(cmd)
              ? 'is a directory'
              : 'permission denied';
        opts.log.error(`${cmd}: cannot execute: ${why}`);
        resolve(126);
      } else {
        opts.log.error(`${cmd}: could not start: ${err.message}`);
        resolve(126);
      }
    });
    child.once('exit', (code, signal) => {
      const status = exitStatus(code, signal);
      opts.log.info(1, 'command exited', { code, signal, status });
      resolve(status);
    });
  });
  void exited.then(() => {
    for (const [sig, h] of handlers) process.off(sig, h);
  });
  const started = child;
  return { pid: started.pid, exited, kill: (s) => started.kill(s) };
}

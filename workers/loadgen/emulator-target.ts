// --emulator: Cloud Run in a box (src/emulator) plus the real bin/runsd in env mode, as `npm start`
// runs them. runsd's command is a tiny holder that prints the HTTP_PROXY runsd gave it and then
// waits; the load goes through that proxy (to http://hello/ unless the user names another service). Everything is on loopback.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../src/emulator/index.ts';

export interface EmulatorTarget {
  proxy: string;
  /** the front end (https://*.run.app goes there: --connect-to), its CA and the metadata server */
  frontend: { host: string; port: number };
  caPem: string;
  metadataHost: string;
  identityCalls(): Record<string, number>;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const HOLDER = `console.log('RUNSD_LOADGEN_PROXY=' + process.env.HTTP_PROXY); setInterval(() => {}, 1 << 30);`;

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export async function startEmulatorTarget(): Promise<EmulatorTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'runsd-loadgen-'));
  const emu = await startEmulator({ caPath: join(dir, 'ca.pem') }).catch((err) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(
    join(root, 'bin/runsd'),
    ['-mode=env', `-nameserver=${emu.dns.address}`, '--', process.execPath, '-e', HOLDER],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        K_SERVICE: 'loadgen',
        GCE_METADATA_HOST: emu.metadata.hostPort,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
        RUNSD_DEV_UPSTREAM_PORT: String(emu.frontend.port),
      },
    },
  );
  const close = async () => {
    child.kill('SIGTERM');
    if (!(await exited(child, 5000))) {
      child.kill('SIGKILL');
      await exited(child, 5000);
    }
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  };
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  try {
    const proxy = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`runsd not ready within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /RUNSD_LOADGEN_PROXY=(\S+)/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`runsd exited (${code ?? sig}) before its command started: ${stderr.trim()}`));
      });
    });
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(proxy))
      throw new Error(`unexpected HTTP_PROXY from runsd: ${proxy}`);
    child.stdout?.resume();
    return {
      proxy,
      frontend: { host: emu.frontend.host, port: emu.frontend.port },
      caPem: emu.frontend.caPem,
      metadataHost: emu.metadata.hostPort,
      identityCalls: () => emu.metadata.stats().identityCalls,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

// The real runsd in env mode in front of the emulator, for tests and benchmarks that watch its
// process (bench/soak.ts, bench/transfer.ts, test/supervisor/metrics-endpoint.test.ts): its child
// is a shell that prints HTTP_PROXY and sleeps, so the proxy's port is known and the child costs
// nothing. Killed when the process exits.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Emulator } from '../../src/emulator/index.ts';

export interface EnvModeRunsd {
  /** the proxy's loopback port */
  port: number;
  /** VmRSS of the runsd process (its child not counted), MiB */
  rssMiB(): number;
  /** SIGTERM, as Cloud Run stops an instance; resolves when runsd has exited. */
  stop(): Promise<void>;
}

export async function startEnvModeRunsd(
  emu: Emulator,
  runsd: string,
  name: string,
  /** more runsd flags, e.g. -metrics_addr */
  flags: string[] = [],
): Promise<EnvModeRunsd> {
  const dir = mkdtempSync(join(tmpdir(), `runsd-${name}-`));
  emu.frontend.writeCa(join(dir, 'ca.pem'));
  const host = spawn(
    runsd,
    [
      '-mode=env',
      `-nameserver=${emu.dns.address}`,
      ...flags,
      '--',
      'sh',
      '-c',
      'echo "$HTTP_PROXY"; exec sleep 100000',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        K_SERVICE: name,
        GCE_METADATA_HOST: emu.metadata.hostPort,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
        RUNSD_DEV_UPSTREAM_PORT: String(emu.frontend.port),
      },
    },
  );
  process.on('exit', () => {
    host.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const proxyUrl = await new Promise<string>((r) => createInterface({ input: host.stdout! }).once('line', r));
  return {
    port: Number(new URL(proxyUrl).port),
    rssMiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${host.pid}/status`, 'utf8'))![1]) / 1024,
    stop: async () => {
      host.kill('SIGTERM');
      if (host.exitCode === null && host.signalCode === null) await new Promise((r) => host.once('exit', r));
    },
  };
}

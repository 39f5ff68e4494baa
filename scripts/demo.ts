// `npm start`: Cloud Run in a box (the emulator: metadata server, HTTPS front end, upstream DNS, all
// on loopback), then the real bin/runsd in env mode (no root needed) running a tiny app that calls
// http://hello and a gRPC method. Nothing leaves the machine. `npm start -- --sea` runs the single
// executable dist/runsd (npm run build) instead of bin/runsd.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../src/emulator/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'runsd-demo-'));
const emu = await startEmulator({ caPath: join(dir, 'ca.pem') });
const root = fileURLToPath(new URL('..', import.meta.url));
const runsd = process.argv.includes('--sea') ? join(root, 'dist/runsd') : join(root, 'bin/runsd');
const args = [
  '-mode=env',
  // Resolve *.run.app through the emulator's DNS (standing in for Cloud Run's nameserver).
  `-nameserver=${emu.dns.address}`,
  '--',
  process.execPath,
  join(root, 'scripts/demo-app.ts'),
];
console.log(`$ runsd ${args.join(' ').replace(process.execPath, 'node').replace(root, '')}\n`);
const child = spawn(runsd, args, {
  stdio: 'inherit',
  env: {
    ...process.env,
    K_SERVICE: 'demo',
    GCE_METADATA_HOST: emu.metadata.hostPort,
    NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
    RUNSD_DEV_UPSTREAM_PORT: String(emu.frontend.port),
  },
});
const code = await new Promise<number>((r) => child.once('exit', (c, s) => r(c ?? (s ? 1 : 0))));
const calls = emu.metadata.stats().identityCalls;
console.log(`\nidentity calls made by runsd: ${JSON.stringify(calls)}`);
await emu.close();
rmSync(dir, { recursive: true, force: true });
process.exit(code);

// Runs INSIDE a private namespace (unshare --net --mount --pid --fork, as root): brings up lo,
// starts the emulator's upstream DNS on 127.0.0.53:53 (the "Cloud Run resolver"), bind-mounts a
// temp resolv.conf pointing at it over /etc/resolv.conf, runs the real bin/runsd with the given
// flags and shell command, and prints one JSON line: exit code, output, and every query the
// upstream saw. Usage: dns-bed.ts '{"runsdArgs":[...],"command":"..."}'
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstreamDns } from '../../src/emulator/dns.ts';

const { runsdArgs, command } = JSON.parse(process.argv[2] ?? '{}') as {
  runsdArgs: string[];
  command: string;
};
execFileSync('ip', ['link', 'set', 'lo', 'up']);
const up = await startUpstreamDns({
  host: '127.0.0.53',
  port: 53,
  frontendAddress: '127.0.0.3',
  metadataAddress: '127.0.0.4',
  servfailGoogleInternal: true,
});
const dir = mkdtempSync(join(tmpdir(), 'runsd-e2e-'));
const resolv = join(dir, 'resolv.conf');
writeFileSync(resolv, 'nameserver 127.0.0.53\nsearch corp.example.test\noptions timeout:2\n');
execFileSync('mount', ['--bind', resolv, '/etc/resolv.conf']);

const bin = new URL('../../bin/runsd', import.meta.url).pathname;
const child = spawn(bin, [...runsdArgs, '--', 'sh', '-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
let stdout = '';
let stderr = '';
child.stdout.on('data', (d) => (stdout += d));
child.stderr.on('data', (d) => (stderr += d));
const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
process.stdout.write(`${JSON.stringify({ code, stdout, stderr, queries: up.queries })}\n`);
await up.close();
process.exit(0);

// Runs the real `npm run loadgen` entry (workers/loadgen/cli.ts) in a child process, --json.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LoadReport } from '../../../src/domain/loadgen-report.ts';

export const CLI = fileURLToPath(new URL('../../../workers/loadgen/cli.ts', import.meta.url));
export const run = promisify(execFile);

export async function loadgen(args: string[]): Promise<LoadReport> {
  const { stdout } = await run(process.execPath, [CLI, '--json', ...args], { timeout: 60_000 });
  return JSON.parse(stdout) as LoadReport;
}

// The runsd command: argv/env → Config → supervisor → exit status. Shared by the module entry
// (main.ts: source and bundle) and the single executable's entry (sea-main.ts).
import pkg from '../package.json' with { type: 'json' };
import { helpText, parseConfig, USAGE } from './config.ts';
import { RunsdError } from './errors.ts';
import { createLogger } from './log.ts';
import { loadtestModule } from './supervisor/entries.ts';
import { runSupervisor } from './supervisor/supervisor.ts';

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  // `runsd loadtest …` is the load tool, not a program named loadtest to supervise (a program of
  // that name still runs as `runsd -- loadtest`; any flag before it keeps Go runsd's meaning).
  // Loaded only when asked for, from its own file: runsd's start-up does not pay for it.
  if (argv[0] === 'loadtest') return (await loadtestModule()).loadtestMain(argv.slice(1));
  let parsed: ReturnType<typeof parseConfig>;
  try {
    parsed = parseConfig(argv, env);
  } catch (err) {
    if (err instanceof RunsdError && err.code === 'RUNSD_USAGE') {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(helpText(pkg.version));
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`runsd ${pkg.version} (node ${process.versions.node})\n`);
    return 0;
  }
  const config = parsed.config;
  const log = createLogger({ verbosity: config.verbosity, format: config.logFormat });
  try {
    return await runSupervisor(config, {
      log,
      isRoot: process.getuid?.() === 0,
      startedAt: 0,
    });
  } catch (err) {
    if (err instanceof RunsdError) {
      log.error(`${err.message.replace(/^runsd: /, '')}`, { code: err.code });
      return 1;
    }
    log.error(`unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, {
      code: 'RUNSD_INTERNAL',
    });
    return 1;
  }
}

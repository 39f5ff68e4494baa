// Entry of runsd: the source (src/main.ts), the bundle (dist/runsd.cjs) and the single executable
// (dist/runsd, whose main script is that same bundle). Wiring only. The imports run in this order:
// the Node version check first, before any other module's code; then the SIGUSR1 guard (bin/runsd
// installs one with --import; the executable and `node dist/runsd.cjs` have no launcher).
import './node-check.ts';
import './sigusr1-guard.ts';
import { runCli } from './cli.ts';
import { EXEC_AS_ARG, inSea } from './supervisor/entries.ts';
import { execAs } from './supervisor/exec-as.ts';

// The executable is also the -user helper: the supervisor re-executes it with EXEC_AS_ARG.
if (inSea && process.argv[2] === EXEC_AS_ARG) execAs(process.argv.slice(3));
else void runCli(process.argv.slice(2), process.env).then((status) => process.exit(status));

// Entry of the single executable (dist/runsd, built by scripts/build.ts as CommonJS: a SEA main
// script cannot be an ES module on Node 24). The same binary is also the -user helper: the
// supervisor re-executes it with EXEC_AS_ARG (supervisor/entries.ts).
import './sigusr1-guard.ts';
import { runCli } from './cli.ts';
import { EXEC_AS_ARG } from './supervisor/entries.ts';
import { execAs } from './supervisor/exec-as.ts';

if (process.argv[2] === EXEC_AS_ARG) execAs(process.argv.slice(3));
else void runCli(process.argv.slice(2), process.env).then((status) => process.exit(status));

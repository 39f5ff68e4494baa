// Module entry of runsd (source and dist/runsd.mjs): wiring only. The Node version check must be the
// first import so that it runs before any other module's code.
import './node-check.ts';
import { runCli } from './cli.ts';

process.exit(await runCli(process.argv.slice(2), process.env));

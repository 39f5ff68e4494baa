// `npm run loadgen -- [options] URL`: the same command as `runsd loadtest` (main.ts), from source.
import { loadtestMain } from './main.ts';

loadtestMain(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`runsd loadtest: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  },
);

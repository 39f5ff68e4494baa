// `npm run loadgen -- [options] URL`: parse, run (optionally against the emulator + runsd), print.
// Exit status: 0 when the run completed (whatever the target answered), 2 on bad usage, 1 when the
// run itself could not be done.
import { LoadgenUsageError, parseLoadgenArgs, USAGE } from '../../src/domain/loadgen-options.ts';
import { formatReport, type LoadReport } from '../../src/domain/loadgen-report.ts';
import { type EmulatorTarget, startEmulatorTarget } from './emulator-target.ts';
import { runLoad } from './run.ts';

async function main(argv: string[]): Promise<number> {
  let o: ReturnType<typeof parseLoadgenArgs>;
  try {
    o = parseLoadgenArgs(argv);
  } catch (err) {
    if (!(err instanceof LoadgenUsageError)) throw err;
    process.stderr.write(`loadgen: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let emu: EmulatorTarget | null = null;
  try {
    if (o.emulator) emu = await startEmulatorTarget();
    const url = o.url;
    if (url === null) throw new Error('no URL');
    const report: LoadReport = await runLoad({ ...o, url, proxy: emu?.proxy ?? o.proxy });
    if (emu) report.emulator = { identityCalls: emu.identityCalls() };
    process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
    return 0;
  } finally {
    await emu?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`loadgen: ${(err as Error).message ?? String(err)}\n`);
    process.exit(1);
  },
);

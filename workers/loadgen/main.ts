// `runsd loadtest [options] URL` (and `npm run loadgen`): argv → options → the target (the emulator
// + runsd with --emulator; the ID token for https://) → one run or the --compare rounds → the
// report on stdout (text or --json), --html FILE, the progress line on stderr meanwhile.
// Exit status: 0 the run completed (whatever the target answered), 2 bad usage, 1 it could not run.
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  type CompareReport,
  compareReport,
  type Leg,
  roundOrder,
  type Side,
} from '../../src/domain/loadgen-compare.ts';
import { formatCompare, formatReport } from '../../src/domain/loadgen-format.ts';
import { compareHtml, reportHtml } from '../../src/domain/loadgen-html.ts';
import {
  type LoadgenOptions,
  LoadgenUsageError,
  parseLoadgenArgs,
  USAGE,
  wireProtocol,
} from '../../src/domain/loadgen-options.ts';
import { type LoadReport, type LoadSettings, mergeResults } from '../../src/domain/loadgen-report.ts';
import { RunsdError } from '../../src/errors.ts';
import { bundled } from '../../src/supervisor/entries.ts';
import type { EmulatorTarget } from './emulator-target.ts';
import { ProgressLine } from './progress.ts';
import { type RunTarget, runTasks } from './run.ts';
import { tokenFor } from './token.ts';
import { uplotAssets } from './uplot-assets.ts';

function readBody(o: LoadgenOptions): Uint8Array | null {
  const b = o.body;
  if (b.kind === 'text') return Buffer.from(b.text);
  if (b.kind === 'size') return b.bytes > 0 ? Buffer.alloc(b.bytes, 'x') : null;
  if (b.kind === 'file') {
    try {
      return readFileSync(b.path);
    } catch (err) {
      throw new RunsdError('RUNSD_CONFIG', `--body-file ${b.path}: ${(err as Error).message}`);
    }
  }
  return null;
}

function settings(o: LoadgenOptions, share = 1): LoadSettings {
  return {
    model: o.rate === null ? 'closed' : 'open',
    connections: o.connections,
    streams: o.streams,
    threads: o.threads,
    durationMs: o.durationMs === null ? null : Math.max(1, Math.round(o.durationMs / share)),
    requests: o.requests === null ? null : Math.max(1, Math.round(o.requests / share)),
    rate: o.rate,
    warmupMs: o.warmupMs,
    timeoutMs: o.timeoutMs,
  };
}

async function target(
  url: string,
  o: LoadgenOptions,
  emu: EmulatorTarget | null,
  body: Uint8Array | null,
): Promise<RunTarget> {
  const https = url.startsWith('https:');
  // --emulator: https://*.run.app is the emulator's front end, with its CA and its metadata server
  const viaEmu = emu !== null && https;
  const token = await tokenFor(url, o, viaEmu ? { GCE_METADATA_HOST: emu.metadataHost } : process.env);
  const headers = [...o.headers];
  // the header runsd itself sends: Cloud Run then leaves the app's own Authorization alone
  if (token !== null && !headers.some(([k]) => k === 'x-serverless-authorization'))
    headers.push(['x-serverless-authorization', `Bearer ${token}`]);
  return {
    url,
    proxy: https ? null : (emu?.proxy ?? o.proxy),
    protocol: wireProtocol(o.protocol, url),
    grpc: o.grpc,
    method: o.method,
    headers,
    body,
    connectTo: o.connectTo ?? (viaEmu ? emu.frontend : null),
    ca: o.cacert !== null ? readFileSync(o.cacert, 'utf8') : viaEmu ? emu.caPem : null,
  };
}

const meta = (t: RunTarget, load: LoadSettings) => ({
  target: { url: t.url, proxy: t.proxy, protocol: t.protocol, method: t.method, grpc: t.grpc },
  load,
});

async function once(t: RunTarget, load: LoadSettings, progress: ProgressLine | null): Promise<LoadReport> {
  progress?.start();
  try {
    return mergeResults(await runTasks(t, load, (tick) => progress?.tick(tick)), meta(t, load));
  } finally {
    progress?.stop();
  }
}

async function compare(
  sides: Record<Side, RunTarget>,
  o: LoadgenOptions,
  progressFor: (label: string) => ProgressLine | null,
): Promise<CompareReport> {
  const load = settings(o, o.rounds);
  const legs: Leg[] = [];
  for (let round = 1; round <= o.rounds; round++)
    for (const side of roundOrder(round)) {
      const p = progressFor(`${side} ${round}/${o.rounds}`);
      p?.start();
      try {
        legs.push({ side, round, results: await runTasks(sides[side], load, (tick) => p?.tick(tick)) });
      } finally {
        p?.stop();
      }
    }
  const total = settings(o);
  return compareReport(legs, { direct: meta(sides.direct, total), runsd: meta(sides.runsd, total) });
}

// The emulator (and the bin/runsd it starts) is development tooling: it is not in the bundle or
// the single executable (the specifier is not a literal, so esbuild leaves it out).
const EMULATOR_TARGET = './emulator-target.ts';
async function startEmulator(): Promise<EmulatorTarget> {
  if (bundled)
    throw new RunsdError(
      'RUNSD_CONFIG',
      '--emulator needs a source checkout (npm run loadgen -- --emulator …)',
    );
  const m = (await import(EMULATOR_TARGET)) as typeof import('./emulator-target.ts');
  return m.startEmulatorTarget();
}

export async function loadtestMain(argv: readonly string[]): Promise<number> {
  let o: LoadgenOptions;
  try {
    o = parseLoadgenArgs(argv, availableParallelism());
  } catch (err) {
    if (!(err instanceof LoadgenUsageError)) throw err;
    process.stderr.write(`runsd loadtest: ${err.message} (see runsd loadtest --help)\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const progressFor = (label: string) =>
    o.quiet ? null : new ProgressLine(process.stderr, label, o.warmupMs);
  let emu: EmulatorTarget | null = null;
  try {
    const body = readBody(o);
    if (o.emulator) emu = await startEmulator();
    const url = o.url ?? '';
    const main = await target(url, o, emu, body);
    let out: string;
    let html: string;
    if (o.compare !== null) {
      const c = await compare({ runsd: main, direct: await target(o.compare, o, emu, body) }, o, progressFor);
      if (emu) c.emulator = { identityCalls: emu.identityCalls() };
      out = o.json ? JSON.stringify(c) : formatCompare(c);
      html = o.html ? compareHtml(c, uplotAssets()) : '';
    } else {
      const r = await once(main, settings(o), progressFor('run'));
      if (emu) r.emulator = { identityCalls: emu.identityCalls() };
      out = o.json ? JSON.stringify(r) : formatReport(r);
      html = o.html ? reportHtml(r, uplotAssets()) : '';
    }
    if (o.html) writeFileSync(o.html, html);
    process.stdout.write(`${out}\n`);
    return 0;
  } catch (err) {
    // a run that could not be done: one line saying why, status 1
    const e = err as Error;
    process.stderr.write(
      `runsd loadtest: ${e instanceof RunsdError ? e.message : (e.message ?? String(err))}\n`,
    );
    return 1;
  } finally {
    await emu?.close();
  }
}

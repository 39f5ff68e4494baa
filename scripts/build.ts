// npm run build → dist/runsd.mjs (supervisor), dist/workers/<room>.mjs (one bundle per room entry)
// and dist/exec-as.mjs. bin/runsd prefers dist/ when it is newer than every source file (set
// RUNSD_FROM_SOURCE=1 to force the source). Bundling matters for start-up: type stripping of ~25 .ts
// files and resolving node_modules cost ~100s of ms per thread (see docs/startup.md).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist`;
rmSync(out, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22.12',
  minify: true,
  legalComments: 'none',
  define: { RUNSD_BUNDLED: 'true' },
  // CommonJS dependencies (prom-client) call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
} as const;

// Every workers/<room>/worker.ts becomes dist/workers/<room>.mjs (supervisor/bundle-paths.ts).
const rooms = readdirSync(`${root}workers`).filter((r) => existsSync(`${root}workers/${r}/worker.ts`));
await Promise.all([
  build({ ...common, entryPoints: { runsd: `${root}src/main.ts` }, outdir: out }),
  build({ ...common, entryPoints: { 'exec-as': `${root}src/supervisor/exec-as.ts` }, outdir: out }),
  build({
    ...common,
    entryPoints: {
      ...Object.fromEntries(rooms.map((r) => [r, `${root}workers/${r}/worker.ts`])),
      'dns-helper': `${root}workers/dns/helper.ts`,
    },
    outdir: `${out}/workers`,
  }),
]);
console.log(`built ${out}/runsd.mjs, exec-as.mjs, workers/{${rooms.join(',')}}.mjs`);

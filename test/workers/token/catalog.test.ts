// The token room's service catalog (workers/token/catalog.ts) against a fake Admin API: the first
// ask waits, concurrent asks share one call, a miss refreshes at once but spaced, a refusal forgets
// the list and is said once, an outage keeps the last good list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdminApi, ListOutcome } from '../../../workers/token/admin-api.ts';
import { Catalog } from '../../../workers/token/catalog.ts';

function setup(answers: ListOutcome[]) {
  const calls: string[] = [];
  const warnings: string[] = [];
  const outcomes: string[] = [];
  let clock = 1_000_000;
  const api: AdminApi = {
    async list(project, region) {
      calls.push(`${project}/${region}`);
      await new Promise((r) => setImmediate(r));
      return answers.length > 1 ? answers.shift()! : answers[0]!;
    },
    close() {},
  };
  const catalog = new Catalog({
    api,
    intervalSec: 60,
    log: { error() {}, info() {}, warn: (m) => warnings.push(m) },
    metrics: { refresh: (o) => outcomes.push(o) },
    now: () => clock,
    rand: () => 0.5,
  });
  return { catalog, calls, warnings, outcomes, tick: (ms: number) => (clock += ms) };
}

test('the first ask waits for the list; concurrent asks share one call; no project, no call', async (t) => {
  const s = setup([{ kind: 'ok', names: ['world', 'hello'] }]);
  t.after(() => s.catalog.close());
  const before = await s.catalog.get('us-central1', false);
  assert.equal(before.state, 'pending');
  assert.deepEqual(s.calls, [], 'the project is not known yet');
  s.catalog.setProject('123', 'us-central1');
  const [a, b] = await Promise.all([
    s.catalog.get('us-central1', false),
    s.catalog.get('us-central1', false),
  ]);
  assert.deepEqual(a.names, ['hello', 'world']);
  assert.equal(a, b);
  assert.deepEqual(s.calls, ['123/us-central1']);
  assert.deepEqual(s.outcomes, ['ok']);
});

test('a miss refreshes at once, at most every 5 s per region', async (t) => {
  const s = setup([
    { kind: 'ok', names: ['hello'] },
    { kind: 'ok', names: ['hello', 'new'] },
  ]);
  t.after(() => s.catalog.close());
  s.catalog.setProject('123', null);
  await s.catalog.get('europe-west1', false);
  s.tick(1000);
  assert.deepEqual((await s.catalog.get('europe-west1', true)).names, ['hello'], 'too soon: the held list');
  assert.equal(s.calls.length, 1);
  s.tick(5000);
  assert.deepEqual((await s.catalog.get('europe-west1', true)).names, ['hello', 'new']);
  assert.equal(s.calls.length, 2);
  assert.deepEqual((await s.catalog.get('europe-west1', false)).names, ['hello', 'new'], 'no miss: no call');
  assert.equal(s.calls.length, 2);
});

test('a refusal forgets the list and is said once with what to grant; an outage keeps the last list', async (t) => {
  const s = setup([
    { kind: 'ok', names: ['hello'] },
    { kind: 'unavailable', status: 503, message: 'try later' },
    { kind: 'refused', status: 403, message: "Permission 'run.services.list' denied" },
    { kind: 'refused', status: 403, message: "Permission 'run.services.list' denied" },
  ]);
  t.after(() => s.catalog.close());
  s.catalog.setProject('123', null);
  await s.catalog.get('us-central1', false);
  s.tick(6000);
  const out = await s.catalog.get('us-central1', true);
  assert.equal(out.state, 'unavailable');
  assert.deepEqual(out.names, ['hello'], 'the last good list stays');
  assert.equal(s.warnings.length, 1);
  assert.match(s.warnings[0]!, /unavailable \(HTTP 503: try later\)/);
  // refreshes after an outage are not miss-driven (state is not ok): the timer would do it; force it
  s.catalog.setProject('456', null);
  await s.catalog.get('us-central1', false);
  const refused = await s.catalog.get('us-central1', false);
  assert.equal(refused.state, 'refused');
  assert.equal(refused.names, null);
  s.catalog.setProject('789', null);
  await s.catalog.get('us-central1', false);
  const told = s.warnings.filter((w) => w.includes('roles/run.viewer'));
  assert.equal(told.length, 1, s.warnings.join('\n'));
  assert.match(told[0]!, /HTTP 403: Permission 'run.services.list' denied/);
  assert.deepEqual(s.outcomes, ['ok', 'unavailable', 'refused', 'refused']);
});

// The Grafana dashboard uses only metric names the README lists (the same list the code registers:
// test/metrics-docs.test.ts), every listed name is charted, and every panel queries through the
// datasource template variable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const dir = new URL('../../grafana/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir), 'utf8');

interface Ref {
  type?: string;
  uid?: string;
}
interface Target {
  refId?: string;
  expr?: string;
  datasource?: Ref | string;
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  datasource?: Ref | string;
  targets?: Target[];
  panels?: Panel[];
  gridPos?: { h: number; w: number; x: number; y: number };
  fieldConfig?: { defaults?: { unit?: string } };
}
interface Variable {
  name: string;
  type: string;
  query?: unknown;
  datasource?: Ref | string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(read('runsd.json')) as Dashboard;
const listed = read('metrics.txt')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const listedSet = new Set(listed);

/** Every non-row panel, including those nested in collapsed rows. */
function chartPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => (p.type === 'row' ? chartPanels(p.panels ?? []) : [p]));
}
const panels = chartPanels(dashboard.panels);
const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);

const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

/** Metric names in a PromQL expression, histogram series folded onto the histogram's name. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/runsd_[a-z_]+/g)].map((m) => {
    const name = m[0];
    const base = name.replace(HISTOGRAM_SUFFIX, '');
    // Only a listed histogram (not a counter) has _bucket/_sum/_count series.
    return base !== name && listedSet.has(base) && !base.endsWith('_total') ? base : name;
  });
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
const DATASOURCE_VAR = '${datasource}';
const isDatasourceVar = (ref: Ref | string | undefined) =>
  ref !== undefined && (typeof ref === 'string' ? ref : ref.uid) === DATASOURCE_VAR;

test('metrics.txt lists each name once, all runsd_<room>_<name> shaped', () => {
  assert.ok(listed.length > 0);
  assert.equal(listedSet.size, listed.length, 'duplicate names in metrics.txt');
  for (const name of listed) assert.match(name, /^runsd_[a-z]+_[a-z_]+$/, name);
});

test('the README metrics table lists exactly the names in metrics.txt', () => {
  const table = [...read('README.md').matchAll(/^\| `(runsd_[a-z_]+)` \|/gm)].map((m) => m[1]!);
  assert.deepEqual([...table].sort(), [...listed].sort());
});

test('dashboard header: schemaVersion ~39, uid, a top row then one row per room', () => {
  assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `${dashboard.schemaVersion}`);
  assert.equal(dashboard.uid, 'runsd');
  assert.deepEqual(rows, ['At a glance', 'Proxy', 'Token', 'DNS', 'Supervisor']);
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('template variables: datasource is a Prometheus picker; job and instance query through it', () => {
  const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  const ds = vars.get('datasource');
  assert.ok(ds, 'datasource variable');
  assert.equal(ds.type, 'datasource');
  assert.equal(ds.query, 'prometheus');
  for (const name of ['job', 'instance']) {
    const v = vars.get(name);
    assert.ok(v, `${name} variable`);
    assert.equal(v.type, 'query');
    assert.ok(isDatasourceVar(v.datasource), `${name} uses ${DATASOURCE_VAR}`);
    const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
    for (const metric of metricNames(q)) assert.ok(listedSet.has(metric), `${name} queries ${metric}`);
  }
});

test('every panel has a non-empty expr and references the datasource variable', () => {
  assert.ok(panels.length > 0);
  for (const p of panels) {
    const targets = p.targets ?? [];
    assert.ok(
      targets.some((t) => (t.expr ?? '').trim() !== ''),
      `panel "${p.title}" has a target with an expr`,
    );
    assert.ok(
      isDatasourceVar(p.datasource) || targets.some((t) => isDatasourceVar(t.datasource)),
      `panel "${p.title}" uses ${DATASOURCE_VAR}`,
    );
    for (const t of targets) {
      if (t.datasource !== undefined)
        assert.ok(isDatasourceVar(t.datasource), `panel "${p.title}" target ${t.refId}`);
    }
    assert.ok(p.gridPos && p.gridPos.x + p.gridPos.w <= 24, `panel "${p.title}" fits the grid`);
  }
});

test('every runsd_ name in a panel expr is listed in metrics.txt, and every series is filtered by job/instance', () => {
  for (const p of panels) {
    for (const t of p.targets ?? []) {
      const expr = t.expr ?? '';
      for (const name of metricNames(expr)) {
        assert.ok(listedSet.has(name), `panel "${p.title}" uses unlisted metric ${name}`);
      }
      for (const m of expr.matchAll(/runsd_[a-z_]+(\{[^}]*\})?/g)) {
        const sel = m[1] ?? '';
        assert.ok(
          sel.includes('job=~"$job"') && sel.includes('instance=~"$instance"'),
          `panel "${p.title}": ${m[0]} lacks the job/instance selector`,
        );
      }
    }
  }
});

/** The panels under each row, in order. */
function byRow(): Map<string, Panel[]> {
  const out = new Map<string, Panel[]>();
  let cur: Panel[] = [];
  for (const p of dashboard.panels) {
    if (p.type === 'row') {
      cur = [...(p.panels ?? [])];
      out.set(p.title ?? '', cur);
    } else cur.push(p);
  }
  return out;
}

test('the top row: requests/s, error %, p99, token expiry, rooms up — stat panels on one line', () => {
  const top = byRow().get('At a glance') ?? [];
  assert.deepEqual(
    top.map((p) => [p.title, p.type, unitOf(p)]),
    [
      ['Requests/s', 'stat', 'reqps'],
      ['Error %', 'stat', 'percentunit'],
      ['p99 latency', 'stat', 's'],
      ['Token expiry', 'stat', 's'],
      ['Rooms up', 'stat', 'short'],
    ],
  );
  assert.ok(new Set(top.map((p) => p.gridPos?.y)).size === 1, 'all on one line');
  assert.equal(
    top.reduce((w, p) => w + (p.gridPos?.w ?? 0), 0),
    24,
    'they fill the width',
  );
});

const unitOf = (p: Panel) => p.fieldConfig?.defaults?.unit;

test('units follow the query: quantiles in seconds, rates per second, ratios in percent', () => {
  for (const p of panels) {
    const exprs = (p.targets ?? []).map((t) => t.expr ?? '');
    const unit = unitOf(p);
    const what = `panel "${p.title}" (${unit})`;
    assert.ok(unit, `${what} has a unit`);
    if (exprs.every((e) => e.startsWith('histogram_quantile('))) assert.equal(unit, 's', what);
    else if (exprs.some((e) => / \/ /.test(e))) assert.match(unit!, /^(percentunit|s)$/, what);
    else if (exprs.every((e) => /\brate\(/.test(e)))
      assert.match(unit!, /^(reqps|ops|percentunit)$/, `${what}: a rate is per second`);
  }
});

test('no panel depends on the zoom: rates over $__rate_interval, counts over a fixed window', () => {
  for (const p of panels)
    for (const t of p.targets ?? []) {
      const expr = t.expr ?? '';
      assert.ok(!expr.includes('$__interval'), `panel "${p.title}": $__interval changes with zoom`);
      // increase() over the rate interval counts per step: its value moves with the zoom.
      assert.ok(!/increase\([^)]*\[\$__rate_interval\]/.test(expr), `panel "${p.title}": ${expr}`);
    }
});

test('every name in metrics.txt is charted by at least one panel', () => {
  const used = new Set(panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr ?? ''))));
  const missing = listed.filter((n) => !used.has(n));
  assert.deepEqual(missing, [], 'metrics not on the dashboard');
});

test('name extraction folds histogram series only onto listed histograms', () => {
  assert.deepEqual(
    metricNames(
      'rate(runsd_dns_query_duration_seconds_bucket[5m]) + runsd_dns_query_duration_seconds_count + runsd_proxy_goaways_total_count',
    ),
    [
      'runsd_dns_query_duration_seconds',
      'runsd_dns_query_duration_seconds',
      'runsd_proxy_goaways_total_count',
    ],
  );
});

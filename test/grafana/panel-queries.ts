// Run inside the test bed's namespace by prometheus.test.ts: every expression of every panel of
// grafana/runsd.json, with Grafana's variables substituted the way Grafana would after an operator
// picks this job and instance, evaluated through Prometheus's HTTP API; also the job/instance
// variables' label_values() queries, and one scrape of runsd itself. Prints one JSON line.
// argv: PROMETHEUS_URL METRICS_URL DASHBOARD_JSON JOB INSTANCE RATE_INTERVAL
import { readFileSync } from 'node:fs';

const [prom, metricsUrl, dashboardPath, job, instance, rateInterval] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { refId: string; expr: string }[];
}
const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as {
  panels: Panel[];
  templating: { list: { name: string; query?: { query: string } }[] };
};
const flat = (ps: Panel[]): Panel[] => ps.flatMap((p) => (p.type === 'row' ? flat(p.panels ?? []) : [p]));

// Grafana escapes regex metacharacters in a picked value of a multi-value variable, with a doubled
// backslash: one for the PromQL string, one for the regex (127\\.0\\.0\\.1:9090).
const regexValue = (v: string) => v.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&');
const substitute = (expr: string) =>
  expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('$job', regexValue(job))
    .replaceAll('$instance', regexValue(instance));

async function query(expr: string) {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return {
    status: body.status,
    error: body.error ?? null,
    series: (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: r.value[1] })),
  };
}

const panels = [];
for (const p of flat(dashboard.panels))
  for (const t of p.targets ?? []) {
    const expr = substitute(t.expr);
    panels.push({ panel: p.title, refId: t.refId, expr, ...(await query(expr)) });
  }

// label_values(METRIC{SELECTOR}, LABEL): the values of LABEL among METRIC's series (Grafana asks
// /api/v1/series, or /api/v1/label/…/values with match[]).
const variables: Record<string, string[]> = {};
for (const v of dashboard.templating.list) {
  const m = /^label_values\((.+), (\w+)\)$/.exec(v.query?.query ?? '');
  if (!m) continue;
  const match = substitute(m[1]!);
  const res = await fetch(`${prom}/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(match)}`);
  variables[v.name] = ((await res.json()) as { data: string[] }).data;
}

const scrape = await (await fetch(metricsUrl)).text();
const families = [...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
const samples = scrape.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
process.stdout.write(`${JSON.stringify({ panels, variables, families, samples, scrape })}\n`);

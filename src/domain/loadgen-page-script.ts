// The --html page's own script (browser JavaScript, inlined as text after uPlot's): reads the charts
// from the JSON block (src/domain/loadgen-charts.ts decided everything about them) and draws each with
// uPlot into its element. Kept to what needs a browser: sizes, tick and legend formatters, resizing.
export const PAGE_SCRIPT = `(() => {
  const data = JSON.parse(document.getElementById('loadtest-data').textContent);
  const height = 300;
  const width = (el) => Math.max(400, el.clientWidth);
  // the nines axis carries -log10(1 - p/100); the legend shows the percentile itself
  const pct = (v) => (v == null ? '-' : +(100 * (1 - 10 ** -v)).toFixed(4) + '%');
  // rates start at 0, so a steady rate is not blown up to fill the chart
  const fromZero = (u, min, max) => [0, max > 0 ? max * 1.05 : 1];
  // log axes end near the data, not at the next power of ten (a 12 ms max would get an axis to 100)
  // (uPlot.rangeLog rounds out to a multiple of the next power of ten either way)
  // and round to one digit, so the axis starts at 1 or 2 ms, not at 1.743
  const digit = (v, round) => {
    const m = 10 ** Math.floor(Math.log10(v));
    return round(v / m) * m;
  };
  const tight = (u, min, max) =>
    min > 0 ? [digit(min / 1.25, Math.floor), digit(max * 1.25, Math.ceil)] : [0.01, 10];
  const whole = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  const plots = [];
  for (const c of data.charts) {
    const el = document.getElementById('chart-' + c.id);
    const xAxis = { label: c.xLabel };
    const xSeries = { label: c.xLabel };
    const x = { time: false };
    if (c.xWhole) xAxis.incrs = whole;
    if (c.xTicks) {
      xAxis.splits = () => c.xTicks.map((t) => t[0]);
      xAxis.values = () => c.xTicks.map((t) => t[1]);
      xSeries.value = (u, v) => pct(v);
      x.range = [0, c.xTicks[c.xTicks.length - 1][0]];
    }
    const opts = {
      title: c.title,
      width: width(el),
      height,
      scales: { x, y: c.yLog ? { distr: 3, range: tight } : { range: fromZero } },
      axes: [xAxis, { label: c.yLabel, size: 60 }],
      series: [xSeries, ...c.series.map((s) => ({ ...s, spanGaps: c.spanGaps }))],
    };
    plots.push([el, new uPlot(opts, c.data, el)]);
  }
  addEventListener('resize', () => {
    for (const [el, u] of plots) u.setSize({ width: width(el), height });
  });
})();`;

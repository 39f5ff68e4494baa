// A minimal line chart as inline SVG (pure string building). Why not a charting library: uPlot, the
// one the issue names, is not in this checkout's node_modules (installing packages is the lead's
// call); SVG drawn at report time needs no script at all, so the page opens offline and renders
// the same in any browser. Linear y from 0; x linear or the caller's own transform.
export interface Series {
  name: string;
  color: string;
  /** [x, y] in data units; y null = a gap */
  points: [number, number | null][];
}

export interface ChartSpec {
  title: string;
  yLabel: string;
  xLabel: string;
  series: Series[];
  /** x axis labels at these data x values (default: 5 evenly spaced) */
  xTicks?: [number, string][];
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (n: number) =>
  Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);

/** a "nice" upper bound for the axis: 1, 2 or 5 × 10^k at or above v */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function lineChart(c: ChartSpec): string {
  const W = c.width ?? 720;
  const H = c.height ?? 260;
  const L = 60;
  const R = 36;
  const T = 28;
  const B = 40;
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = c.series.flatMap((s) => s.points.flatMap((p) => (p[1] === null ? [] : [p[1]])));
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  const ymax = niceMax(ys.length ? Math.max(...ys) : 0);
  const sx = (x: number) => L + (x1 === x0 ? (W - L - R) / 2 : ((x - x0) / (x1 - x0)) * (W - L - R));
  const sy = (y: number) => T + (1 - y / ymax) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(c.title)}">`,
    `<text x="${L}" y="18" class="title">${esc(c.title)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (ymax * i) / 4;
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" class="grid"/>`,
      `<text x="${L - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end" class="tick">${num(y)}</text>`,
    );
  }
  const ticks =
    c.xTicks ??
    Array.from({ length: 5 }, (_, i) => x0 + ((x1 - x0) * i) / 4).map((x) => [x, num(x)] as [number, string]);
  for (const [x, label] of ticks)
    parts.push(
      `<text x="${sx(x).toFixed(1)}" y="${H - B + 16}" text-anchor="middle" class="tick">${esc(label)}</text>`,
    );
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" class="axis">${esc(c.xLabel)}</text>`,
    `<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(c.yLabel)}</text>`,
  );
  c.series.forEach((s, i) => {
    // a gap (null) starts a new sub-path; a single point gets a dot so it is visible
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`;
      pen = true;
    }
    if (d)
      parts.push(
        `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.5" data-series="${esc(s.name)}"/>`,
      );
    for (const [x, y] of s.points.length === 1 ? s.points : [])
      if (y !== null)
        parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="4" fill="${s.color}"/>`);
    parts.push(
      `<rect x="${W - R - 130}" y="${T + 4 + i * 16}" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${W - R - 115}" y="${T + 13 + i * 16}" class="tick">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

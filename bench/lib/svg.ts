// A small SVG line chart for benchmark results (no dependencies).

export interface Series {
  label: string;
  color: string;
  points: [number, number][];
  /** draw as steps (value holds until the next point), e.g. what is on screen over time */
  step?: boolean;
  dashed?: boolean;
}

export interface PlotOptions {
  xLabel: string;
  yLabel: string;
  /** tick positions and their labels */
  xTicks: [number, string][];
  xRange: [number, number];
  /** default: the data's range, widened to whole units */
  yRange?: [number, number];
  /** maps x before scaling (e.g. Math.log2) */
  xScale?: (x: number) => number;
  title?: string;
  width?: number;
  height?: number;
}

export function linePlot(series: Series[], o: PlotOptions): string {
  const W = o.width ?? 640, H = o.height ?? 400, L = 60, R = 200, T = o.title ? 34 : 20, B = 50;
  const fx = o.xScale ?? ((x: number) => x);
  const allY = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const [y0, y1] = o.yRange ?? [Math.floor(Math.min(...allY) - 0.5), Math.ceil(Math.max(...allY) + 0.5)];
  const [xa, xb] = [fx(o.xRange[0]), fx(o.xRange[1])];
  const px = (x: number) => L + ((fx(Math.min(Math.max(x, o.xRange[0]), o.xRange[1])) - xa) / (xb - xa)) * (W - L - R);
  const py = (v: number) => T + (1 - (Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0)) * (H - T - B);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  if (o.title) out.push(`<text x="${L}" y="18" font-weight="bold">${esc(o.title)}</text>`);
  for (const [x, label] of o.xTicks) out.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${px(x)}" y="${H - B + 16}" text-anchor="middle">${esc(label)}</text>`);
  const yStep = Math.max(1, Math.ceil((y1 - y0) / 12));
  for (let v = y0; v <= y1; v += yStep) out.push(`<line x1="${L}" x2="${W - R}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/><text x="${L - 6}" y="${py(v) + 4}" text-anchor="end">${v}</text>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text><text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    const d = pts.map((p, k) => {
      const xy = `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`;
      if (!k) return `M${xy}`;
      return s.step ? `H${px(p[0]).toFixed(1)} V${py(p[1]).toFixed(1)}` : `L${xy}`;
    }).join(' ');
    const tail = s.step && pts.length ? ` H${px(o.xRange[1]).toFixed(1)}` : '';
    out.push(`<path d="${d}${tail}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    if (!s.step) for (const p of pts) out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    out.push(`<line x1="${W - R + 10}" x2="${W - R + 30}" y1="${T + 10 + i * 18}" y2="${T + 10 + i * 18}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/><text x="${W - R + 34}" y="${T + 14 + i * 18}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

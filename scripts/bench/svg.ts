/** A small SVG chart writer (grouped bars with spread whiskers, and line series): no external service. */
import type { BarChart, Chart, LineChart } from "./types.ts";

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04"];
const W = 760;
const H = 360;
const PAD = { left: 70, right: 20, top: 40, bottom: 70 };

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** A round axis maximum and its tick step. */
function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step, step };
}

function fmt(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  return `${+v.toPrecision(3)}`;
}

function frame(title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    ...body,
    `</svg>`,
    "",
  ].join("\n");
}

function yAxis(top: number, step: number, unit: string, out: string[]): (v: number) => number {
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  out.push(`<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(unit)}</text>`);
  return y;
}

function legend(names: string[], out: string[]): void {
  let x = PAD.left;
  for (const [i, name] of names.entries()) {
    out.push(`<rect x="${x}" y="${H - 22}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(`<text x="${x + 16}" y="${H - 12}">${esc(name)}</text>`);
    x += 28 + name.length * 7;
  }
}

function bars(c: BarChart): string {
  const out: string[] = [];
  const series = [...new Set(c.groups.flatMap((g) => g.bars.map((b) => b.series)))];
  const values = c.groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.max ?? b.value])).filter(Number.isFinite);
  const { top, step } = niceScale(Math.max(0, ...values));
  const y = yAxis(top, step, c.unit, out);
  const plotW = W - PAD.left - PAD.right;
  const groupW = plotW / Math.max(1, c.groups.length);
  const barW = Math.min(40, (groupW * 0.8) / Math.max(1, series.length));
  for (const [gi, g] of c.groups.entries()) {
    const x0 = PAD.left + gi * groupW + (groupW - barW * series.length) / 2;
    for (const b of g.bars) {
      if (!Number.isFinite(b.value)) continue;
      const si = series.indexOf(b.series);
      const x = x0 + si * barW;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - y(b.value)).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${g.label} ${b.series}: ${fmt(b.value)} ${c.unit}`)}</title></rect>`,
      );
      if (b.min !== undefined && b.max !== undefined && b.max > b.min) {
        const cx = (x + (barW - 2) / 2).toFixed(1);
        out.push(`<line x1="${cx}" x2="${cx}" y1="${y(b.min).toFixed(1)}" y2="${y(b.max).toFixed(1)}" stroke="black"/>`);
      }
    }
    out.push(`<text x="${(PAD.left + gi * groupW + groupW / 2).toFixed(1)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${esc(g.label)}</text>`);
  }
  out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(0)}" y2="${y(0)}" stroke="black"/>`);
  legend(series, out);
  return frame(c.title, out);
}

function lines(c: LineChart): string {
  const out: string[] = [];
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...c.series.flatMap((s) => s.points.map((p) => p[1])), ...(c.marks ?? []).map((m) => m.y)].filter(Number.isFinite);
  const { top, step } = niceScale(Math.max(0, ...ys));
  const y = yAxis(top, step, c.yUnit, out);
  const xMax = Math.max(1, ...xs);
  const x = (v: number) => PAD.left + (v / xMax) * (W - PAD.left - PAD.right);
  for (const m of c.marks ?? []) {
    out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(m.y)}" y2="${y(m.y)}" stroke="#dc2626" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${W - PAD.right}" y="${y(m.y) - 4}" text-anchor="end" fill="#dc2626">${esc(m.label)}</text>`);
  }
  for (const [i, s] of c.series.entries()) {
    const d = s.points.map(([px, py], j) => `${j ? "L" : "M"}${x(px).toFixed(1)} ${y(py).toFixed(1)}`).join(" ");
    out.push(`<path d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="2"/>`);
  }
  const { top: xTop, step: xStep } = niceScale(xMax);
  for (let v = 0; v <= Math.min(xTop, xMax) + xStep / 2; v += xStep) {
    out.push(`<text x="${x(v).toFixed(1)}" y="${H - PAD.bottom + 18}" text-anchor="middle">${fmt(v)}</text>`);
  }
  out.push(`<text x="${PAD.left + (W - PAD.left - PAD.right) / 2}" y="${H - PAD.bottom + 36}" text-anchor="middle">${esc(c.xUnit)}</text>`);
  out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(0)}" y2="${y(0)}" stroke="black"/>`);
  legend(
    c.series.map((s) => s.name),
    out,
  );
  return frame(c.title, out);
}

export function renderChart(c: Chart): string {
  return c.kind === "bars" ? bars(c) : lines(c);
}

// Charts drawn as plain SVG, each shown with a table of the same figures
// (the chart is hidden from assistive technology; the table is not). Bars
// carry their values in words beside them, so no figure is told by colour
// alone.
import { h } from "./dom";

const ns = "http://www.w3.org/2000/svg";

/** The NHS.UK palette, in an order where neighbours differ in lightness too. */
export const palette = ["#005eb8", "#ffb81c", "#007f3b", "#ae2573", "#00a499", "#330072", "#ed8b00", "#425563"];

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

export interface Segment {
  label: string;
  value: number;
}

export interface StackedRow {
  label: string;
  /** marked rows (e.g. the in-house option) are drawn with a dashed outline and named so. */
  marked?: boolean;
  segments: Segment[];
  total: string;
}

/**
 * stackedBars draws one horizontal bar per row, each made of its segments
 * (in series order) out of max, with the row's label and total in words.
 */
export function stackedBars(rows: StackedRow[], series: string[], max: number): HTMLElement {
  // Each row's label sits above its bar, so that the chart stays narrow
  // enough to read when it is scaled down to a phone's width.
  const barW = 400;
  const totalW = 70;
  const rowH = 52;
  const width = barW + totalW;
  const height = rows.length * rowH + 4;
  const chart = s("svg", { class: "app-chart", viewBox: `0 0 ${width} ${height}`, width, height, "aria-hidden": "true", focusable: "false" });
  rows.forEach((r, i) => {
    const y = 2 + i * rowH;
    chart.append(s("text", { x: 0, y: y + 15 }, r.marked ? `${r.label} (in house)` : r.label));
    let x = 0;
    r.segments.forEach((seg, j) => {
      const w = max > 0 ? (seg.value / max) * barW : 0;
      if (w > 0) chart.append(s("rect", { x, y: y + 22, width: w, height: 22, fill: palette[series.indexOf(seg.label) % palette.length] ?? palette[j]!, stroke: "#fff", "stroke-width": 1 }));
      x += w;
    });
    if (r.marked) chart.append(s("rect", { x: 1, y: y + 20, width: Math.max(x - 2, 2), height: 26, fill: "none", stroke: "#212b32", "stroke-width": 2, "stroke-dasharray": "6 3" }));
    chart.append(s("text", { x: x + 6, y: y + 38 }, r.total));
  });
  const legend = h(
    "ul",
    { class: "app-legend", "aria-hidden": "true" },
    series.map((name, i) => h("li", null, swatch(palette[i % palette.length]!), name)),
  );
  return h("div", { class: "app-chart-box" }, legend, chart);
}

// swatch is a legend's key: an SVG square (the page's CSP allows no inline style).
function swatch(colour: string): SVGSVGElement {
  return s("svg", { class: "app-legend__swatch", viewBox: "0 0 16 16", width: 16, height: 16 }, s("rect", { x: 0.5, y: 0.5, width: 15, height: 15, fill: colour, stroke: "#212b32" }));
}

export interface Bar {
  label: string;
  value: number;
  text: string;
}

/** bars draws a simple horizontal bar chart, one bar per item, with its value in words. */
export function bars(items: Bar[], max: number, colour = palette[0]!): SVGSVGElement {
  const barW = 300;
  const rowH = 48;
  const width = barW + 90;
  const height = items.length * rowH + 4;
  const chart = s("svg", { class: "app-chart", viewBox: `0 0 ${width} ${height}`, width, height, "aria-hidden": "true", focusable: "false" });
  items.forEach((b, i) => {
    const y = 2 + i * rowH;
    const w = max > 0 ? (b.value / max) * barW : 0;
    chart.append(s("text", { x: 0, y: y + 15 }, b.label), s("rect", { x: 0, y: y + 22, width: Math.max(w, 1), height: 20, fill: colour }), s("text", { x: w + 6, y: y + 37 }, b.text));
  });
  return chart;
}

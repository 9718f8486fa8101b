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
  const labelW = 220;
  const barW = 440;
  const totalW = 90;
  const rowH = 34;
  const width = labelW + barW + totalW;
  const height = rows.length * rowH + 8;
  const chart = s("svg", { class: "app-chart", viewBox: `0 0 ${width} ${height}`, width, height, "aria-hidden": "true", focusable: "false" });
  rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    const name = r.label.length > 30 ? `${r.label.slice(0, 29)}…` : r.label;
    chart.append(s("text", { x: 0, y: y + 21 }, r.marked ? `${name} (in house)` : name));
    let x = labelW;
    r.segments.forEach((seg, j) => {
      const w = max > 0 ? (seg.value / max) * barW : 0;
      if (w > 0) chart.append(s("rect", { x, y: y + 4, width: w, height: rowH - 10, fill: palette[series.indexOf(seg.label) % palette.length] ?? palette[j]!, stroke: "#fff", "stroke-width": 1 }));
      x += w;
    });
    if (r.marked) chart.append(s("rect", { x: labelW, y: y + 2, width: x - labelW, height: rowH - 6, fill: "none", stroke: "#212b32", "stroke-width": 2, "stroke-dasharray": "6 3" }));
    chart.append(s("text", { x: x + 6, y: y + 21 }, r.total));
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
  const labelW = 170;
  const barW = 380;
  const rowH = 30;
  const width = labelW + barW + 110;
  const height = items.length * rowH + 8;
  const chart = s("svg", { class: "app-chart", viewBox: `0 0 ${width} ${height}`, width, height, "aria-hidden": "true", focusable: "false" });
  items.forEach((b, i) => {
    const y = 4 + i * rowH;
    const w = max > 0 ? (b.value / max) * barW : 0;
    chart.append(s("text", { x: 0, y: y + 19 }, b.label), s("rect", { x: labelW, y: y + 4, width: Math.max(w, 1), height: rowH - 10, fill: colour }), s("text", { x: labelW + w + 6, y: y + 19 }, b.text));
  });
  return chart;
}

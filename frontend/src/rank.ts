// The comparison re-ranked at another price weight, in the browser, by
// DESIGN.md's formulas as the API applies them: price points scale with the
// price weight, quality points with the rest (the quality weights keep
// their proportions), each total to two decimals; ties go to the higher
// quality total, then a bid before the in-house option, then the earlier
// submission.
import type { ComparisonRow } from "./api/client";

const round2 = (x: number): number => Math.round(x * 100) / 100;

export interface Ranked {
  row: ComparisonRow;
  price: number;
  quality: number;
  total: number;
  rank: number;
}

/** rerank returns rows ordered and ranked at price weight w, the tender's own being w0. */
export function rerank(rows: ComparisonRow[], priceKey: string, w0: number, w: number): Ranked[] {
  const out = rows.map((row) => {
    const p0 = row.scores[priceKey] ?? 0;
    const price = w0 > 0 ? (p0 * w) / w0 : 0;
    const quality = w0 < 100 ? (row.quality_total * (100 - w)) / (100 - w0) : 0;
    return { row, price, quality: round2(quality), total: round2(price + quality), rank: 0 };
  });
  out.sort((a, b) => {
    if (a.total !== b.total) return b.total - a.total;
    if (a.quality !== b.quality) return b.quality - a.quality;
    if (a.row.in_house !== b.row.in_house) return a.row.in_house ? 1 : -1;
    return (a.row.submitted_at ?? "").localeCompare(b.row.submitted_at ?? "");
  });
  out.forEach((r, i) => (r.rank = i + 1));
  return out;
}

// The comparison of a closed tender's bids, side by side with the in-house
// option, for a commissioner's buyer who has declared no conflict.
import { getComparison, getComparisonCSV, getTender, type Comparison, type Me } from "../api/client";
import { h } from "../dom";
import { formatPence, sectorLabels } from "../format";
import { authed } from "../session";
import { statusTag } from "./opportunities";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

const points = new Intl.NumberFormat("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export async function comparisonPage(id: string, _me: Me, signal: AbortSignal): Promise<Page> {
  const back = h("a", { href: `?page=tender&id=${encodeURIComponent(id)}`, class: "back-link" }, "Back to the tender");
  let c: Comparison;
  let title = "Compare the bids";
  try {
    const [tender, comparison] = await authed((tok) => Promise.all([getTender(id, tok, signal), getComparison(tok, id, signal)]));
    c = comparison;
    title = `Compare the bids: ${tender.tender.title}`;
  } catch (err) {
    // The user moved on; the app drops this page unseen.
    if (err instanceof DOMException && err.name === "AbortError") return { title, el: h("div") };
    return {
      title: "The bids could not be compared",
      el: h("div", null, back, h("h1", { class: "heading-xl", tabindex: -1 }, "The bids could not be compared"), errorSummary(err)),
    };
  }
  const csv = h("p", { class: "comparison__csv" });
  // The CSV needs the bearer token, so the link is to a copy fetched now.
  void authed((tok) => getComparisonCSV(tok, id))
    .then((text) => {
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      csv.append(h("a", { href: url, download: `comparison-${id}.csv`, class: "link" }, "Download the comparison as CSV"), " (for a spreadsheet)");
    })
    .catch(() => csv.append("The CSV could not be prepared; reload the page to try again."));

  const criteria = c.criteria;
  const table = h(
    "table",
    { class: "table comparison" },
    h("caption", { class: "visually-hidden" }, "Bids in rank order with their points for each criterion"),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col", class: "num" }, "Rank"),
        h("th", { scope: "col" }, "Supplier"),
        h("th", { scope: "col" }, "Sector"),
        h("th", { scope: "col", class: "num" }, "Price bid"),
        criteria.map((k) => h("th", { scope: "col", class: "num" }, k.name, h("span", { class: "table__hint" }, `points out of ${k.weight}`))),
        h("th", { scope: "col", class: "num" }, "Total"),
        h("th", { scope: "col" }, "Flags"),
      ),
    ),
    h(
      "tbody",
      null,
      c.rows.map((r) =>
        h(
          "tr",
          { class: r.in_house ? "comparison__in-house" : null, "data-bid": r.bid_id ?? "in-house" },
          h("td", { class: "num" }, String(r.rank)),
          h("th", { scope: "row" }, r.in_house ? "In-house option" : r.supplier.name),
          h("td", null, r.in_house ? "–" : r.supplier.sector ? sectorLabels[r.supplier.sector] : ""),
          h("td", { class: "num" }, formatPence(r.price_pence)),
          criteria.map((k) => h("td", { class: "num" }, r.scores[k.key] === undefined ? "–" : points.format(r.scores[k.key]!))),
          h("td", { class: "num" }, h("strong", null, points.format(r.total))),
          h(
            "td",
            null,
            r.over_budget ? h("strong", { class: "tag tag--flag" }, "Over budget") : null,
            r.over_budget && r.incomplete ? " " : null,
            r.incomplete ? h("strong", { class: "tag tag--flag-muted" }, "Scoring incomplete") : null,
          ),
        ),
      ),
    ),
  );
  const s = c.sensitivity;
  const leader = c.rows.find((r) => r.rank === 1);
  const mix = c.sector_mix;
  const el = h(
    "div",
    { class: "comparison-page" },
    back,
    h("span", { class: "caption" }, statusTag(c.status)),
    h("h1", { class: "heading-xl", tabindex: -1 }, "Compare the bids"),
    h(
      "p",
      { class: "lede" },
      `${bidCount(c.rows.filter((r) => !r.in_house).length)} against a budget of ${formatPence(c.budget_pence)}. Price points are the lowest price (${formatPence(c.lowest_price_pence)}) divided by each price, times the price weight.`,
    ),
    h("div", { class: "table-scroll" }, table),
    csv,
    leader
      ? h(
          "p",
          null,
          `${leader.in_house ? "The in-house option" : leader.supplier.name} leads for any price weight from ${s.price_weight_low}% to ${s.price_weight_high}% (this tender's is ${s.price_weight}%).`,
        )
      : null,
    h(
      "p",
      null,
      `Bids by sector: NHS ${mix.nhs}, local authority ${mix.local_authority}, third sector ${mix.third_sector}, independent ${mix.independent}.`,
    ),
  );
  return { el, title };
}

function bidCount(n: number): string {
  return n === 1 ? "1 bid" : `${n} bids`;
}

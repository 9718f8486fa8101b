// The public market figures: whether commissioners have a real choice of
// supplier across sectors, as charts with tables of the same figures, and
// each awarded tender's open data.
import { getMarketChoice, listTenders, ocdsUrl, type MarketChoice, type Sector, type Tender } from "../api/client";
import { bars, palette } from "../charts";
import { h } from "../dom";
import { formatPence, sectorLabels } from "../format";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

const sectors: Sector[] = ["nhs", "local_authority", "third_sector", "independent"];
const pct = (x: number) => `${(x * 100).toLocaleString("en-GB", { maximumFractionDigits: 1 })}%`;

function figureTable(caption: string, head: string[], rows: (string | number)[][]): HTMLElement {
  return h(
    "table",
    { class: "nhsuk-table" },
    h("caption", { class: "nhsuk-table__caption--s" }, caption),
    h("thead", null, h("tr", null, head.map((c, i) => h("th", { scope: "col", class: i ? "num" : null }, c)))),
    h("tbody", null, rows.map((r) => h("tr", null, h("th", { scope: "row" }, String(r[0])), r.slice(1).map((v) => h("td", { class: "num" }, String(v)))))),
  );
}

function figure(title: string, chart: SVGSVGElement, table: HTMLElement): HTMLElement {
  return h("section", { class: "section" }, h("h2", { class: "nhsuk-heading-l" }, title), chart, table);
}

export async function marketPage(signal: AbortSignal): Promise<Page> {
  const title = "Market figures";
  const heading = h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title);
  let m: MarketChoice;
  let awarded: Tender[];
  try {
    [m, awarded] = await Promise.all([getMarketChoice(signal), listTenders({ status: "awarded", page_size: 50 }, null, signal).then((p) => p.items)]);
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") return { el: h("div"), title };
    return { el: h("div", null, heading, errorSummary(err)), title };
  }
  const bidMax = Math.max(1, ...sectors.map((s) => m.sectors[s].bids));
  const awardMax = Math.max(1, ...sectors.map((s) => m.sectors[s].awards));
  const single = m.tenders_with_bids ? m.single_bid_tenders / m.tenders_with_bids : 0;
  const summary = h(
    "p",
    { role: "status" },
    `${m.tenders_with_bids} ${m.tenders_with_bids === 1 ? "tender" : "tenders"} past the deadline had bids: ${m.single_bid_tenders} had a single bid (${pct(single)}), ${m.multi_sector_tenders} had bids from two or more sectors (${pct(m.multi_sector_share)}).`,
  );
  const share = (n: number) => ({ value: n, text: `${n} of ${m.tenders_with_bids}` });
  return {
    title,
    el: h(
      "div",
      null,
      heading,
      h("p", { class: "nhsuk-lede-text" }, "Whether CCGs have a real choice: bids and awards from each sector, and how often a tender draws only one bid."),
      summary,
      figure(
        "Bids by sector",
        bars(sectors.map((s) => ({ label: sectorLabels[s], value: m.sectors[s].bids, text: String(m.sectors[s].bids) })), bidMax, palette[0]),
        figureTable("Bids and listings by sector", ["Sector", "Bids", "Listed suppliers"], sectors.map((s) => [sectorLabels[s], m.sectors[s].bids, m.sectors[s].listings])),
      ),
      figure(
        "Awards by sector",
        bars(sectors.map((s) => ({ label: sectorLabels[s], value: m.sectors[s].awards, text: String(m.sectors[s].awards) })), awardMax, palette[2]),
        figureTable("Awards by sector", ["Sector", "Awards", "Value"], sectors.map((s) => [sectorLabels[s], m.sectors[s].awards, formatPence(m.sectors[s].award_value_pence)])),
      ),
      figure(
        "Competition for tenders",
        bars(
          [
            { label: "Single bid", ...share(m.single_bid_tenders) },
            { label: "Two or more sectors", ...share(m.multi_sector_tenders) },
          ],
          Math.max(1, m.tenders_with_bids),
          palette[5],
        ),
        figureTable("Tenders with bids", ["Tenders", "Number", "Share"], [
          ["With a single bid", m.single_bid_tenders, pct(single)],
          ["With bids from two or more sectors", m.multi_sector_tenders, pct(m.multi_sector_share)],
          ["All with bids", m.tenders_with_bids, "100%"],
        ]),
      ),
      h(
        "section",
        { class: "section" },
        h("h2", { class: "nhsuk-heading-l" }, "Awarded tenders"),
        awarded.length
          ? h(
              "table",
              { class: "nhsuk-table" },
              h("caption", { class: "nhsuk-u-visually-hidden" }, "Awarded tenders with their winners and open data"),
              h("thead", null, h("tr", null, h("th", { scope: "col" }, "Tender"), h("th", { scope: "col" }, "Winner"), h("th", { scope: "col", class: "num" }, "Value"), h("th", { scope: "col" }, "Open data"))),
              h(
                "tbody",
                null,
                awarded.map((t) =>
                  h(
                    "tr",
                    null,
                    h("th", { scope: "row" }, h("a", { href: `?page=tender&id=${encodeURIComponent(t.id)}`, class: "nhsuk-link" }, t.title)),
                    h("td", null, t.award?.supplier.name ?? ""),
                    h("td", { class: "num" }, t.award ? formatPence(t.award.value_pence) : ""),
                    h("td", null, h("a", { href: ocdsUrl(t.id), class: "nhsuk-link", type: "application/json" }, "OCDS release", h("span", { class: "nhsuk-u-visually-hidden" }, ` for ${t.title}`))),
                  ),
                ),
              ),
            )
          : h("p", null, "No tender has been awarded yet."),
      ),
    ),
  };
}

// A CCG's own tenders (its drafts and every tender it commissions, by
// status, from GET /api/v1/me/tenders) and a supplier's own bids across
// tenders.
import { listOwnBids, listOwnTenders, type Me, type OwnBid, type Tender, type TenderStatus } from "../api/client";
import { h, scrollBox } from "../dom";
import { formatDateTime, formatPence } from "../format";
import { authed } from "../session";
import { statusTag, tenderStatusLabels } from "./opportunities";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

const published: TenderStatus[] = ["open", "closed", "standstill", "awarded", "cancelled", "unsuccessful"];

function tenderLink(t: Tender): HTMLElement {
  return h("a", { href: `?page=tender&id=${encodeURIComponent(t.id)}`, class: "nhsuk-link" }, t.title || "Untitled draft");
}

function table(caption: string, head: string[], rows: HTMLElement[]): HTMLElement {
  return scrollBox(
    h(
      "table",
      { class: "nhsuk-table" },
      h("caption", { class: "nhsuk-table__caption--m" }, caption),
      h("thead", null, h("tr", null, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, rows),
    ),
  );
}

/** myTendersPage lists the tenders of the caller's CCG: drafts first (its buyers only), then by status. */
export async function myTendersPage(me: Me, signal: AbortSignal): Promise<Page> {
  const title = me.role === "evaluator" ? "Tenders to evaluate" : "My tenders";
  const heading = h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title);
  const status = h("p", { role: "status" });
  let drafts: Tender[] = [];
  let mine: Tender[] = [];
  try {
    const all = await authed((tok) => listOwnTenders(tok, signal));
    drafts = all.filter((t) => t.status === "draft");
    mine = all.filter((t) => t.status !== "draft");
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") return { el: h("div"), title };
    return { el: h("div", null, heading, errorSummary(err)), title };
  }
  status.textContent = `${drafts.length} ${drafts.length === 1 ? "draft" : "drafts"} and ${mine.length} published ${mine.length === 1 ? "tender" : "tenders"}.`;
  const sections: HTMLElement[] = [];
  if (me.role === "buyer") {
    sections.push(
      drafts.length
        ? table(
            "Drafts",
            ["Tender", "Last changed", "Actions"],
            drafts.map((t) =>
              h(
                "tr",
                null,
                h("th", { scope: "row" }, tenderLink(t)),
                h("td", null, formatDateTime(t.updated_at)),
                h("td", null, t.buyer_id === me.organisation.id ? h("a", { href: `?page=edit-tender&id=${encodeURIComponent(t.id)}`, class: "nhsuk-link" }, "Edit", h("span", { class: "nhsuk-u-visually-hidden" }, ` ${t.title || "the draft"}`)) : "Led by another CCG"),
              ),
            ),
          )
        : h("div", null, h("h2", { class: "nhsuk-heading-m" }, "Drafts"), h("p", null, "You have no drafts. ", h("a", { href: "?page=new-tender", class: "nhsuk-link" }, "Publish a tender"), ".")),
    );
  }
  for (const s of published) {
    const of = mine.filter((t) => t.status === s);
    if (!of.length) continue;
    sections.push(
      table(
        tenderStatusLabels[s] ?? s,
        ["Tender", "Status", "Bids close", "Next step"],
        of.map((t) =>
          h(
            "tr",
            null,
            h("th", { scope: "row" }, tenderLink(t)),
            h("td", null, statusTag(t.status)),
            h("td", null, t.bid_deadline ? formatDateTime(t.bid_deadline) : "Not set"),
            h("td", null, nextStep(t)),
          ),
        ),
      ),
    );
  }
  if (!mine.length) sections.push(h("p", null, "No published tenders yet."));
  return { el: h("div", null, heading, h("p", { class: "nhsuk-lede-text" }, me.role === "evaluator" ? "Every tender you are assigned to evaluate." : "Every tender your CCG leads or commissions jointly, in every status."), status, sections), title };
}

function nextStep(t: Tender): Node | string {
  const compare = (text: string) => h("a", { href: `?page=comparison&id=${encodeURIComponent(t.id)}`, class: "nhsuk-link" }, text, h("span", { class: "nhsuk-u-visually-hidden" }, `: ${t.title}`));
  switch (t.status) {
    case "open":
      return "Answer questions; bids are sealed until the deadline";
    case "closed":
      return compare("Score and compare the bids");
    case "standstill":
      return compare(`Confirm after ${formatDateTime(t.standstill_ends_at ?? "")}`);
    case "awarded":
      return t.award ? `Awarded to ${t.award.supplier.name}` : "Awarded";
    default:
      return "None";
  }
}

/** myBidsPage lists the caller's organisation's bids on every tender, with each one's status and version. */
export async function myBidsPage(me: Me, signal: AbortSignal): Promise<Page> {
  const title = "My bids";
  const heading = h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title);
  let own: OwnBid[];
  try {
    own = await authed((tok) => listOwnBids(tok, signal));
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") return { el: h("div"), title };
    return { el: h("div", null, heading, errorSummary(err)), title };
  }
  const status = h("p", { role: "status" }, own.length ? `${me.organisation.name} has made ${own.length} ${own.length === 1 ? "bid" : "bids"}.` : "");
  const body = own.length
    ? table(
        "Your bids",
        ["Tender", "Tender status", "Your bid", "Price", "Version", "Feedback"],
        own.map(({ bid, tender }) => {
          const decided = tender.status === "standstill" || tender.status === "awarded";
          const live = bid.status === "submitted";
          return h(
            "tr",
            null,
            h("th", { scope: "row" }, h("a", { href: `?page=tender&id=${encodeURIComponent(tender.id)}`, class: "nhsuk-link" }, tender.title)),
            h("td", null, statusTag(tender.status)),
            h("td", null, live ? "Submitted" : `Withdrawn ${formatDateTime(bid.withdrawn_at ?? "")}`),
            h("td", { class: "num" }, formatPence(bid.price_pence)),
            h("td", { class: "num" }, String(bid.version)),
            h("td", null, decided && live ? h("a", { href: `?page=tender&id=${encodeURIComponent(tender.id)}#feedback`, class: "nhsuk-link" }, "Your result", h("span", { class: "nhsuk-u-visually-hidden" }, ` for ${tender.title}`)) : "After the award decision"),
          );
        }),
      )
    : h("p", null, "You have not bid for any tender yet. ", h("a", { href: "?page=opportunities", class: "nhsuk-link" }, "Find opportunities"), ".");
  return { el: h("div", null, heading, h("p", { class: "nhsuk-lede-text" }, "Every bid your organisation has made, with where each tender stands."), status, body), title };
}

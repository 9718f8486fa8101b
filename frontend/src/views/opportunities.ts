// Opportunities: the public list of published tenders, with a status filter
// and a keyword search kept in the URL so that a search can be shared.
import { listTenders, type Tender, type TenderQuery, type TenderStatus } from "../api/client";
import { card, h, replace } from "../dom";
import { formatDateTime, formatPence, tagClass } from "../format";
import type { Reference } from "../reference";
import { errorSummary } from "./problem";
import { selectInput, textInput } from "./form";
import type { Page } from "./signin";

export const tenderStatusLabels: Record<TenderStatus, string> = {
  draft: "Draft",
  open: "Open",
  closed: "Closed",
  standstill: "Standstill",
  awarded: "Awarded",
  cancelled: "Cancelled",
  unsuccessful: "Ended without award",
};

/** statusTag is a tender's status as a coloured badge. */
export function statusTag(status: TenderStatus): HTMLElement {
  return h("strong", { class: tagClass(status), "data-status": status }, tenderStatusLabels[status] ?? status);
}

const filterStatuses: TenderStatus[] = ["open", "closed", "awarded"];

/** deadlineText says the next deadline that matters for a tender in its status. */
export function deadlineText(t: Tender): string {
  if (!t.bid_deadline) return "No bid deadline set";
  if (t.status === "open") return `Bids close ${formatDateTime(t.bid_deadline)}`;
  return `Bids closed ${formatDateTime(t.bid_deadline)}`;
}

function tenderCard(t: Tender, ref: Reference): HTMLElement {
  return card(
    { class: "tender-card" },
    h("h2", { class: "nhsuk-card__heading" }, h("a", { href: `?page=tender&id=${encodeURIComponent(t.id)}` }, t.title)),
    h(
      "div",
      { class: "card__meta" },
      statusTag(t.status),
      h("span", null, t.commissioners[0]?.name ?? ""),
    ),
    t.description ? h("p", { class: "card__summary" }, t.description.length > 240 ? `${t.description.slice(0, 237).trimEnd()}…` : t.description) : null,
    h(
      "dl",
      { class: "card__facts" },
      fact("Budget", t.budget_pence ? `Up to ${formatPence(t.budget_pence)}` : "Not given"),
      fact("Contract", t.contract_months ? `${t.contract_months} months` : "Not given"),
      fact("Deadline", deadlineText(t)),
      t.award ? fact("Awarded to", `${t.award.supplier.name}, ${formatPence(t.award.value_pence)}`) : null,
      fact("Capabilities", t.capabilities.map((c) => ref.capabilityName(c)).join(", ") || "None listed"),
    ),
  );
}

function fact(term: string, value: string): HTMLElement {
  return h("div", { class: "facts__row" }, h("dt", null, term), h("dd", null, value));
}

/**
 * opportunitiesPage lists published tenders, newest first. go moves to
 * another address in the app (a new search).
 */
export async function opportunitiesPage(ref: Reference, params: URLSearchParams, go: (url: string) => void, signal: AbortSignal): Promise<Page> {
  const status = params.get("status") ?? "";
  const q = params.get("q") ?? "";
  const statusSelect = selectInput({
    id: "opp-status",
    label: "Status",
    blank: "Any status",
    options: filterStatuses.map((s) => [s, tenderStatusLabels[s]]),
    value: filterStatuses.includes(status as TenderStatus) ? status : "",
  });
  const keyword = textInput({ id: "opp-q", label: "Search by keyword", value: q, hint: "Words in the title or description." });
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Opportunities" },
    keyword.field.wrapper,
    statusSelect.field.wrapper,
    h("button", { type: "submit", class: "nhsuk-button" }, "Search"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = new URLSearchParams({ page: "opportunities" });
    if (keyword.control.value.trim()) next.set("q", keyword.control.value.trim());
    if (statusSelect.control.value) next.set("status", statusSelect.control.value);
    go(`?${next.toString()}`);
  });

  const results = h("div", { class: "results" });
  const cards = h("ul", { class: "nhsuk-list app-cards" });
  const status_ = h("p", { class: "results__status", role: "status" }, "Loading opportunities…");
  const more = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Load more opportunities");
  more.hidden = true;
  results.append(status_, cards, more);

  const query: TenderQuery = { page_size: 20 };
  if (filterStatuses.includes(status as TenderStatus)) query.status = status as TenderStatus;
  if (q) query.q = q;
  let shown = 0;
  let cursor: string | undefined;
  const load = async (focusNew: boolean) => {
    more.disabled = true;
    try {
      const page = await listTenders(cursor ? { ...query, cursor } : query, null, signal);
      const added = page.items.map((t) => tenderCard(t, ref));
      cards.append(...added);
      shown += page.items.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status_.textContent = shown === 0 ? "" : `${shown} ${shown === 1 ? "opportunity" : "opportunities"} shown`;
      if (shown === 0) {
        results.prepend(
          h(
            "div",
            { class: "empty" },
            h("h2", { class: "nhsuk-heading-m" }, "No opportunities match your search"),
            h("p", null, h("a", { href: "?page=opportunities" }, "Clear the search"), " to see every published tender."),
          ),
        );
      }
      if (focusNew) added[0]?.querySelector("a")?.focus();
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      status_.textContent = "";
      replace(results, errorSummary(err));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load(true));
  await load(false);

  const el = h(
    "div",
    null,
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Opportunities"),
    h("p", { class: "nhsuk-lede-text" }, "Tenders for commissioning support published by CCGs. Any supplier from any sector may bid."),
    h("div", { class: "directory__layout" }, form, results),
  );
  return { el, title: "Opportunities" };
}

// The marketplace levy: a supplier's own levies, one per contract it won,
// and the operator's list of every one, with a status filter kept in the
// URL and a retry for a levy Stripe refused or that was never sent.
import { ApiError, getLeviesCSV, listLevies, retryLevy, type Levy, type LevyQuery, type LevyStatus, type Me } from "../api/client";
import { h, replace, scrollBox } from "../dom";
import { formatDate, formatDateTime, formatMoney, safeHref, tagClass } from "../format";
import { authed } from "../session";
import { selectInput } from "./form";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

export const levyStatuses: LevyStatus[] = ["pending", "not_sent", "waived", "failed", "sent", "payment_failed", "uncollectible", "paid", "void"];

export const levyStatusLabels: Record<LevyStatus, string> = {
  pending: "Pending",
  not_sent: "Not sent",
  waived: "Waived",
  failed: "Failed",
  sent: "Invoice sent",
  payment_failed: "Payment failed",
  uncollectible: "Uncollectible",
  paid: "Paid",
  void: "Void",
};

// What each status means to the people who read the list.
const levyStatusHints: Record<LevyStatus, string> = {
  pending: "waiting to be invoiced through Stripe",
  not_sent: "recorded while invoicing through Stripe was off",
  waived: "nothing is due",
  failed: "Stripe refused the invoice",
  sent: "the invoice was sent",
  payment_failed: "a payment of the invoice failed",
  uncollectible: "Stripe marked the invoice uncollectible",
  paid: "the invoice is paid",
  void: "the invoice was cancelled",
};

/** Levies Stripe refused, or that were never sent, are the ones the operator may send again. */
const retryable = new Set<LevyStatus>(["failed", "not_sent"]);

const percent = new Intl.NumberFormat("en-GB", { style: "percent", maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat("en-GB");

/** levyTag is a levy's status as a badge, in words. */
export function levyTag(status: LevyStatus): HTMLElement {
  return h("strong", { class: tagClass(status), "data-status": status }, levyStatusLabels[status] ?? status);
}

function levyCount(n: number): string {
  return n === 1 ? "1 levy" : `${whole.format(n)} levies`;
}

/** history is a levy's changes of status, oldest first, folded away. */
function history(l: Levy): HTMLElement {
  return h(
    "details",
    { class: "levy-history" },
    h(
      "summary",
      { class: "levy-history__summary" },
      "History",
      h("span", { class: "nhsuk-u-visually-hidden" }, ` of the levy on ${l.tender.title}`),
      ` (${l.history.length})`,
    ),
    l.history.length === 0
      ? h("p", { class: "levy-history__empty" }, "No changes recorded.")
      : h(
          "ol",
          { class: "levy-history__list" },
          l.history.map((c) =>
            h(
              "li",
              null,
              h("time", { datetime: c.at }, formatDateTime(c.at)),
              ": ",
              h("strong", null, levyStatusLabels[c.status] ?? c.status),
              c.note ? ` – ${c.note}` : null,
            ),
          ),
        ),
  );
}

interface RowOptions {
  operator: boolean;
  /** retry is called by a row's Retry button; the operator's list only. */
  retry?: (l: Levy, button: HTMLButtonElement) => void;
}

/** cells fills a levy's row. */
function cells(l: Levy, o: RowOptions): HTMLTableCellElement[] {
  const pay = safeHref(l.hosted_invoice_url);
  const amountNotes: (HTMLElement | null)[] = [
    l.status === "waived" && l.waived_reason ? h("span", { class: "table__hint" }, l.waived_reason) : null,
    l.cap_pence > 0 ? h("span", { class: "table__hint" }, `capped at ${formatMoney(l.cap_pence)}`) : null,
  ];
  let action: HTMLElement | null = null;
  if (o.operator && o.retry && retryable.has(l.status)) {
    const button = h(
      "button",
      { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small" },
      "Retry",
      h("span", { class: "nhsuk-u-visually-hidden" }, ` the levy on ${l.tender.title}`),
    );
    button.addEventListener("click", () => o.retry!(l, button));
    action = button;
  }
  return [
    h(
      "th",
      { scope: "row", tabindex: -1 },
      h("a", { href: `?page=tender&id=${encodeURIComponent(l.tender.id)}` }, l.tender.title),
      h("span", { class: "table__hint" }, "Recorded ", h("time", { datetime: l.created_at }, formatDate(l.created_at))),
    ),
    o.operator ? h("td", null, l.supplier.name) : null,
    h("td", { class: "num" }, formatMoney(l.award_value_pence)),
    h("td", { class: "num" }, whole.format(l.basis_points), h("span", { class: "table__hint" }, percent.format(l.basis_points / 10_000))),
    h("td", { class: "num" }, h("strong", null, formatMoney(l.amount_pence)), amountNotes),
    h(
      "td",
      { class: "levy__status" },
      levyTag(l.status),
      // The operator's page says what the statuses mean once, above the table.
      o.operator ? null : h("span", { class: "table__hint" }, levyStatusHints[l.status] ?? ""),
      history(l),
    ),
    h(
      "td",
      null,
      l.stripe_invoice_id ? h("code", { class: "org-id" }, l.stripe_invoice_id) : h("span", { class: "levy__none" }, "None yet"),
      pay
        ? h(
            "p",
            { class: "levy__pay" },
            h("a", { href: pay, rel: "noopener noreferrer" }, "Pay invoice", h("span", { class: "nhsuk-u-visually-hidden" }, ` for ${l.tender.title}`)),
          )
        : null,
    ),
    o.operator ? h("td", { class: "num" }, l.attempts === undefined ? "–" : whole.format(l.attempts)) : null,
    o.operator ? h("td", { class: "levy__error" }, l.last_error ? l.last_error : h("span", { class: "levy__none" }, "None")) : null,
    o.operator ? h("td", null, action) : null,
  ].filter((c): c is HTMLTableCellElement => c !== null);
}

function levyRow(l: Levy, o: RowOptions): HTMLTableRowElement {
  const tr = h("tr", { "data-levy": l.id, "data-status": l.status });
  tr.append(...cells(l, o));
  return tr;
}

function levyTable(caption: string, operator: boolean): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const col = (text: string, hint?: string, num = false) =>
    h("th", { scope: "col", class: num ? "num" : null }, text, hint ? h("span", { class: "table__hint" }, hint) : null);
  const body = h("tbody");
  const table = h(
    "table",
    { class: "nhsuk-table levies" },
    h("caption", { class: "levies__caption" }, caption),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        col("Tender"),
        operator ? col("Supplier") : null,
        col("Award value", undefined, true),
        col("Basis points", "100 = 1%", true),
        col("Levy", undefined, true),
        col("Status"),
        col("Stripe invoice"),
        operator ? col("Attempts", "failed calls", true) : null,
        operator ? col("Last error", "from Stripe") : null,
        operator ? h("th", { scope: "col" }, h("span", { class: "nhsuk-u-visually-hidden" }, "Action")) : null,
      ),
    ),
    body,
  );
  return { table, body };
}

/** saveText offers text to the browser as a downloaded file. */
function saveText(text: string, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own copy once it starts.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

interface ListOptions {
  operator: boolean;
  query: LevyQuery;
  caption: string;
  /** empty is shown when there are no levies to list. */
  empty: HTMLElement;
  signal: AbortSignal;
}

/**
 * levyList is the table of levies with its paging, CSV download and (for
 * the operator) retries. It loads the first page before it resolves.
 */
async function levyList(o: ListOptions): Promise<HTMLElement> {
  const status = h("p", { class: "results__status", role: "status", "aria-live": "polite" });
  const problem = h("div", { class: "levies__problem" });
  const { table, body } = levyTable(o.caption, o.operator);
  const scroll = scrollBox(table, true);
  o.empty.hidden = true;
  const more = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary", hidden: true }, "Load more levies");
  const download = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Download CSV");
  const downloadNote = h("p", { class: "nhsuk-hint" }, "Every levy listed here, for a spreadsheet.");
  let cursor = "";
  let shown = 0;

  const showProblem = (err: unknown, lead?: string) => {
    const box = errorSummary(err);
    if (lead) box.querySelector(".nhsuk-error-summary__title")?.after(h("p", null, lead));
    replace(problem, box);
    box.focus();
  };

  const retry = (l: Levy, button: HTMLButtonElement) => {
    void (async () => {
      button.disabled = true;
      try {
        const done = await authed((tok) => retryLevy(tok, l.id));
        replace(problem);
        const tr = body.querySelector<HTMLTableRowElement>(`tr[data-levy="${CSS.escape(l.id)}"]`);
        if (tr) {
          replace(tr, ...cells(done, { operator: o.operator, retry }));
          tr.dataset.status = done.status;
          tr.querySelector<HTMLElement>("th")?.focus();
        }
        status.textContent = `The levy on ${done.tender.title} is ${levyStatusLabels[done.status].toLowerCase()}: ${levyStatusHints[done.status]}.`;
      } catch (err) {
        button.disabled = false;
        showProblem(err, err instanceof ApiError ? `The levy on ${l.tender.title} was not retried.` : undefined);
      }
    })();
  };

  const fetchPage = async (focusNew: boolean): Promise<void> => {
    more.disabled = true;
    try {
      const page = await authed((tok) => listLevies(tok, o.query, cursor, o.signal));
      replace(problem);
      const rows = page.items.map((l) => levyRow(l, { operator: o.operator, retry: o.operator ? retry : undefined }));
      body.append(...rows);
      shown += rows.length;
      cursor = page.next_cursor ?? "";
      more.hidden = !cursor;
      scroll.hidden = shown === 0;
      o.empty.hidden = shown > 0;
      download.hidden = shown === 0;
      downloadNote.hidden = shown === 0;
      status.textContent = shown === 0 ? "" : `${levyCount(shown)} shown${cursor ? ", and there are more" : ""}.`;
      if (focusNew) rows[0]?.querySelector<HTMLElement>("th")?.focus();
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      showProblem(err);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void fetchPage(true));

  download.addEventListener("click", () => {
    void (async () => {
      download.disabled = true;
      try {
        const text = await authed((tok) => getLeviesCSV(tok, o.query));
        replace(problem);
        saveText(text, o.query.status ? `levies-${o.query.status}.csv` : "levies.csv", "text/csv");
        status.textContent = "The CSV is downloaded.";
      } catch (err) {
        showProblem(err, "The CSV could not be downloaded.");
      } finally {
        download.disabled = false;
      }
    })();
  });

  await fetchPage(false);
  return h("div", { class: "levies-list" }, status, problem, o.empty, scroll, more, h("div", { class: "levies__download" }, download, downloadNote));
}

function notFor(root: HTMLElement, title: string, who: string): Page {
  replace(
    root,
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title),
    h("p", null, `This page is for ${who}.`),
    h("p", null, h("a", { href: "./", class: "nhsuk-link" }, "Find commissioning support")),
  );
  return { el: root, title };
}

/** supplierLeviesPage lists the levies on the contracts the supplier's organisation has won. */
export async function supplierLeviesPage(me: Me, signal: AbortSignal): Promise<Page> {
  const title = "Your levies";
  const root = h("div", { class: "levies-page" });
  if (me.role !== "supplier") return notFor(root, title, "suppliers");
  const empty = h(
    "div",
    { class: "empty" },
    h("h2", { class: "nhsuk-heading-s" }, "You have no levies"),
    h("p", null, "A levy is recorded when a contract is awarded to your organisation through csmarket. ", h("a", { href: "?page=opportunities" }, "Find opportunities"), " to bid for."),
  );
  const list = await levyList({ operator: false, query: { page_size: 20 }, caption: `Levies on contracts awarded to ${me.organisation.name}, newest first`, empty, signal });
  replace(
    root,
    h("span", { class: "nhsuk-caption-l" }, me.organisation.name),
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title),
    h(
      "p",
      { class: "nhsuk-lede-text" },
      "csmarket charges a levy on each contract awarded through it: the award value times the rate in basis points (100 basis points are 1%), " +
        "rounded half up to the penny. The invoice goes by e-mail, through Stripe, to whoever submitted the winning bid.",
    ),
    list,
  );
  return { el: root, title };
}

/**
 * operatorLeviesPage lists every supplier's levies, filtered by the status
 * in the URL; go moves to another address in the app (a new filter).
 */
export async function operatorLeviesPage(me: Me, params: URLSearchParams, go: (url: string) => void, signal: AbortSignal): Promise<Page> {
  const title = "Marketplace levies";
  const root = h("div", { class: "levies-page" });
  if (me.role !== "operator") return notFor(root, title, "the marketplace operator");

  const asked = params.get("status") ?? "";
  const status = levyStatuses.includes(asked as LevyStatus) ? (asked as LevyStatus) : undefined;
  const select = selectInput({
    id: "levy-status",
    label: "Status",
    blank: "Any status",
    options: levyStatuses.map((s) => [s, levyStatusLabels[s]]),
    value: status ?? "",
  });
  const form = h(
    "form",
    { class: "filters levies__filters", role: "search", "aria-label": "Levies" },
    select.field.wrapper,
    h("button", { type: "submit", class: "nhsuk-button" }, "Apply filter"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = new URLSearchParams({ page: "operator-levies" });
    if (select.control.value) next.set("status", select.control.value);
    go(`?${next.toString()}`);
  });

  const empty = h(
    "div",
    { class: "empty" },
    h("h2", { class: "nhsuk-heading-s" }, status ? `No levies are ${levyStatusLabels[status].toLowerCase()}` : "No levies are recorded yet"),
    status
      ? h("p", null, h("a", { href: "?page=operator-levies" }, "Show every levy"), ".")
      : h("p", null, "A levy is recorded for the winning supplier when an award is confirmed."),
  );
  const query: LevyQuery = { page_size: 20, ...(status ? { status } : {}) };
  const caption = status ? `Levies with the status ${levyStatusLabels[status]}, newest first` : "Every supplier's levies, newest first";
  const list = await levyList({ operator: true, query, caption, empty, signal });
  replace(
    root,
    h("span", { class: "nhsuk-caption-l" }, "Marketplace operator"),
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title),
    h(
      "p",
      { class: "nhsuk-lede-text" },
      "The levy recorded on each final award, and where its Stripe invoice stands. A levy Stripe refused, or one recorded while invoicing was off, can be sent again.",
    ),
    form,
    h(
      "details",
      { class: "levy-statuses" },
      h("summary", { class: "levy-history__summary" }, "What the statuses mean"),
      h(
        "dl",
        { class: "levy-statuses__list" },
        levyStatuses.map((s) => h("div", { class: "facts__row" }, h("dt", null, levyTag(s)), h("dd", null, levyStatusHints[s]))),
      ),
    ),
    list,
  );
  return { el: root, title: status ? `${title}: ${levyStatusLabels[status]}` : title };
}

// The comparison of a closed tender's bids, side by side with the in-house
// option, for a commissioner's buyer who has declared no conflict; where the
// evaluators score each bid and the lead CCG's buyer decides the award.
import {
  awardTender,
  confirmAward,
  endUnsuccessful,
  getComparisonCSV,
  getTender,
  getWholeComparison,
  putScores,
  revokeAward,
  type Comparison,
  type ComparisonRow,
  type Criterion,
  type FieldError,
  type Me,
  type Tender,
} from "../api/client";
import { h, replace } from "../dom";
import { formatDateTime, formatPence, sectorLabels, tagClass } from "../format";
import { authed } from "../session";
import { banner, invalid, selectInput, showProblem, textInput, type Field } from "./form";
import { statusTag } from "./opportunities";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

const points = new Intl.NumberFormat("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export async function comparisonPage(id: string, me: Me, signal: AbortSignal): Promise<Page> {
  const root = h("div", { class: "comparison-page" });
  let title = "Compare the bids";
  const load = async (top: HTMLElement | null, focus: boolean): Promise<void> => {
    const back = h("a", { href: `?page=tender&id=${encodeURIComponent(id)}`, class: "nhsuk-back-link" }, "Back to the tender");
    let c: Comparison;
    let t: Tender;
    try {
      const [tender, comparison] = await authed((tok) => Promise.all([getTender(id, tok, signal), getWholeComparison(tok, id, signal)]));
      c = comparison;
      t = tender.tender;
      title = `Compare the bids: ${t.title}`;
    } catch (err) {
      // The user moved on; the app drops this page unseen.
      if (err instanceof DOMException && err.name === "AbortError") return;
      title = "The bids could not be compared";
      replace(root, back, h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "The bids could not be compared"), errorSummary(err));
      return;
    }
    const reload = (b: HTMLElement | null) => void load(b, true);
    replace(root, ...view(c, t, me, back, top, reload));
    if (focus) (root.querySelector<HTMLElement>(".nhsuk-notification-banner") ?? root.querySelector<HTMLElement>("h1"))?.focus();
  };
  await load(null, false);
  return { el: root, title };
}

function view(c: Comparison, t: Tender, me: Me, back: HTMLElement, top: HTMLElement | null, reload: (b: HTMLElement | null) => void): (HTMLElement | null)[] {
  const id = t.id;
  const lead = me.role === "buyer" && me.organisation.id === t.buyer_id;
  // Only the lead CCG's buyers decide, and only while the tender is closed.
  const deciding = lead && t.status === "closed";
  const decide = h("div", { id: "award-form" });
  const csv = h("p", { class: "comparison__csv" });
  // The CSV needs the bearer token, so the link is to a copy fetched now.
  void authed((tok) => getComparisonCSV(tok, id))
    .then((text) => {
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      csv.append(h("a", { href: url, download: `comparison-${id}.csv`, class: "nhsuk-link" }, "Download the comparison as CSV"), " (for a spreadsheet)");
    })
    .catch(() => csv.append("The CSV could not be prepared; reload the page to try again."));

  const criteria = c.criteria;
  const table = h(
    "table",
    { class: "nhsuk-table comparison" },
    h("caption", { class: "nhsuk-u-visually-hidden" }, "Bids in rank order with their points for each criterion"),
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
          h(
            "th",
            { scope: "row" },
            r.in_house ? "In-house option" : r.supplier.name,
            deciding && !r.in_house && r.bid_id ? h("div", { class: "comparison__action" }, awardButton(r, t, decide, reload)) : null,
          ),
          h("td", null, r.in_house ? "–" : r.supplier.sector ? sectorLabels[r.supplier.sector] : ""),
          h("td", { class: "num" }, formatPence(r.price_pence)),
          criteria.map((k) => h("td", { class: "num" }, r.scores[k.key] === undefined ? "–" : points.format(r.scores[k.key]!))),
          h("td", { class: "num" }, h("strong", null, points.format(r.total))),
          h(
            "td",
            null,
            r.over_budget ? h("strong", { class: tagClass("flag") }, "Over budget") : null,
            r.over_budget && r.incomplete ? " " : null,
            r.incomplete ? h("strong", { class: tagClass("flag-muted") }, "Scoring incomplete") : null,
          ),
        ),
      ),
    ),
  );
  const s = c.sensitivity;
  const leader = c.rows.find((r) => r.rank === 1);
  const mix = c.sector_mix;
  return [
    back,
    top,
    h("span", { class: "nhsuk-caption-l" }, statusTag(c.status)),
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Compare the bids"),
    h(
      "p",
      { class: "nhsuk-lede-text" },
      `${bidCount(c.rows.filter((r) => !r.in_house).length)} against a budget of ${formatPence(c.budget_pence)}. Price points are the lowest price (${formatPence(c.lowest_price_pence)}) divided by each price, times the price weight.`,
    ),
    h("div", { class: "nhsuk-table-container" }, table),
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
    lead ? decisionSection(c, t, decide, reload) : null,
    t.status === "closed" ? scoringSection(c, t, reload) : null,
  ];
}

function bidCount(n: number): string {
  return n === 1 ? "1 bid" : `${n} bids`;
}

function supplierName(r: ComparisonRow): string {
  return r.in_house ? "the in-house option" : r.supplier.name;
}

// reasonForm is a required reason and a button; act runs with the reason and
// returns the banner to reload the page with.
function reasonForm(idBase: string, label: string, hint: string, button: string, act: (reason: string) => Promise<HTMLElement>, reload: (b: HTMLElement | null) => void, warning = false): HTMLElement {
  const reason = textInput({ id: idBase, label, hint, rows: 3 });
  const problem = h("div");
  const submit = h("button", { type: "submit", class: warning ? "nhsuk-button nhsuk-button--warning" : "nhsuk-button" }, button);
  const form = h("form", { class: "form", novalidate: true }, problem, reason.field.wrapper, submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = reason.control.value.trim();
    if (!text) {
      showProblem(problem, invalid([{ field: "reason", message: "Enter the reason" }]), [reason.field], () => reason.field);
      return;
    }
    void (async () => {
      submit.disabled = true;
      let done: HTMLElement;
      try {
        done = await act(text);
      } catch (err) {
        submit.disabled = false;
        showProblem(problem, err, [reason.field], (f) => (f === "reason" ? reason.field : null));
        return;
      }
      reload(done);
    })();
  });
  return form;
}

function awardButton(r: ComparisonRow, t: Tender, decide: HTMLElement, reload: (b: HTMLElement | null) => void): HTMLElement {
  const name = supplierName(r);
  const b = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small", "aria-label": `Award to ${name}` }, "Award");
  b.addEventListener("click", () => {
    replace(
      decide,
      h("h3", { class: "nhsuk-heading-m" }, `Award the contract to ${name}`),
      h("p", null, `Their price is ${formatPence(r.price_pence)} and their total ${points.format(r.total)} points. The decision starts the standstill; every bidder can then read its feedback.`),
      reasonForm(
        "award-reason",
        "Reason for the award",
        "Recorded in the audit trail and shown to the commissioners.",
        "Decide the award",
        async (reason) => {
          const done = await authed((tok) => awardTender(tok, t.id, r.bid_id!, reason));
          return banner("success", `The award to ${name} is decided`, `The standstill ends ${formatDateTime(done.standstill_ends_at ?? "")}; confirm the award after it.`);
        },
        reload,
      ),
    );
    decide.querySelector<HTMLElement>("textarea")?.focus();
  });
  return b;
}

function decisionSection(c: Comparison, t: Tender, decide: HTMLElement, reload: (b: HTMLElement | null) => void): HTMLElement | null {
  const section = h("section", { class: "section", id: "decision" }, h("h2", { class: "nhsuk-heading-l" }, "Award decision"));
  if (t.status === "closed") {
    section.append(
      h("p", null, c.rows.some((r) => !r.in_house) ? "Choose Award on a bid's row to decide the award, with your reason." : "There are no bids to award."),
      decide,
      h("h3", { class: "nhsuk-heading-m" }, "End without award"),
      reasonForm(
        "unsuccessful-reason",
        "Reason for ending without award",
        "Every bidder is told the tender ended without award; the reason is published.",
        "End without award",
        async (reason) => {
          await authed((tok) => endUnsuccessful(tok, t.id, reason));
          return banner("success", "The tender has ended without award");
        },
        reload,
        true,
      ),
    );
    return section;
  }
  if (t.status === "standstill") {
    const problem = h("div");
    const confirm = h("button", { type: "button", class: "nhsuk-button" }, "Confirm award");
    confirm.addEventListener("click", () => {
      void (async () => {
        confirm.disabled = true;
        try {
          await authed((tok) => confirmAward(tok, t.id));
        } catch (err) {
          confirm.disabled = false;
          replace(problem, errorSummary(err));
          problem.querySelector<HTMLElement>(".nhsuk-error-summary")?.focus();
          return;
        }
        reload(banner("success", "The award is final", "The tender page now shows the winner and the award value."));
      })();
    });
    section.append(
      problem,
      h(
        "p",
        null,
        "Awarded to ",
        h("strong", null, t.award?.supplier.name ?? "a bidder"),
        t.award ? ` for ${formatPence(t.award.value_pence)}` : "",
        ". The standstill ends ",
        h("time", { datetime: t.standstill_ends_at ?? "" }, formatDateTime(t.standstill_ends_at ?? "")),
        ".",
      ),
      t.award?.reason ? h("p", { class: "nhsuk-hint" }, `Reason: ${t.award.reason}`) : "",
      confirm,
      h("h3", { class: "nhsuk-heading-m" }, "Revoke the award"),
      reasonForm(
        "revoke-reason",
        "Reason for revoking",
        "The tender is closed again, to be scored and awarded anew.",
        "Revoke the award",
        async (reason) => {
          await authed((tok) => revokeAward(tok, t.id, reason));
          return banner("success", "The award is revoked", "The tender is closed again.");
        },
        reload,
        true,
      ),
    );
    return section;
  }
  if (t.status === "awarded" && t.award) {
    section.append(h("p", null, `Awarded to ${t.award.supplier.name} for ${formatPence(t.award.value_pence)}; final on ${formatDateTime(t.awarded_at ?? "")}.`));
    return section;
  }
  return null;
}

const scoreNames: [string, string][] = [
  ["0", "0 – Unacceptable"],
  ["1", "1 – Poor"],
  ["2", "2 – Acceptable"],
  ["3", "3 – Good"],
  ["4", "4 – Excellent"],
];

function scoringSection(c: Comparison, t: Tender, reload: (b: HTMLElement | null) => void): HTMLElement {
  const quality = t.criteria.filter((k) => k.kind === "quality");
  const bids = c.rows.filter((r) => !r.in_house && r.bid_id);
  return h(
    "section",
    { class: "section", id: "scoring" },
    h("h2", { class: "nhsuk-heading-l" }, "Score the bids"),
    h("p", { class: "nhsuk-hint" }, "Score each quality criterion from 0 to 4 with a written justification. You can change your scores until the award is decided."),
    bids.map((r, i) => scoreForm(t, r, i, quality, reload)),
  );
}

function scoreForm(t: Tender, r: ComparisonRow, i: number, quality: Criterion[], reload: (b: HTMLElement | null) => void): HTMLElement {
  const name = supplierName(r);
  const items = quality.map((k) => ({
    key: k.key,
    score: selectInput({ id: `score-${i}-${k.key}`, label: `${k.name}: score`, options: scoreNames, blank: "Choose a score" }),
    why: textInput({ id: `why-${i}-${k.key}`, label: `${k.name}: justification`, rows: 3 }),
  }));
  const fields: Field[] = items.flatMap((it) => [it.score.field, it.why.field]);
  const resolve = (f: string): Field | null => {
    const m = /^scores\.([^.]+)(?:\.(score|justification))?$/.exec(f);
    const it = m ? items.find((x) => x.key === m[1]) : undefined;
    if (!it) return null;
    return m![2] === "justification" ? it.why.field : it.score.field;
  };
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, `Save the scores for ${name}`);
  const form = h(
    "form",
    { class: "form score-form", novalidate: true, "data-bid": r.bid_id ?? "" },
    h("h3", { class: "nhsuk-heading-m" }, name),
    h("p", { class: "nhsuk-hint" }, `Price ${formatPence(r.price_pence)}`),
    problem,
    items.map((it) => h("div", { class: "score-form__criterion" }, it.score.field.wrapper, it.why.field.wrapper)),
    submit,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    // A missing score is caught here; the justification rules are the API's.
    const errors: FieldError[] = items.filter((it) => it.score.control.value === "").map((it) => ({ field: `scores.${it.key}.score`, message: "Choose a score from 0 to 4" }));
    if (errors.length) {
      showProblem(problem, invalid(errors), fields, resolve);
      return;
    }
    const scores = Object.fromEntries(items.map((it) => [it.key, { score: Number(it.score.control.value), justification: it.why.control.value.trim() }]));
    void (async () => {
      submit.disabled = true;
      try {
        await authed((tok) => putScores(tok, t.id, r.bid_id!, { scores }));
      } catch (err) {
        submit.disabled = false;
        showProblem(problem, err, fields, resolve);
        return;
      }
      reload(banner("success", `Your scores for ${name} are saved`, "The comparison below includes them."));
    })();
  });
  return form;
}

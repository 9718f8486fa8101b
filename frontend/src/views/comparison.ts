// The comparison of a closed tender's bids, side by side with the in-house
// option, for a commissioner's buyer who has declared no conflict; where the
// evaluators score each bid and the lead CCG's buyer decides the award.
import {
  awardTender,
  confirmAward,
  endUnsuccessful,
  getComparisonCSV,
  getTender,
  getScores,
  getWholeComparison,
  moderateScore,
  putScores,
  revokeAward,
  type Comparison,
  type ComparisonRow,
  type Criterion,
  type FieldError,
  type Me,
  type Tender,
} from "../api/client";
import { stackedBars } from "../charts";
import { countdown } from "../countdown";
import { h, replace, scrollBox } from "../dom";
import { rerank } from "../rank";
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
    scrollBox(table),
    csv,
    pointsChart(c),
    weightSlider(c),
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
    lead && t.status === "closed" ? moderationSection(c, t, reload) : null,
  ];
}

// pointsChart is each row's points per criterion as a stacked bar; the
// comparison table above holds the same figures.
function pointsChart(c: Comparison): HTMLElement {
  const series = c.criteria.map((k) => k.name);
  return h(
    "section",
    { class: "section", id: "points-chart" },
    h("h2", { class: "nhsuk-heading-l" }, "Points by criterion"),
    h("p", { class: "nhsuk-hint" }, "Each bar is a row of the table above, its parts the points for each criterion; the in-house option has a dashed outline. The table has the same figures."),
    stackedBars(
      c.rows.map((r) => ({
        label: r.in_house ? "In-house option" : r.supplier.name,
        marked: r.in_house,
        segments: c.criteria.map((k) => ({ label: k.name, value: r.scores[k.key] ?? 0 })),
        total: points.format(r.total),
      })),
      series,
      100,
    ),
  );
}

// weightSlider re-ranks the rows in the browser for another price weight
// (quality weights scaled to fill the rest), beside the range over which
// the API's leader stays first.
function weightSlider(c: Comparison): HTMLElement | null {
  const price = c.criteria.find((k) => k.kind === "price");
  if (!price || c.rows.length === 0) return null;
  const w0 = price.weight;
  const s = c.sensitivity;
  const input = h("input", { type: "range", class: "app-slider", id: "price-weight", min: 10, max: 90, step: 1, value: w0, "aria-describedby": "price-weight-hint" });
  const said = h("p", { role: "status", "aria-live": "polite", id: "price-weight-status" });
  const body = h("tbody");
  const show = () => {
    const w = Number(input.value);
    const ranked = rerank(c.rows, price.key, w0, w);
    input.setAttribute("aria-valuetext", `Price ${w}%, quality ${100 - w}%`);
    const first = ranked[0]!;
    said.textContent = `At a price weight of ${w}% (quality ${100 - w}%), ${first.row.in_house ? "the in-house option" : first.row.supplier.name} ranks first with ${points.format(first.total)} points.`;
    replace(
      body,
      ranked.map((r) =>
        h(
          "tr",
          { "data-bid": r.row.bid_id ?? "in-house" },
          h("td", { class: "num" }, String(r.rank)),
          h("th", { scope: "row" }, r.row.in_house ? "In-house option" : r.row.supplier.name),
          h("td", { class: "num" }, points.format(r.price)),
          h("td", { class: "num" }, points.format(r.quality)),
          h("td", { class: "num" }, points.format(r.total)),
        ),
      ),
    );
  };
  input.addEventListener("input", show);
  show();
  return h(
    "section",
    { class: "section", id: "reweight" },
    h("h2", { class: "nhsuk-heading-l" }, "Try another price weight"),
    h(
      "div",
      { class: "nhsuk-form-group" },
      h("label", { class: "nhsuk-label", for: "price-weight" }, "Price weight (%)"),
      h(
        "p",
        { class: "nhsuk-hint", id: "price-weight-hint" },
        `This tender's is ${w0}%. The quality criteria share the rest in their own proportions. The current leader stays first from ${s.price_weight_low}% to ${s.price_weight_high}%.`,
      ),
      input,
    ),
    said,
    scrollBox(
      h(
        "table",
        { class: "nhsuk-table", id: "reweight-table" },
        h("caption", null, "Ranks at the chosen price weight"),
        h("thead", null, h("tr", null, h("th", { scope: "col", class: "num" }, "Rank"), h("th", { scope: "col" }, "Supplier"), h("th", { scope: "col", class: "num" }, "Price points"), h("th", { scope: "col", class: "num" }, "Quality points"), h("th", { scope: "col", class: "num" }, "Total"))),
        body,
      ),
    ),
  );
}

// moderationSection lets the lead CCG's buyer read every evaluator's scores
// of each bid and record a moderated score with its reason.
function moderationSection(c: Comparison, t: Tender, reload: (b: HTMLElement | null) => void): HTMLElement {
  const quality = t.criteria.filter((k) => k.kind === "quality");
  const section = h(
    "section",
    { class: "section", id: "moderation" },
    h("h2", { class: "nhsuk-heading-l" }, "Moderate the scores"),
    h("p", { class: "nhsuk-hint" }, "Every evaluator's scores of each bid. A moderated score replaces the evaluators' mean for that criterion in the comparison; give the reason."),
  );
  c.rows
    .filter((r) => !r.in_house && r.bid_id)
    .forEach((r, i) => {
      const box = h("div", { class: "moderation", "data-bid": r.bid_id! }, h("h3", { class: "nhsuk-heading-m" }, supplierName(r)), h("p", { role: "status", class: "nhsuk-body-s" }, "Loading the evaluators' scores…"));
      section.append(box);
      void authed((tok) => getScores(tok, t.id, r.bid_id!))
        .then((bs) => {
          const evaluators = bs.evaluators ?? [];
          box.querySelector("[role=status]")!.textContent = evaluators.length ? `${evaluators.length} evaluator${evaluators.length === 1 ? "" : "s"} scored this bid.` : "No evaluator has scored this bid yet.";
          if (evaluators.length) {
            box.append(
              h(
                "table",
                { class: "nhsuk-table" },
                h("caption", { class: "nhsuk-u-visually-hidden" }, `Evaluators' scores for ${supplierName(r)}`),
                h("thead", null, h("tr", null, h("th", { scope: "col" }, "Evaluator"), quality.map((k) => h("th", { scope: "col" }, k.name)))),
                h(
                  "tbody",
                  null,
                  evaluators.map((e, n) =>
                    h("tr", null, h("th", { scope: "row" }, `Evaluator ${n + 1}`), quality.map((k) => h("td", null, e.scores[k.key] ? `${e.scores[k.key]!.score}: ${e.scores[k.key]!.justification}` : "Not scored"))),
                  ),
                ),
              ),
            );
          }
          for (const m of bs.moderations ?? []) {
            const k = quality.find((q) => q.key === m.criterion);
            box.append(h("p", { class: "nhsuk-inset-text" }, `${k?.name ?? m.criterion} moderated to ${m.score}: ${m.reason}`));
          }
          box.append(moderateForm(t, r, i, quality, reload));
        })
        .catch((err) => box.append(errorSummary(err)));
    });
  return section;
}

function moderateForm(t: Tender, r: ComparisonRow, i: number, quality: Criterion[], reload: (b: HTMLElement | null) => void): HTMLElement {
  const criterion = selectInput({ id: `mod-${i}-criterion`, label: "Criterion", options: quality.map((k) => [k.key, k.name]), value: quality[0]?.key ?? "" });
  const score = selectInput({ id: `mod-${i}-score`, label: "Moderated score", options: scoreNames, blank: "Choose a score" });
  const reason = textInput({ id: `mod-${i}-reason`, label: "Reason for moderating", rows: 3 });
  const fields = [criterion.field, score.field, reason.field];
  const resolve = (f: string): Field | null => (f === "criterion" ? criterion.field : f === "score" ? score.field : f === "reason" ? reason.field : null);
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button nhsuk-button--secondary" }, `Moderate the score for ${supplierName(r)}`);
  const form = h("form", { class: "form", novalidate: true }, problem, criterion.field.wrapper, score.field.wrapper, reason.field.wrapper, submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const errors: FieldError[] = [];
    if (score.control.value === "") errors.push({ field: "score", message: "Choose a score from 0 to 4" });
    if (!reason.control.value.trim()) errors.push({ field: "reason", message: "Enter the reason" });
    if (errors.length) {
      showProblem(problem, invalid(errors), fields, resolve);
      return;
    }
    void (async () => {
      submit.disabled = true;
      try {
        await authed((tok) => moderateScore(tok, t.id, r.bid_id!, criterion.control.value, Number(score.control.value), reason.control.value.trim()));
      } catch (err) {
        submit.disabled = false;
        showProblem(problem, err, fields, resolve);
        return;
      }
      reload(banner("success", `The score for ${supplierName(r)} is moderated`, "The comparison above includes it."));
    })();
  });
  return form;
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
        countdown(t.standstill_ends_at ?? ""),
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
  // Scores saved earlier are read back into the form.
  const saved = h("p", { role: "status", class: "nhsuk-body-s" });
  problem.after(saved);
  void authed((tok) => getScores(tok, t.id, r.bid_id!))
    .then((bs) => {
      let n = 0;
      for (const it of items) {
        const got = bs.scores[it.key];
        if (!got || it.score.control.value !== "" || it.why.control.value !== "") continue;
        it.score.control.value = String(got.score);
        it.why.control.value = got.justification;
        n++;
      }
      if (n) saved.textContent = `Your saved scores are shown${bs.updated_at ? `, last saved ${formatDateTime(bs.updated_at)}` : ""}.`;
    })
    .catch(() => (saved.textContent = "Your saved scores could not be read back; reload the page to try again."));
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

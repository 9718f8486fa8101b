// One tender: what anyone may read, and what the signed-in user may do with
// it: a supplier asks questions and bids; a commissioner's buyer answers
// questions and, after the deadline, declares its interests and compares.
import {
  ApiError,
  answerQuestion,
  askQuestion,
  assignEvaluator,
  cancelTender,
  declareConflicts,
  listEvaluatorCandidates,
  type Evaluator,
  type EvaluatorCandidate,
  getFeedback,
  getTender,
  listBids,
  listEvaluators,
  listQuestions,
  ocdsUrl,
  reviseBid,
  submitBid,
  withdrawBid,
  type Bid,
  type BidInput,
  type FieldError,
  type Me,
  type Question,
  type Tender,
} from "../api/client";
import { countdown } from "../countdown";
import { h, replace, scrollBox } from "../dom";
import { formatDateTime, formatPence, sectorLabels, tagClass } from "../format";
import type { Reference } from "../reference";
import { authed } from "../session";
import { banner, choices, invalid, parsePounds, penceToPounds, selectInput, showProblem, textInput, type Field } from "./form";
import { statusTag } from "./opportunities";
import { supplierPicker } from "./supplierpicker";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

/** isCommissioner says whether me buys for one of the tender's commissioners. */
export function isCommissioner(me: Me | null, t: Tender): boolean {
  return !!me && me.role === "buyer" && t.commissioners.some((c) => c.id === me.organisation.id);
}

function row(term: string, value: Node | string): HTMLElement {
  return h("div", { class: "nhsuk-summary-list__row" }, h("dt", { class: "nhsuk-summary-list__key" }, term), h("dd", { class: "nhsuk-summary-list__value" }, value));
}

function paragraphs(text: string, className?: string): HTMLElement[] {
  return text
    .split(/\n\s*\n/)
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => h("p", { class: className ?? null }, t));
}

function time(rfc3339: string | undefined): Node | string {
  return rfc3339 ? h("time", { datetime: rfc3339 }, formatDateTime(rfc3339)) : "Not set";
}

function percent(ppm: number): string {
  return `${(ppm / 10000).toLocaleString("en-GB", { maximumFractionDigits: 2 })}%`;
}

/**
 * tenderPage shows tender id. notice, when given, is a banner shown on top
 * (e.g. "Your tender is published").
 */
export async function tenderPage(id: string, me: Me | null, ref: Reference, notice: HTMLElement | null, signal: AbortSignal): Promise<Page> {
  const root = h("div", { class: "tender" });
  let title = "Tender";
  const load = async (top: HTMLElement | null, focus: boolean): Promise<void> => {
    let t: Tender;
    let questions: Question[];
    try {
      // A signed-in caller sees more: a commissioner the baseline and every question, a supplier its own.
      const read = (tok: string | null) => Promise.all([getTender(id, tok, signal).then((r) => r.tender), listQuestions(id, tok, signal)]);
      [t, questions] = await (me ? authed(read) : read(null));
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      title = "Tender not found";
      replace(
        root,
        h("a", { href: "?page=opportunities", class: "nhsuk-back-link" }, "Back to opportunities"),
        h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Sorry, this tender could not be shown"),
        errorSummary(err),
      );
      return;
    }
    title = t.title;
    const reload = (b: HTMLElement | null) => void load(b, true);
    const parts: (HTMLElement | null)[] = [
      h("a", { href: "?page=opportunities", class: "nhsuk-back-link" }, "Back to opportunities"),
      top,
      h("span", { class: "nhsuk-caption-l" }, statusTag(t.status), " ", t.commissioners[0]?.name ?? ""),
      h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, t.title),
      ...paragraphs(t.description, "nhsuk-lede-text"),
      awardPanel(t),
      details(t, ref),
      criteriaTable(t),
      commissionersTable(t),
      baseline(t),
      questionsSection(t, questions, me, reload),
    ];
    if (me?.role === "supplier" && t.status !== "draft") parts.push(await bidSection(t, me, reload, signal));
    if (me?.role === "supplier" && (t.status === "standstill" || t.status === "awarded")) parts.push(await feedbackSection(t, me, signal));
    const evaluator = me?.role === "evaluator" && t.commissioners.some((c) => c.id === me.organisation.id);
    if (isCommissioner(me, t) || evaluator) parts.push(await evaluationSection(t, me!, reload, signal));
    const lead = me?.role === "buyer" && me.organisation.id === t.buyer_id;
    if (lead && t.status === "draft") parts.splice(4, 0, h("p", null, h("a", { href: `?page=edit-tender&id=${encodeURIComponent(t.id)}`, class: "nhsuk-button nhsuk-button--secondary", draggable: "false" }, "Edit the draft")));
    if (lead && ["draft", "open", "closed", "standstill"].includes(t.status)) parts.push(cancelSection(t, reload));
    if (t.status !== "draft") parts.push(openData(t));
    replace(root, ...parts);
    if (focus) (root.querySelector<HTMLElement>(".nhsuk-notification-banner") ?? root.querySelector<HTMLElement>("h1"))?.focus();
  };
  await load(notice, false);
  return { el: root, title };
}

function awardPanel(t: Tender): HTMLElement | null {
  if (t.status === "awarded" && t.award) {
    return h(
      "div",
      { class: "nhsuk-inset-text award" },
      h("h2", { class: "nhsuk-heading-m" }, "Awarded"),
      h(
        "p",
        null,
        "This contract was awarded to ",
        h("strong", null, t.award.supplier.name),
        t.award.supplier.sector ? ` (${sectorLabels[t.award.supplier.sector]})` : "",
        " for ",
        h("strong", null, formatPence(t.award.value_pence)),
        t.awarded_at ? ` on ${formatDateTime(t.awarded_at)}.` : ".",
      ),
    );
  }
  if (t.status === "cancelled") return h("div", { class: "nhsuk-inset-text" }, h("h2", { class: "nhsuk-heading-m" }, "Cancelled"), h("p", null, t.cancel_reason ?? ""));
  if (t.status === "unsuccessful")
    return h("div", { class: "nhsuk-inset-text" }, h("h2", { class: "nhsuk-heading-m" }, "Ended without award"), h("p", null, t.unsuccessful_reason ?? ""));
  return null;
}

function details(t: Tender, ref: Reference): HTMLElement {
  return h(
    "dl",
    { class: "nhsuk-summary-list" },
    row("Budget", t.budget_pence ? `Up to ${formatPence(t.budget_pence)}` : "Not given"),
    row("Contract length", t.contract_months ? `${t.contract_months} months` : "Not given"),
    row(
      "Capabilities",
      t.capabilities.length ? h("ul", { class: "chips" }, t.capabilities.map((c) => h("li", { class: "chip" }, ref.capabilityName(c)))) : "None listed",
    ),
    row("Regions", t.regions.map((r) => ref.regionName(r)).join(", ") || "None listed"),
    row("Questions close", time(t.clarification_deadline)),
    row("Bids close", time(t.bid_deadline)),
    t.published_at ? row("Published", time(t.published_at)) : null,
    t.standstill_ends_at && t.status === "standstill" ? row("Standstill ends", countdown(t.standstill_ends_at)) : null,
  );
}

function criteriaTable(t: Tender): HTMLElement {
  return h(
    "section",
    { class: "section" },
    h("h2", { class: "nhsuk-heading-l" }, "How bids are scored"),
    h(
      "table",
      { class: "nhsuk-table" },
      h("caption", { class: "nhsuk-u-visually-hidden" }, "Award criteria and their weights"),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Criterion"), h("th", { scope: "col" }, "Kind"), h("th", { scope: "col", class: "num" }, "Weight"))),
      h(
        "tbody",
        null,
        t.criteria.map((c) =>
          h(
            "tr",
            null,
            h("th", { scope: "row" }, c.name, c.description ? h("span", { class: "table__hint" }, c.description) : null),
            h("td", null, c.kind === "price" ? "Price" : "Quality"),
            h("td", { class: "num" }, `${c.weight}%`),
          ),
        ),
      ),
    ),
  );
}

function commissionersTable(t: Tender): HTMLElement {
  return h(
    "section",
    { class: "section" },
    h("h2", { class: "nhsuk-heading-l" }, t.commissioners.length > 1 ? "Commissioners" : "Commissioner"),
    h("p", { class: "nhsuk-hint" }, "Each CCG pays a share of the contract by its registered population."),
    h(
      "table",
      { class: "nhsuk-table" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "CCG"), h("th", { scope: "col", class: "num" }, "Population"), h("th", { scope: "col", class: "num" }, "Cost share"))),
      h(
        "tbody",
        null,
        t.commissioners.map((c) =>
          h(
            "tr",
            null,
            h("th", { scope: "row" }, c.name, c.lead ? h("span", { class: "table__hint" }, "Lead commissioner") : null),
            h("td", { class: "num" }, c.population.toLocaleString("en-GB")),
            h("td", { class: "num" }, percent(c.cost_share_ppm)),
          ),
        ),
      ),
    ),
  );
}

function baseline(t: Tender): HTMLElement | null {
  const b = t.in_house_baseline;
  if (!b) return null;
  return h(
    "section",
    { class: "section" },
    h("h2", { class: "nhsuk-heading-l" }, "In-house option"),
    h("p", { class: "nhsuk-hint" }, "Only your CCG and joint commissioners see this. It is compared with the bids after the deadline."),
    h(
      "dl",
      { class: "nhsuk-summary-list" },
      row("Cost", formatPence(b.price_pence)),
      t.criteria.filter((c) => c.kind === "quality").map((c) => row(c.name, b.scores[c.key] === undefined ? "Not scored" : `${b.scores[c.key]} out of 4`)),
    ),
  );
}

function questionsSection(t: Tender, questions: Question[], me: Me | null, reload: (b: HTMLElement | null) => void): HTMLElement {
  const answered = questions.filter((q) => q.answered_at);
  const waiting = questions.filter((q) => !q.answered_at);
  const commissioner = isCommissioner(me, t);
  const section = h(
    "section",
    { class: "section", id: "questions" },
    h("h2", { class: "nhsuk-heading-l" }, "Questions and answers"),
    answered.length
      ? h(
          "ul",
          { class: "qa-list" },
          answered.map((q) => h("li", { class: "qa" }, h("p", { class: "qa__q" }, h("strong", null, "Q: "), q.question), h("p", { class: "qa__a" }, h("strong", null, "A: "), q.answer ?? ""))),
        )
      : h("p", null, "No questions have been answered yet."),
  );
  if (waiting.length) {
    section.append(
      h("h3", { class: "nhsuk-heading-m" }, commissioner ? "Waiting for your answer" : "Your questions waiting for an answer"),
      h(
        "ul",
        { class: "qa-list" },
        waiting.map((q) => h("li", { class: "qa qa--waiting" }, h("p", { class: "qa__q" }, h("strong", null, "Q: "), q.question), commissioner ? answerForm(t, q, reload) : h("p", { class: "nhsuk-hint" }, `Asked ${formatDateTime(q.asked_at)}`))),
      ),
    );
  }
  if (me?.role === "supplier" && t.status === "open") {
    section.append(t.questions_open ? askForm(t, reload) : h("p", null, `Questions closed ${formatDateTime(t.clarification_deadline ?? "")}.`));
  }
  return section;
}

function askForm(t: Tender, reload: (b: HTMLElement | null) => void): HTMLElement {
  const q = textInput({ id: "ask-question", label: "Ask a question", rows: 4, hint: "The question and its answer are published for every supplier to read, without your name." });
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, "Send your question");
  const form = h("form", { class: "form", novalidate: true }, problem, q.field.wrapper, submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = q.control.value.trim();
    if (!text) {
      showProblem(problem, invalid([{ field: "question", message: "Enter your question" }]), [q.field], () => q.field);
      return;
    }
    void (async () => {
      submit.disabled = true;
      try {
        await authed((tok) => askQuestion(tok, t.id, text));
      } catch (err) {
        submit.disabled = false;
        showProblem(problem, err, [q.field], (f) => (f === "question" ? q.field : null));
        return;
      }
      reload(banner("success", "Your question has been sent", "The commissioner's answer will be published here for every supplier."));
    })();
  });
  return form;
}

function answerForm(t: Tender, q: Question, reload: (b: HTMLElement | null) => void): HTMLElement {
  const a = textInput({ id: `answer-${q.id}`, label: "Your answer", rows: 3, hint: "Published with the question for everyone; who asked is never shown." });
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button nhsuk-button--secondary" }, "Publish the answer");
  const form = h("form", { class: "form form--inline", novalidate: true }, problem, a.field.wrapper, submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = a.control.value.trim();
    if (!text) {
      showProblem(problem, invalid([{ field: "answer", message: "Enter your answer" }]), [a.field], () => a.field);
      return;
    }
    void (async () => {
      submit.disabled = true;
      try {
        await authed((tok) => answerQuestion(tok, t.id, q.id, text));
      } catch (err) {
        submit.disabled = false;
        showProblem(problem, err, [a.field], (f) => (f === "answer" ? a.field : null));
        return;
      }
      reload(banner("success", "Your answer is published", "Every supplier can now read the question and your answer."));
    })();
  });
  return form;
}

async function bidSection(t: Tender, me: Me, reload: (b: HTMLElement | null) => void, signal: AbortSignal): Promise<HTMLElement> {
  const section = h("section", { class: "section", id: "your-bid" }, h("h2", { class: "nhsuk-heading-l" }, "Your bid"));
  let bids: Bid[];
  try {
    bids = await authed((tok) => listBids(tok, t.id, signal));
  } catch (err) {
    section.append(errorSummary(err));
    return section;
  }
  const live = bids.find((b) => b.status === "submitted");
  const withdrawn = bids.filter((b) => b.status === "withdrawn");
  if (live) {
    section.append(
      h(
        "dl",
        { class: "nhsuk-summary-list" },
        row("Status", h("strong", { class: tagClass("open") }, "Submitted")),
        row("Price", formatPence(live.price_pence)),
        row("Version", String(live.version)),
        row("Last changed", time(live.updated_at)),
        t.criteria.filter((c) => c.kind === "quality").map((c) => row(c.name, live.responses[c.key] ?? "")),
      ),
    );
  } else if (withdrawn.length) {
    section.append(h("p", null, `You withdrew your bid on ${formatDateTime(withdrawn[withdrawn.length - 1]!.withdrawn_at ?? "")}.`));
  }
  if (t.status !== "open") {
    if (!live && !withdrawn.length) section.append(h("p", null, `${me.organisation.name} did not bid for this tender.`));
    else section.append(h("p", { class: "nhsuk-hint" }, "The bid deadline has passed: bids can no longer be changed."));
    return section;
  }
  section.append(h("p", { class: "nhsuk-hint" }, `Bids are sealed: no one else sees yours until the deadline, ${formatDateTime(t.bid_deadline ?? "")}. You can change or withdraw it until then.`));
  section.append(bidForm(t, live ?? null, reload));
  if (live) section.append(withdrawControl(t, live, reload));
  return section;
}

function bidForm(t: Tender, live: Bid | null, reload: (b: HTMLElement | null) => void): HTMLElement {
  const price = textInput({
    id: "bid-price",
    label: "Total price",
    hint: "In pounds, for the whole contract, for example 420000 or 420,000.50.",
    inputmode: "decimal",
    width: "m",
    prefix: "£",
    value: live ? penceToPounds(live.price_pence) : "",
  });
  const quality = t.criteria.filter((c) => c.kind === "quality");
  const responses = quality.map((c) => ({
    key: c.key,
    input: textInput({ id: `bid-${c.key}`, label: `${c.name} (${c.weight}%)`, hint: c.description, rows: 6, value: live?.responses[c.key] ?? "" }),
  }));
  const fields: Field[] = [price.field, ...responses.map((r) => r.input.field)];
  const resolve = (f: string): Field | null => {
    if (f === "price_pence") return price.field;
    const m = /^responses\.(.+)$/.exec(f);
    return m ? (responses.find((r) => r.key === m[1])?.input.field ?? null) : null;
  };
  const problem = h("div");
  const label = live ? "Save the changes to your bid" : "Submit your bid";
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, label);
  const form = h(
    "form",
    { class: "form", novalidate: true },
    h("h3", { class: "nhsuk-heading-m" }, live ? "Change your bid" : "Submit a bid"),
    problem,
    price.field.wrapper,
    responses.map((r) => r.input.field.wrapper),
    submit,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const errors: FieldError[] = [];
    const pence = parsePounds(price.control.value);
    if (pence === null || pence <= 0) errors.push({ field: "price_pence", message: "Enter your price in pounds, for example 420000" });
    for (const r of responses) if (!r.input.control.value.trim()) errors.push({ field: `responses.${r.key}`, message: "Enter your response" });
    if (errors.length) {
      showProblem(problem, invalid(errors), fields, resolve);
      return;
    }
    const body: BidInput = { price_pence: pence!, responses: Object.fromEntries(responses.map((r) => [r.key, r.input.control.value.trim()])) };
    void (async () => {
      submit.disabled = true;
      submit.textContent = "Sending…";
      try {
        await authed((tok) => (live ? reviseBid(tok, t.id, live.id, body) : submitBid(tok, t.id, body)));
      } catch (err) {
        submit.disabled = false;
        submit.textContent = label;
        showProblem(problem, err, fields, resolve);
        return;
      }
      reload(
        banner(
          "success",
          live ? "Your bid has been changed" : "Your bid has been submitted",
          `It stays sealed until the deadline, ${formatDateTime(t.bid_deadline ?? "")}.`,
        ),
      );
    })();
  });
  return form;
}

function withdrawControl(t: Tender, live: Bid, reload: (b: HTMLElement | null) => void): HTMLElement {
  const box = h("div", { class: "section" });
  const problem = h("div");
  const start = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Withdraw your bid");
  const ask = () => {
    const yes = h("button", { type: "button", class: "nhsuk-button nhsuk-button--warning" }, "Yes, withdraw the bid");
    const no = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Keep the bid");
    no.addEventListener("click", () => {
      replace(box, problem, start);
      start.focus();
    });
    yes.addEventListener("click", () => {
      void (async () => {
        yes.disabled = true;
        try {
          await authed((tok) => withdrawBid(tok, t.id, live.id));
        } catch (err) {
          yes.disabled = false;
          replace(problem, errorSummary(err));
          problem.querySelector<HTMLElement>(".nhsuk-error-summary")?.focus();
          return;
        }
        reload(banner("success", "Your bid has been withdrawn", "You may submit a new bid until the deadline."));
      })();
    });
    replace(box, problem, h("p", null, h("strong", null, "Withdraw your bid? "), "It will not be considered. You can submit a new one before the deadline."), h("div", { class: "nhsuk-button-group" }, yes, no));
    yes.focus();
  };
  start.addEventListener("click", ask);
  replace(box, problem, start);
  return box;
}

async function evaluationSection(t: Tender, me: Me, reload: (b: HTMLElement | null) => void, signal: AbortSignal): Promise<HTMLElement> {
  const section = h("section", { class: "section", id: "evaluation" }, h("h2", { class: "nhsuk-heading-l" }, "Evaluation"));
  const lead = me.role === "buyer" && me.organisation.id === t.buyer_id;
  if (t.status === "cancelled" || t.status === "unsuccessful") {
    section.append(h("p", null, "There are no bids to evaluate."));
    return section;
  }
  let evaluators: Evaluator[];
  try {
    evaluators = await authed((tok) => listEvaluators(tok, t.id, signal));
  } catch (err) {
    section.append(errorSummary(err));
    return section;
  }
  const mine = evaluators.find((e) => e.user_id === me.user.id);
  if (lead && (t.status === "draft" || t.status === "open" || t.status === "closed")) section.append(await evaluatorsPanel(t, evaluators, reload, signal));
  if (t.status === "draft" || t.status === "open") {
    section.append(h("p", null, t.status === "open" ? `Bids are sealed until the deadline, ${formatDateTime(t.bid_deadline ?? "")}. After it you can compare and score them.` : "Once the tender is published and its deadline has passed, the bids are compared here."));
  }
  const compare = h("p", null, h("a", { href: `?page=comparison&id=${encodeURIComponent(t.id)}`, class: "nhsuk-link" }, t.status === "closed" ? "Compare and score the bids" : "Compare the bids"));
  if (mine?.cleared) {
    section.append(h("p", null, `You declared no conflict of interest on ${formatDateTime(mine.declared_at ?? "")}.`));
    if (t.status !== "draft" && t.status !== "open") section.append(compare);
    return section;
  }
  if (mine?.declared) {
    section.append(h("p", null, "You declared a conflict of interest, so you cannot read this tender's bids or scores."));
    return section;
  }
  if (t.status === "draft") return section;
  section.append(await declarationForm(t, reload, signal));
  return section;
}

// evaluatorsPanel lists the tender's evaluators by name and organisation,
// and lets the lead CCG's buyer assign another buyer or evaluator of its
// own CCG or of a joint commissioner, chosen by name under each
// organisation.
async function evaluatorsPanel(t: Tender, evaluators: Evaluator[], reload: (b: HTMLElement | null) => void, signal: AbortSignal): Promise<HTMLElement> {
  let candidates: EvaluatorCandidate[] | null = null;
  try {
    candidates = await authed((tok) => listEvaluatorCandidates(tok, t.id, signal));
  } catch {
    // The evaluators still show, by organisation; assigning needs the list.
  }
  if (signal.aborted) return h("div");
  const byId = new Map((candidates ?? []).map((c) => [c.user_id, c]));
  const orgName = (id: string) => t.commissioners.find((c) => c.id === id)?.name ?? "Another CCG";
  const state = (e: Evaluator) => (!e.declared ? "Not declared yet" : e.conflict ? "Declared a conflict" : "No conflict");
  const box = h(
    "div",
    { id: "evaluators" },
    h("h3", { class: "nhsuk-heading-m" }, "Evaluators"),
    scrollBox(h(
      "table",
      { class: "nhsuk-table" },
      h("caption", { class: "nhsuk-u-visually-hidden" }, "The tender's evaluators"),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Organisation"), h("th", { scope: "col" }, "Declaration"))),
      h(
        "tbody",
        null,
        evaluators.map((e) =>
          h(
            "tr",
            null,
            // A user no longer listed has been disabled or erased since.
            h("th", { scope: "row" }, byId.get(e.user_id)?.name ?? (candidates ? "A former user" : "A commissioner's user")),
            h("td", null, orgName(e.organisation_id)),
            h("td", null, state(e)),
          ),
        ),
      ),
    )),
  );
  if (!candidates) {
    box.append(h("p", null, "The list of people you can assign could not be loaded. Reload the page to try again."));
    return box;
  }
  const free = candidates.filter((c) => !c.assigned && !evaluators.some((e) => e.user_id === c.user_id && e.assigned));
  if (!free.length) return box;
  const groups: { label: string; options: [string, string][] }[] = [];
  for (const c of free) {
    const label = c.lead ? `${c.organisation_name} (your CCG)` : `${c.organisation_name} (joint commissioner)`;
    let g = groups.find((x) => x.label === label);
    if (!g) groups.push((g = { label, options: [] }));
    g.options.push([c.user_id, `${c.name} (${c.role})`]);
  }
  const who = selectInput({
    id: "assign-user",
    label: "Assign an evaluator",
    hint: `A buyer or evaluator of your CCG${t.commissioners.length > 1 ? " or of a joint commissioner" : ""}. They declare their interests before they can read the bids.`,
    blank: "Choose who will evaluate",
    options: [],
    groups,
  });
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button nhsuk-button--secondary" }, "Assign");
  const form = h("form", { class: "form", novalidate: true }, problem, who.field.wrapper, submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!who.control.value) {
      showProblem(problem, invalid([{ field: "user_id", message: "Choose who will evaluate" }]), [who.field], () => who.field);
      return;
    }
    const chosen = byId.get(who.control.value);
    void (async () => {
      submit.disabled = true;
      try {
        await authed((tok) => assignEvaluator(tok, t.id, who.control.value));
      } catch (err) {
        submit.disabled = false;
        showProblem(problem, err, [who.field], (f) => (f === "user_id" ? who.field : null));
        return;
      }
      reload(banner("success", chosen ? `${chosen.name} is assigned` : "The evaluator is assigned", "They declare their interests before they can read the bids."));
    })();
  });
  box.append(form);
  return box;
}

// declarationForm records the caller's declaration of interests: none, or
// a conflict naming suppliers, with details.
async function declarationForm(t: Tender, reload: (b: HTMLElement | null) => void, signal: AbortSignal): Promise<HTMLElement> {
  // Which suppliers and the details are asked only of a yes: the design
  // system's conditional reveal, below that radio.
  const suppliers = supplierPicker({ id: "declare-suppliers", label: "Which suppliers?" }, signal);
  const details = textInput({ id: "declare-details", label: "Details of the conflict", rows: 3, hint: "For example, a close relative works for the supplier." });
  const more = h("div", { id: "declare-more" }, suppliers.field.wrapper, details.field.wrapper);
  const answer = choices("radio", {
    id: "declare-conflict",
    label: "Do you have a conflict of interest with any supplier?",
    hint: "A financial, personal or professional interest in a bidder. Your declaration is recorded in the tender's audit trail and cannot be changed.",
    options: [
      ["no", "No, I have no conflict of interest"],
      ["yes", "Yes, I have a conflict of interest"],
    ],
    conditional: { yes: more },
  });
  const fields = [answer.field, suppliers.field, details.field];
  const resolve = (f: string): Field | null => (f === "conflict" ? answer.field : f.startsWith("suppliers") ? suppliers.field : f === "details" ? details.field : null);
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, "Record my declaration");
  const form = h("form", { class: "form", novalidate: true, id: "declaration" }, problem, answer.field.wrapper, submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = answer.value()[0];
    const errors: FieldError[] = [];
    if (!v) errors.push({ field: "conflict", message: "Say whether you have a conflict of interest" });
    if (v === "yes" && !details.control.value.trim()) errors.push({ field: "details", message: "Enter the details of the conflict" });
    if (errors.length) {
      showProblem(problem, invalid(errors), fields, resolve);
      return;
    }
    const body = v === "no" ? { conflict: false } : { conflict: true, suppliers: suppliers.value(), details: details.control.value.trim() };
    void (async () => {
      submit.disabled = true;
      try {
        await authed((tok) => declareConflicts(tok, t.id, body));
      } catch (err) {
        submit.disabled = false;
        showProblem(problem, err, fields, resolve);
        return;
      }
      reload(v === "no" ? banner("success", "Your declaration is recorded", "You can now read and compare the bids.") : banner("success", "Your conflict of interest is recorded", "You are barred from this tender's bids and scores."));
    })();
  });
  return form;
}

// cancelSection lets the lead CCG's buyer cancel the tender, with a reason
// that is published.
function cancelSection(t: Tender, reload: (b: HTMLElement | null) => void): HTMLElement {
  const reason = textInput({ id: "cancel-reason", label: "Reason for cancelling", rows: 3, hint: "Published on the tender, and sent to every supplier that bid." });
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button nhsuk-button--warning" }, "Cancel the tender");
  const form = h("form", { class: "form", novalidate: true }, problem, reason.field.wrapper, submit);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = reason.control.value.trim();
    if (!text) {
      showProblem(problem, invalid([{ field: "reason", message: "Enter the reason for cancelling" }]), [reason.field], () => reason.field);
      return;
    }
    void (async () => {
      submit.disabled = true;
      try {
        await authed((tok) => cancelTender(tok, t.id, text));
      } catch (err) {
        submit.disabled = false;
        showProblem(problem, err, [reason.field], (f) => (f === "reason" ? reason.field : null));
        return;
      }
      reload(banner("success", "The tender is cancelled", "The reason is published on the tender."));
    })();
  });
  return h("section", { class: "section", id: "cancel" }, h("h2", { class: "nhsuk-heading-l" }, "Cancel the tender"), form);
}

// feedbackSection is an unsuccessful bidder's own result: its scores, its
// rank among the bidders and the winner's total; never another's price.
async function feedbackSection(t: Tender, me: Me, signal: AbortSignal): Promise<HTMLElement | null> {
  let f: Awaited<ReturnType<typeof getFeedback>>;
  try {
    f = await authed((tok) => getFeedback(tok, t.id, signal));
  } catch (err) {
    // No submitted bid from this organisation: there is no feedback to give.
    if (err instanceof ApiError && err.status === 404) return null;
    if (err instanceof DOMException && err.name === "AbortError") return null;
    return h("section", { class: "section", id: "feedback" }, h("h2", { class: "nhsuk-heading-l" }, "Your feedback"), errorSummary(err));
  }
  if (f.rank === 1 && f.winner.name === me.organisation.name) return null;
  const pts = (n: number) => n.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return h(
    "section",
    { class: "section", id: "feedback" },
    h("h2", { class: "nhsuk-heading-l" }, "Your feedback"),
    h(
      "p",
      null,
      `Your bid ranked ${f.rank} of ${f.bidders} with ${pts(f.total)} points. The winning bid, from ${f.winner.name}, scored ${pts(f.winner.total)} points.`,
    ),
    h(
      "dl",
      { class: "nhsuk-summary-list" },
      row("Your price", formatPence(f.price_pence)),
      t.criteria.map((c) => row(`${c.name} (out of ${c.weight})`, f.scores[c.key] === undefined ? "Not scored" : pts(f.scores[c.key]!))),
      row("Your quality points", pts(f.quality_total)),
      row("Your total", pts(f.total)),
    ),
  );
}

function openData(t: Tender): HTMLElement {
  return h(
    "p",
    { class: "section open-data" },
    h("a", { href: ocdsUrl(t.id), class: "nhsuk-link", type: "application/json" }, "This tender as open data (OCDS JSON)"),
  );
}

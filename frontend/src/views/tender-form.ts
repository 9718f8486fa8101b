// A CCG buyer's form for a new tender: it saves a draft, then publishes it.
// A publication the API refuses leaves the draft saved; the next attempt
// edits that draft (with If-Match) and publishes again.
import { ApiError, createTender, publishTender, updateTender, type Criterion, type FieldError, type Me, type Tender, type TenderInput, type TenderWithTag } from "../api/client";
import { h, replace } from "../dom";
import { localInput, toRFC3339 } from "../format";
import type { Reference } from "../reference";
import { authed } from "../session";
import { banner, choices, invalid, parsePounds, penceToPounds, selectInput, showProblem, textInput, type Field } from "./form";
import type { Page } from "./signin";

interface CriterionRow {
  el: HTMLElement;
  legend: HTMLElement;
  remove: HTMLButtonElement;
  key: ReturnType<typeof textInput>;
  name: ReturnType<typeof textInput>;
  kind: ReturnType<typeof selectInput>;
  weight: ReturnType<typeof textInput>;
  baseline: ReturnType<typeof selectInput>;
}

const defaultCriteria: Criterion[] = [
  { key: "price", name: "Price", kind: "price", weight: 40 },
  { key: "approach", name: "Approach", kind: "quality", weight: 45 },
  { key: "social_value", name: "Social value", kind: "quality", weight: 15 },
];

/**
 * tenderFormPage is the form; published is called with the tender once it
 * is open. With existing (a draft and its ETag) it edits that draft: Save
 * keeps it a draft (If-Match; a 412 says someone else changed it), Publish
 * saves and publishes.
 */
export function tenderFormPage(me: Me, ref: Reference, published: (t: Tender) => void, existing?: TenderWithTag, saved?: (t: Tender) => void): Page {
  const title = existing ? "Edit the draft tender" : "Publish a tender";
  const x = existing?.tender;
  if (me.role !== "buyer" || me.organisation.kind !== "buyer") {
    return {
      title,
      el: h("div", null, h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title), h("p", null, "Only a CCG's buyers publish tenders. You are signed in for ", me.organisation.name, ".")),
    };
  }
  const tTitle = textInput({ id: "tender-title", label: "Title", value: x?.title ?? "", hint: "Say what support you need, for example Business intelligence for two CCGs." });
  const description = textInput({ id: "tender-description", label: "Description", rows: 8, value: x?.description ?? "", hint: "What the supplier will do, for whom, and what good looks like." });
  const capabilities = choices("checkbox", {
    id: "tender-capabilities",
    label: "Capabilities needed",
    options: ref.capabilities.map((c) => [c.key, c.name]),
    values: x?.capabilities ?? [],
    columns: true,
  });
  const regions = choices("checkbox", {
    id: "tender-regions",
    label: "Regions",
    options: ref.regions.map((r) => [r.key, r.name]),
    values: x?.regions ?? me.organisation.regions,
    columns: true,
  });
  const months = textInput({ id: "tender-months", label: "Contract length in months", inputmode: "numeric", width: "s", value: x?.contract_months ? String(x.contract_months) : "" });
  const budget = textInput({ id: "tender-budget", label: "Budget ceiling", hint: "In pounds, for the whole contract. Bids above it are flagged.", inputmode: "decimal", width: "m", prefix: "£", value: penceToPounds(x?.budget_pence ?? 0) });
  const clarify = textInput({ id: "tender-clarification", label: "Questions close", type: "datetime-local", step: "1", hint: "Suppliers may ask questions until then. Your local time.", value: localInput(x?.clarification_deadline) });
  const deadline = textInput({ id: "tender-bid-deadline", label: "Bids close", type: "datetime-local", step: "1", hint: "Bids are sealed until then. Your local time.", value: localInput(x?.bid_deadline) });
  const baselinePrice = textInput({
    id: "tender-baseline-price",
    label: "In-house cost (optional)",
    hint: "What keeping the support in house would cost, to compare with the bids. Leave empty to compare bids only. Only your CCG and joint commissioners see it.",
    inputmode: "decimal",
    width: "m",
    prefix: "£",
    value: penceToPounds(x?.in_house_baseline?.price_pence ?? 0),
  });

  const rows: CriterionRow[] = [];
  let made = 0;
  const list = h("div", { class: "criteria-list" });
  const add = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Add a criterion");
  const renumber = () =>
    rows.forEach((r, i) => {
      r.legend.textContent = `Criterion ${i + 1}`;
      r.remove.textContent = "";
      r.remove.append("Remove", h("span", { class: "nhsuk-u-visually-hidden" }, ` criterion ${i + 1}`));
    });
  const addRow = (c: Criterion | null, focus: boolean) => {
    const n = ++made;
    const scoreOptions: [string, string][] = [0, 1, 2, 3, 4].map((s) => [String(s), String(s)]);
    const row: CriterionRow = {
      el: h("fieldset", { class: "nhsuk-fieldset criterion-edit" }),
      legend: h("legend", { class: "nhsuk-fieldset__legend" }),
      remove: h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small" }),
      key: textInput({ id: `crit${n}-key`, label: "Key", value: c?.key ?? "", spellcheck: false }),
      name: textInput({ id: `crit${n}-name`, label: "Name", value: c?.name ?? "" }),
      kind: selectInput({ id: `crit${n}-kind`, label: "Kind", options: [["quality", "Quality"], ["price", "Price"]], value: c?.kind ?? "quality" }),
      weight: textInput({ id: `crit${n}-weight`, label: "Weight %", inputmode: "numeric", width: "s", value: c ? String(c.weight) : "" }),
      baseline: selectInput({ id: `crit${n}-baseline`, label: "In-house score", blank: "–", options: scoreOptions }),
    };
    const syncKind = () => (row.baseline.field.wrapper.hidden = row.kind.control.value === "price");
    row.kind.control.addEventListener("change", syncKind);
    syncKind();
    row.el.append(
      row.legend,
      h("div", { class: "field-row criterion-edit__row" }, row.key.field.wrapper, row.name.field.wrapper, row.kind.field.wrapper, row.weight.field.wrapper, row.baseline.field.wrapper),
      row.remove,
    );
    row.remove.addEventListener("click", () => {
      const i = rows.indexOf(row);
      rows.splice(i, 1);
      row.el.remove();
      renumber();
      (rows[i]?.key.control ?? rows[i - 1]?.key.control ?? add).focus();
    });
    rows.push(row);
    list.append(row.el);
    renumber();
    if (focus) row.key.control.focus();
  };
  for (const c of x?.criteria?.length ? x.criteria : defaultCriteria) addRow(c, false);
  for (const r of rows) {
    const v = x?.in_house_baseline?.scores[r.key.control.value];
    if (v !== undefined) r.baseline.control.value = String(v);
  }
  add.addEventListener("click", () => addRow(null, true));

  // The criteria as a whole: where "weights must add up to 100" goes.
  const criteriaWrapper = h("div", { class: "nhsuk-form-group", id: "field-tender-criteria" });
  const criteriaIntro = h("p", { class: "nhsuk-hint", id: "tender-criteria-hint" }, "Weights are whole numbers adding up to 100: one price criterion weighing 10 to 90, and at least one quality criterion. Keys are short names in lower case, such as social_value; bids answer each quality criterion by its key. With an in-house cost below, score the in-house option 0 to 4 on each quality criterion.");
  const criteriaField: Field = { wrapper: criteriaWrapper, focus: add, described: list, before: list };
  criteriaWrapper.append(criteriaIntro, list, add);
  add.dataset.label = "Criteria";

  const staticFields: Field[] = [tTitle.field, description.field, capabilities.field, regions.field, months.field, budget.field, clarify.field, deadline.field, baselinePrice.field, criteriaField];
  const allFields = (): Field[] => [
    ...staticFields,
    ...rows.flatMap((r) => [r.key.field, r.name.field, r.kind.field, r.weight.field, r.baseline.field]),
  ];
  const byName: Record<string, Field> = {
    title: tTitle.field,
    description: description.field,
    capabilities: capabilities.field,
    regions: regions.field,
    contract_months: months.field,
    budget_pence: budget.field,
    clarification_deadline: clarify.field,
    bid_deadline: deadline.field,
    criteria: criteriaField,
    in_house_baseline: baselinePrice.field,
    "in_house_baseline.price_pence": baselinePrice.field,
  };
  const resolve = (field: string): Field | null => {
    const c = /^criteria\[(\d+)\](?:\.(key|name|kind|weight))?$/.exec(field);
    if (c) {
      const row = rows[Number(c[1])];
      return row ? row[(c[2] ?? "key") as "key" | "name" | "kind" | "weight"].field : criteriaField;
    }
    const b = /^in_house_baseline\.scores(?:\.(.+))?$/.exec(field);
    if (b) return rows.find((r) => r.key.control.value.trim() === b[1])?.baseline.field ?? baselinePrice.field;
    return byName[field.replace(/\[\d+\]$/, "")] ?? null;
  };

  const build = (): TenderInput | FieldError[] => {
    const errors: FieldError[] = [];
    const whole = (f: ReturnType<typeof textInput>, field: string, message: string): number | undefined => {
      const v = f.control.value.trim();
      if (!v) return undefined;
      if (!/^\d+$/.test(v)) {
        errors.push({ field, message });
        return undefined;
      }
      return Number(v);
    };
    const pounds = (f: ReturnType<typeof textInput>, field: string): number | undefined => {
      if (!f.control.value.trim()) return undefined;
      const v = parsePounds(f.control.value);
      if (v === null) errors.push({ field, message: "Enter an amount in pounds, for example 250000 or 250,000.50" });
      return v ?? undefined;
    };
    const when = (f: ReturnType<typeof textInput>, field: string): string | undefined => {
      const v = f.control.value.trim();
      if (!v) return undefined;
      const t = toRFC3339(v);
      if (!t) errors.push({ field, message: "Enter a date and time" });
      return t ?? undefined;
    };
    const body: TenderInput = {
      title: tTitle.control.value.trim(),
      description: description.control.value.trim(),
      // The checkboxes offer only keys from the reference data.
      capabilities: capabilities.value() as NonNullable<TenderInput["capabilities"]>,
      regions: regions.value() as NonNullable<TenderInput["regions"]>,
      criteria: rows.map((r, i) => ({
        key: r.key.control.value.trim(),
        name: r.name.control.value.trim(),
        kind: r.kind.control.value as Criterion["kind"],
        weight: whole(r.weight, `criteria[${i}].weight`, "Enter the weight as a whole number, for example 40") ?? 0,
      })),
    };
    const m = whole(months, "contract_months", "Enter the number of months, for example 24");
    if (m !== undefined) body.contract_months = m;
    const b = pounds(budget, "budget_pence");
    if (b !== undefined) body.budget_pence = b;
    const cd = when(clarify, "clarification_deadline");
    if (cd) body.clarification_deadline = cd;
    const bd = when(deadline, "bid_deadline");
    if (bd) body.bid_deadline = bd;
    const bp = pounds(baselinePrice, "in_house_baseline.price_pence");
    if (bp !== undefined) {
      const scores: Record<string, number> = {};
      for (const r of rows) if (r.kind.control.value === "quality" && r.baseline.control.value !== "") scores[r.key.control.value.trim()] = Number(r.baseline.control.value);
      body.in_house_baseline = { price_pence: bp, scores };
    }
    if (!body.title) errors.push({ field: "title", message: "Enter a title" });
    return errors.length ? errors : body;
  };

  // The draft this form has saved, once it has.
  let draft: { id: string; etag: string } | null = existing ? { id: existing.tender.id, etag: existing.etag } : null;
  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, "Publish the tender");
  const saveButton = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Save as a draft");
  const form = h(
    "form",
    { class: "form", novalidate: true, "aria-labelledby": "tender-form-title" },
    h("h2", { class: "nhsuk-heading-l" }, "What you need"),
    tTitle.field.wrapper,
    description.field.wrapper,
    capabilities.field.wrapper,
    regions.field.wrapper,
    h("h2", { class: "nhsuk-heading-l" }, "Contract and deadlines"),
    h("div", { class: "field-row" }, months.field.wrapper, budget.field.wrapper),
    h("div", { class: "field-row" }, clarify.field.wrapper, deadline.field.wrapper),
    h("h2", { class: "nhsuk-heading-l" }, "Award criteria"),
    criteriaWrapper,
    h("h2", { class: "nhsuk-heading-l" }, "In-house option"),
    baselinePrice.field.wrapper,
    h("p", { class: "nhsuk-hint" }, "With an in-house cost, give the in-house option a score (0 to 4) for each quality criterion under Award criteria."),
    h("div", { class: "nhsuk-button-group" }, submit, saveButton),
  );

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = build();
    if (Array.isArray(body)) {
      showProblem(problem, invalid(body), allFields(), resolve);
      return;
    }
    void (async () => {
      submit.disabled = true;
      saveButton.disabled = true;
      submit.textContent = "Publishing…";
      try {
        const t = await authed(async (tok) => {
          await save(tok, body);
          const done = await publishTender(tok, draft!.id);
          return done.tender;
        });
        published(t);
      } catch (err) {
        submit.disabled = false;
        saveButton.disabled = false;
        submit.textContent = "Publish the tender";
        failed(err);
        if (draft && !(err instanceof ApiError && err.status === 412)) {
          problem.append(h("p", { class: "nhsuk-hint" }, "Your tender is saved as a draft. Correct the answers marked and publish again."));
        }
      }
    })();
  });

  // save creates the draft, or changes it with If-Match.
  const save = async (tok: string, body: TenderInput): Promise<Tender> => {
    if (!draft) {
      const made = await createTender(tok, body);
      draft = { id: made.tender.id, etag: made.etag };
      return made.tender;
    }
    // A merge patch: what the form leaves empty is removed from the draft.
    const patch = {
      ...body,
      description: body.description ?? null,
      contract_months: body.contract_months ?? null,
      budget_pence: body.budget_pence ?? null,
      clarification_deadline: body.clarification_deadline ?? null,
      bid_deadline: body.bid_deadline ?? null,
      in_house_baseline: body.in_house_baseline ?? null,
    };
    const done = await updateTender(tok, draft.id, draft.etag, patch);
    draft = { id: done.tender.id, etag: done.etag };
    return done.tender;
  };
  const failed = (err: unknown) => {
    if (err instanceof ApiError && err.status === 412) {
      err = new ApiError(412, err.title, "This draft was changed somewhere else (another tab, or a colleague) after you opened it, so your changes were not saved. Reload the page to see the latest version, then make your changes again.", []);
    }
    showProblem(problem, err, allFields(), resolve);
  };
  saveButton.addEventListener("click", () => {
    const body = build();
    if (Array.isArray(body)) {
      showProblem(problem, invalid(body), allFields(), resolve);
      return;
    }
    void (async () => {
      saveButton.disabled = true;
      try {
        const t = await authed((tok) => save(tok, body));
        replace(problem);
        if (saved) saved(t);
        else problem.append(banner("success", "Your draft is saved", "Suppliers cannot see it until you publish it."));
      } catch (err) {
        failed(err);
      } finally {
        saveButton.disabled = false;
      }
    })();
  });

  const el = h(
    "div",
    { class: "editor" },
    h("span", { class: "nhsuk-caption-l" }, me.organisation.name),
    h("h1", { class: "nhsuk-heading-xl", id: "tender-form-title", tabindex: -1 }, title),
    h("p", { class: "nhsuk-lede-text" }, "Suppliers from every sector see it in Opportunities as soon as it is published."),
    problem,
    form,
  );
  return { el, title };
}

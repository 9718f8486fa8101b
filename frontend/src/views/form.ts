// Form parts shared by the account pages, in the style of the directory's
// filters: a label, an optional hint, and room for an error message that the
// API's problem puts next to the right control.
import { ApiError, type FieldError } from "../api/client";
import { h, replace } from "../dom";
import { errorSummary } from "./problem";

/**
 * Field is one question on a form. An error message goes just before
 * `before`; `described` carries aria-invalid and aria-describedby; `focus` is
 * where the error summary's link moves focus, and its data-label names the
 * question there.
 */
export interface Field {
  wrapper: HTMLElement;
  focus: HTMLElement;
  described: HTMLElement;
  before: Element;
}

interface Common {
  id: string;
  label: string;
  hint?: string;
}

function hintOf(id: string, hint?: string): HTMLElement | null {
  return hint ? h("p", { class: "nhsuk-hint", id: `${id}-hint` }, hint) : null;
}

export interface InputOptions extends Common {
  type?: "text" | "email" | "password" | "url" | "tel" | "datetime-local";
  /** step is the input's step, e.g. "1" for a datetime-local with seconds. */
  step?: string;
  value?: string;
  autocomplete?: string;
  inputmode?: "numeric" | "decimal" | "email" | "tel" | "url";
  width?: "s" | "m";
  /** rows makes the control a textarea. */
  rows?: number;
  /** prefix is shown before the control, e.g. "£". */
  prefix?: string;
  spellcheck?: boolean;
}

/** textInput is a labelled text box (or, with rows, a textarea). */
export function textInput(o: InputOptions): { field: Field; control: HTMLInputElement | HTMLTextAreaElement } {
  const attrs = {
    id: o.id,
    name: o.id,
    class: o.rows ? "nhsuk-textarea" : `nhsuk-input${o.width ? ` nhsuk-input--width-${o.width === "s" ? 5 : 10}` : ""}`,
    autocomplete: o.autocomplete ?? "off",
    inputmode: o.inputmode ?? null,
    spellcheck: o.spellcheck === undefined ? null : String(o.spellcheck),
    "aria-describedby": o.hint ? `${o.id}-hint` : null,
    "data-label": o.label,
  };
  const control = o.rows
    ? h("textarea", { ...attrs, rows: o.rows })
    : h("input", { ...attrs, type: o.type ?? "text", step: o.step ?? null });
  control.value = o.value ?? "";
  const box = o.prefix
    ? h("div", { class: "nhsuk-input-wrapper" }, h("div", { class: "nhsuk-input__prefix", "aria-hidden": "true" }, o.prefix), control)
    : control;
  const wrapper = h(
    "div",
    { class: "nhsuk-form-group", id: `field-${o.id}` },
    h("label", { class: "nhsuk-label", for: o.id }, o.label),
    hintOf(o.id, o.hint),
    box,
  );
  return { field: { wrapper, focus: control, described: control, before: box }, control };
}

export interface SelectOptions extends Common {
  options: [string, string][];
  /** groups follow options, each under its label (an optgroup). */
  groups?: { label: string; options: [string, string][] }[];
  value?: string;
  /** blank, when given, is the text of an empty first choice. */
  blank?: string;
}

/** selectInput is a labelled drop-down. */
export function selectInput(o: SelectOptions): { field: Field; control: HTMLSelectElement } {
  const control = h(
    "select",
    { id: o.id, name: o.id, class: "nhsuk-select", "aria-describedby": o.hint ? `${o.id}-hint` : null, "data-label": o.label },
    o.blank !== undefined ? h("option", { value: "" }, o.blank) : null,
    o.options.map(([v, t]) => h("option", { value: v }, t)),
    (o.groups ?? []).map((g) => h("optgroup", { label: g.label }, g.options.map(([v, t]) => h("option", { value: v }, t)))),
  );
  control.value = o.value ?? "";
  const wrapper = h(
    "div",
    { class: "nhsuk-form-group", id: `field-${o.id}` },
    h("label", { class: "nhsuk-label", for: o.id }, o.label),
    hintOf(o.id, o.hint),
    control,
  );
  return { field: { wrapper, focus: control, described: control, before: control }, control };
}

export interface ChoiceOptions extends Common {
  options: [string, string][];
  values?: string[];
  /** columns lays a long list of checkboxes out in two columns on wide screens. */
  columns?: boolean;
  /**
   * conditional maps an option's value to what is revealed below it while
   * it is checked (the design system's conditional reveal).
   */
  conditional?: Record<string, HTMLElement>;
}

/**
 * choices is a fieldset of checkboxes ("checkbox") or radios ("radio"),
 * with its legend as the question, in the markup of nhsuk-frontend's
 * checkboxes and radios templates (so that they take its styles, at full
 * size): item ids are the field's id, then id-2, id-3...; a conditional
 * reveal follows its item, linked by aria-controls and hidden while the
 * item is not checked. value() returns the checked values.
 */
export function choices(
  kind: "checkbox" | "radio",
  o: ChoiceOptions,
): { field: Field; inputs: HTMLInputElement[]; value(): string[] } {
  const block = kind === "radio" ? "nhsuk-radios" : "nhsuk-checkboxes";
  const chosen = new Set(o.values ?? []);
  const inputs: HTMLInputElement[] = [];
  const reveals: [HTMLInputElement, HTMLElement][] = [];
  const items = o.options.map(([v, t], i) => {
    const id = i === 0 ? o.id : `${o.id}-${i + 1}`;
    const more = o.conditional?.[v];
    const input = h("input", {
      class: `${block}__input`,
      id,
      name: o.id,
      type: kind,
      value: v,
      "aria-controls": more ? `conditional-${id}` : null,
      "data-label": o.label,
    });
    input.checked = chosen.has(v);
    inputs.push(input);
    const item = h("div", { class: `${block}__item` }, input, h("label", { class: `nhsuk-label ${block}__label`, for: id }, t));
    if (!more) return item;
    const reveal = h("div", { class: `${block}__conditional`, id: `conditional-${id}` }, more);
    reveals.push([input, reveal]);
    return [item, reveal];
  });
  const sync = () => {
    for (const [input, reveal] of reveals) reveal.classList.toggle(`${block}__conditional--hidden`, !input.checked);
  };
  sync();
  if (reveals.length) for (const input of inputs) input.addEventListener("change", sync);
  const list = h("div", { class: `${block}${o.columns ? " app-columns" : ""}`, "data-module": block }, items);
  const fieldset = h(
    "fieldset",
    { class: "nhsuk-fieldset", "aria-describedby": o.hint ? `${o.id}-hint` : null },
    h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, o.label),
    hintOf(o.id, o.hint),
    list,
  );
  const wrapper = h("div", { class: "nhsuk-form-group", id: `field-${o.id}` }, fieldset);
  const first = inputs[0] ?? fieldset;
  return {
    field: { wrapper, focus: first, described: fieldset, before: list },
    inputs,
    value: () => inputs.filter((i) => i.checked).map((i) => i.value),
  };
}

/** showError puts message next to field's control and marks it invalid. */
// ownError finds a field's own error message, not one of a field nested in
// its conditional reveal.
const ownError = ":scope > .nhsuk-error-message, :scope > fieldset > .nhsuk-error-message";

export function showError(f: Field, message: string): void {
  if (f.wrapper.querySelector(ownError)) return;
  const id = `${f.focus.id}-error`;
  f.wrapper.classList.add("nhsuk-form-group--error");
  f.before.before(h("p", { class: "nhsuk-error-message", id }, h("span", { class: "nhsuk-u-visually-hidden" }, "Error: "), message));
  f.described.setAttribute("aria-describedby", [f.described.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
  if (f.described instanceof HTMLInputElement || f.described instanceof HTMLTextAreaElement || f.described instanceof HTMLSelectElement) {
    f.described.setAttribute("aria-invalid", "true");
  }
}

/** clearErrors removes every error message that showError put on fields. */
export function clearErrors(fields: Iterable<Field>): void {
  for (const f of fields) {
    f.wrapper.classList.remove("nhsuk-form-group--error");
    const msg = f.wrapper.querySelector(ownError);
    if (!msg) continue;
    const described = (f.described.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter((id) => id && id !== msg.id)
      .join(" ");
    if (described) f.described.setAttribute("aria-describedby", described);
    else f.described.removeAttribute("aria-describedby");
    f.described.removeAttribute("aria-invalid");
    msg.remove();
  }
}

/**
 * showProblem shows err in box as an error summary, puts each field message
 * next to the control resolve finds for its field, and moves focus to the
 * summary so that screen readers announce it.
 */
export function showProblem(box: HTMLElement, err: unknown, fields: Iterable<Field>, resolve: (field: string) => Field | null): void {
  clearErrors(fields);
  // The API's detail for a 400 with field errors is general; the fields say it all.
  if (err instanceof ApiError && err.status === 400 && err.fields.length > 0) {
    err = new ApiError(400, err.title, "Check the answers marked below.", err.fields);
  }
  const summary = errorSummary(err, (field, message) => {
    const f = resolve(field);
    if (!f) return null;
    showError(f, message);
    return f.focus;
  });
  replace(box, summary);
  summary.focus();
}

/** invalid is a problem found before sending, shaped like the API's. */
export function invalid(fields: FieldError[]): ApiError {
  return new ApiError(400, "Bad Request", "Check the answers marked below.", fields);
}

let bannerSeq = 0;

/** banner is an NHS.UK notification banner at the top of a page: a success, or information. */
export function banner(kind: "success" | "info", title: string, ...body: (Node | string)[]): HTMLElement {
  const id = `banner-title-${++bannerSeq}`;
  return h(
    "div",
    {
      class: `nhsuk-notification-banner${kind === "success" ? " nhsuk-notification-banner--success" : ""}`,
      role: kind === "success" ? "status" : "region",
      "aria-labelledby": id,
      tabindex: -1,
    },
    h("div", { class: "nhsuk-notification-banner__header" }, h("h2", { class: "nhsuk-notification-banner__title", id }, title)),
    body.length ? h("div", { class: "nhsuk-notification-banner__content" }, body.map((b) => (typeof b === "string" ? h("p", { class: "nhsuk-body" }, b) : b))) : null,
  );
}

/**
 * parsePounds reads an amount in pounds as typed ("650", "£1,200.50") and
 * returns pence, or null when it is not an amount of money.
 */
export function parsePounds(text: string): number | null {
  const t = text.trim().replace(/^£\s*/, "");
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(t);
  if (!m) return null;
  const pounds = Number(m[1]!.replace(/,/g, ""));
  const pence = Number((m[2] ?? "0").padEnd(2, "0"));
  const total = pounds * 100 + pence;
  return Number.isSafeInteger(total) ? total : null;
}

/** penceToPounds is the inverse of parsePounds for a form's initial value: 65050 -> "650.50". */
export function penceToPounds(pence: number): string {
  if (!pence) return "";
  return pence % 100 === 0 ? String(pence / 100) : (pence / 100).toFixed(2);
}

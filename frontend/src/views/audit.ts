// The operator's audit trail: every state change, oldest first, filtered by
// the object it concerns, its event type, who made it and when, paged by
// cursor, and a check of its hash chain that names the first broken link.
// The filters are the URL's (so a filtered trail can be shared and
// reloaded); applying them loads the events in place and a live region
// says how many match.
import { listAudit, verifyAudit, type AuditList, type AuditQuery, type FieldError, type Me } from "../api/client";
import { h, replace, scrollBox } from "../dom";
import { formatDateTime, localInput, toRFC3339 } from "../format";
import { authed } from "../session";
import { clearErrors, invalid, showProblem, textInput, type Field } from "./form";
import type { Page } from "./signin";

/** filterNames are the audit trail's filters, in the order of the form. */
const filterNames = ["object", "action", "actor", "from", "to"] as const;
type Filters = Pick<AuditQuery, (typeof filterNames)[number]>;

function filtersFrom(params: URLSearchParams): Filters {
  const f: Filters = {};
  for (const n of filterNames) {
    const v = params.get(n);
    if (v) f[n] = v;
  }
  return f;
}

function auditUrl(f: Filters, cursor = ""): string {
  const q = new URLSearchParams({ page: "audit" });
  for (const n of filterNames) if (f[n]) q.set(n, f[n]!);
  if (cursor) q.set("cursor", cursor);
  return `?${q.toString()}`;
}

/** describe says in words which filters are applied, for the live region. */
function describe(f: Filters): string {
  const parts: string[] = [];
  if (f.object) parts.push(`about ${f.object}`);
  if (f.action) parts.push(`of type ${f.action}`);
  if (f.actor) parts.push(`by ${f.actor}`);
  if (f.from) parts.push(`from ${formatDateTime(f.from)}`);
  if (f.to) parts.push(`before ${formatDateTime(f.to)}`);
  return parts.join(", ");
}

export async function auditPage(me: Me, params: URLSearchParams, signal: AbortSignal): Promise<Page> {
  const title = "Audit trail";
  const heading = h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title);
  if (me.role !== "operator") return { title, el: h("div", null, heading, h("p", null, "Only the operator reads the whole audit trail.")) };
  const initial = filtersFrom(params);
  const initialCursor = params.get("cursor") ?? "";

  const object = textInput({ id: "audit-object", label: "Object ID", value: initial.object, hint: "A tender, bid, organisation or user ID. A tender's ID gives every event of the tender.", spellcheck: false });
  const action = textInput({ id: "audit-action", label: "Event type", value: initial.action, hint: "For example tender.published, evaluator.assigned or bid.scored.", spellcheck: false });
  const actor = textInput({ id: "audit-actor", label: "Made by (user ID)", value: initial.actor, hint: "Select an ID in the By column to see that user's events.", spellcheck: false });
  const from = textInput({ id: "audit-from", label: "From", type: "datetime-local", step: "1", value: localInput(initial.from), hint: "Events at or after this time. Your local time." });
  const to = textInput({ id: "audit-to", label: "Before", type: "datetime-local", step: "1", value: localInput(initial.to), hint: "Events before this time. Your local time." });
  const fieldsByName: Record<string, Field> = { object: object.field, action: action.field, actor: actor.field, from: from.field, to: to.field };
  const fields = Object.values(fieldsByName);
  const problem = h("div");
  const clear = h("a", { href: "?page=audit", class: "nhsuk-link" }, "Clear the filters");
  const form = h(
    "form",
    { class: "filters audit__filters", role: "search", "aria-label": "Filter the audit trail", novalidate: true },
    problem,
    object.field.wrapper,
    h("div", { class: "field-row" }, action.field.wrapper, actor.field.wrapper),
    h("div", { class: "field-row" }, from.field.wrapper, to.field.wrapper),
    h("div", { class: "nhsuk-button-group" }, h("button", { type: "submit", class: "nhsuk-button" }, "Filter"), clear),
  );

  // The results: a live region that says what matched, and the table.
  const status = h("p", { class: "results__status", role: "status", "aria-live": "polite", id: "audit-status", tabindex: -1 });
  const results = h("div", { id: "audit-results" });

  const verifyResult = h("div", { role: "status", "aria-live": "polite", id: "audit-verify-result" });
  const verify = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Verify the chain");
  verify.addEventListener("click", () => {
    void (async () => {
      verify.disabled = true;
      replace(verifyResult, h("p", null, "Checking every event's hash…"));
      try {
        const v = await authed((tok) => verifyAudit(tok));
        replace(
          verifyResult,
          v.ok
            ? h("div", { class: "nhsuk-inset-text" }, h("p", null, h("strong", null, "Intact: "), `all ${v.checked} events link to the one before.`))
            : h("div", { class: "nhsuk-error-summary", tabindex: -1 }, h("h2", { class: "nhsuk-error-summary__title" }, "The chain is broken"), h("div", { class: "nhsuk-error-summary__body" }, h("p", null, `The first broken link is event ${v.first_break?.seq}: ${v.first_break?.reason}. ${v.checked} events checked.`))),
        );
      } catch (err) {
        showProblem(verifyResult, err, [], () => null);
      } finally {
        verify.disabled = false;
      }
    })();
  });

  const resolve = (field: string): Field | null => fieldsByName[field] ?? null;

  // show loads one page of the events f selects and puts it in place; a
  // problem goes in the form's error summary, next to the field at fault.
  let loading: AbortController | null = null;
  const show = async (f: Filters, cursor: string, announce: boolean): Promise<void> => {
    loading?.abort();
    const mine = new AbortController();
    loading = mine;
    signal.addEventListener("abort", () => mine.abort(), { once: true });
    if (announce) status.textContent = "Loading the events…";
    let list: AuditList;
    try {
      list = await authed((tok) => listAudit(tok, { ...f, ...(cursor ? { cursor } : {}) }, mine.signal));
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      status.textContent = "";
      replace(results);
      showProblem(problem, err, fields, resolve);
      return;
    }
    if (mine.signal.aborted) return;
    clearErrors(fields);
    replace(problem);
    const which = describe(f);
    status.textContent = list.items.length
      ? `${list.items.length} ${list.items.length === 1 ? "event" : "events"} shown${which ? `, ${which}` : ""}${list.next_cursor ? "; there are more" : ""}.`
      : `No events match${which ? `: ${which}` : ""}.`;
    replace(results, table(list, f, cursor, (c) => void page(c)));
  };
  // page moves to another page of the same filters, in place.
  const page = async (c: string) => {
    const f = filtersFrom(new URLSearchParams(location.search));
    history.pushState({}, "", auditUrl(f, c));
    await show(f, c, true);
    status.focus();
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f: Filters = {};
    const errors: FieldError[] = [];
    for (const [n, c] of [["object", object.control], ["action", action.control], ["actor", actor.control]] as const) {
      const v = c.value.trim();
      if (v) f[n] = v;
    }
    for (const [n, c] of [["from", from.control], ["to", to.control]] as const) {
      if (!c.value) continue;
      const t = toRFC3339(c.value);
      if (t) f[n] = t;
      else errors.push({ field: n, message: "Enter a date and time, such as 1 December 2026 09:00" });
    }
    if (!errors.length && f.from && f.to && f.from >= f.to) errors.push({ field: "to", message: "Enter a time after the From time" });
    if (errors.length) {
      status.textContent = "";
      showProblem(problem, invalid(errors), fields, resolve);
      return;
    }
    history.pushState({}, "", auditUrl(f));
    void show(f, "", true);
  });

  await show(initial, initialCursor, false);
  if (signal.aborted) return { el: h("div"), title };
  return {
    title,
    el: h(
      "div",
      null,
      heading,
      h("p", { class: "nhsuk-lede-text" }, "Every change of state, append-only, each event carrying the hash of the one before."),
      h("section", { class: "section" }, h("h2", { class: "nhsuk-heading-m" }, "Check the chain"), verify, verifyResult),
      h("section", { class: "section" }, h("h2", { class: "nhsuk-heading-m" }, "Events"), form, status, results),
    ),
  };
}

/** table is one page of events with its pagination; paging calls page with the cursor. */
function table(list: AuditList, f: Filters, cursor: string, page: (cursor: string) => void): HTMLElement {
  const rows = list.items.map((e) =>
    h(
      "tr",
      null,
      h("td", { class: "num" }, String(e.seq)),
      h("td", null, formatDateTime(e.at)),
      h("th", { scope: "row" }, e.action),
      h("td", null, e.object_type, " ", h("a", { href: auditUrl({ object: e.object_id ?? "" }), class: "nhsuk-link" }, h("code", null, e.object_id ?? ""), h("span", { class: "nhsuk-u-visually-hidden" }, ": show its events"))),
      h(
        "td",
        null,
        e.actor_user_id
          ? h("a", { href: auditUrl({ actor: e.actor_user_id }), class: "nhsuk-link" }, h("code", null, e.actor_user_id), h("span", { class: "nhsuk-u-visually-hidden" }, ": show this user's events"))
          : "The system",
      ),
      h("td", null, h("code", { title: e.hash }, e.hash.slice(0, 12))),
    ),
  );
  const link = (cls: string, text: string, c: string) => {
    const a = h("a", { class: `nhsuk-pagination__link nhsuk-pagination__link--${cls}`, href: auditUrl(f, c) }, h("span", { class: "nhsuk-pagination__title" }, text));
    a.addEventListener("click", (ev) => {
      if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
      ev.preventDefault();
      page(c);
    });
    return a;
  };
  const pagination =
    list.next_cursor || cursor
      ? h(
          "nav",
          { class: "nhsuk-pagination", role: "navigation", "aria-label": "Pages of the audit trail" },
          h(
            "ul",
            { class: "nhsuk-list nhsuk-pagination__list" },
            cursor ? h("li", { class: "nhsuk-pagination-item--previous" }, link("prev", "First page", "")) : null,
            list.next_cursor ? h("li", { class: "nhsuk-pagination-item--next" }, link("next", "Next page", list.next_cursor)) : null,
          ),
        )
      : null;
  return h(
    "div",
    null,
    list.items.length
      ? scrollBox(
          h(
            "table",
            { class: "nhsuk-table" },
            h("caption", { class: "nhsuk-u-visually-hidden" }, "Audit events"),
            h("thead", null, h("tr", null, ["Event", "When", "Action", "Object", "By", "Hash"].map((c, i) => h("th", { scope: "col", class: i === 0 ? "num" : null }, c)))),
            h("tbody", null, rows),
          ),
        )
      : null,
    pagination,
  );
}

// The operator's audit trail: every state change, newest first, filtered
// by the object it concerns, paged by cursor, and a check of its hash
// chain that names the first broken link.
import { listAudit, verifyAudit, type AuditList, type Me } from "../api/client";
import { h, replace, scrollBox } from "../dom";
import { formatDateTime } from "../format";
import { authed } from "../session";
import { showProblem, textInput } from "./form";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

export async function auditPage(me: Me, params: URLSearchParams, go: (url: string) => void, signal: AbortSignal): Promise<Page> {
  const title = "Audit trail";
  const heading = h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title);
  if (me.role !== "operator") return { title, el: h("div", null, heading, h("p", null, "Only the operator reads the whole audit trail.")) };
  const object = params.get("object") ?? "";
  const cursor = params.get("cursor") ?? "";
  const filter = textInput({ id: "audit-object", label: "Object ID", value: object, hint: "A tender, bid, organisation or user ID. Leave empty for every event.", spellcheck: false });
  const form = h("form", { class: "filters", role: "search", "aria-label": "Audit trail" }, filter.field.wrapper, h("button", { type: "submit", class: "nhsuk-button" }, "Filter"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next = new URLSearchParams({ page: "audit" });
    if (filter.control.value.trim()) next.set("object", filter.control.value.trim());
    go(`?${next.toString()}`);
  });

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

  let list: AuditList;
  try {
    list = await authed((tok) => listAudit(tok, object, cursor, signal));
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") return { el: h("div"), title };
    return { title, el: h("div", null, heading, form, errorSummary(err)) };
  }
  const status = h("p", { role: "status" }, list.items.length ? `${list.items.length} events shown${list.next_cursor ? "; there are more" : ""}.` : "No events match.");
  const rows = list.items.map((e) =>
    h(
      "tr",
      null,
      h("td", { class: "num" }, String(e.seq)),
      h("td", null, formatDateTime(e.at)),
      h("th", { scope: "row" }, e.action),
      h("td", null, e.object_type, " ", h("a", { href: `?page=audit&object=${encodeURIComponent(e.object_id ?? "")}`, class: "nhsuk-link" }, h("code", null, e.object_id ?? ""), h("span", { class: "nhsuk-u-visually-hidden" }, ": show its events"))),
      h("td", null, e.actor_user_id ? h("code", null, e.actor_user_id) : "The system"),
      h("td", null, h("code", { title: e.hash }, e.hash.slice(0, 12))),
    ),
  );
  const next = new URLSearchParams({ page: "audit" });
  if (object) next.set("object", object);
  if (list.next_cursor) next.set("cursor", list.next_cursor);
  const pagination =
    list.next_cursor || cursor
      ? h(
          "nav",
          { class: "nhsuk-pagination", role: "navigation", "aria-label": "Pages of the audit trail" },
          h(
            "ul",
            { class: "nhsuk-list nhsuk-pagination__list" },
            cursor ? h("li", { class: "nhsuk-pagination-item--previous" }, h("a", { class: "nhsuk-pagination__link nhsuk-pagination__link--prev", href: `?page=audit${object ? `&object=${encodeURIComponent(object)}` : ""}` }, h("span", { class: "nhsuk-pagination__title" }, "First page"))) : null,
            list.next_cursor ? h("li", { class: "nhsuk-pagination-item--next" }, h("a", { class: "nhsuk-pagination__link nhsuk-pagination__link--next", href: `?${next.toString()}` }, h("span", { class: "nhsuk-pagination__title" }, "Next page"))) : null,
          ),
        )
      : null;
  return {
    title,
    el: h(
      "div",
      null,
      heading,
      h("p", { class: "nhsuk-lede-text" }, "Every change of state, append-only, each event carrying the hash of the one before."),
      h("section", { class: "section" }, h("h2", { class: "nhsuk-heading-m" }, "Check the chain"), verify, verifyResult),
      form,
      status,
      scrollBox(
        h(
          "table",
          { class: "nhsuk-table" },
          h("caption", { class: "nhsuk-u-visually-hidden" }, "Audit events"),
          h("thead", null, h("tr", null, ["Event", "When", "Action", "Object", "By", "Hash"].map((c, i) => h("th", { scope: "col", class: i === 0 ? "num" : null }, c)))),
          h("tbody", null, rows),
        ),
      ),
      pagination,
    ),
  };
}

import { approveOrganisation, listPendingBuyers, listUsers, type Me, type Organisation } from "../api/client";
import { card as cardItem, h, replace } from "../dom";
import { formatDate, formatPence, tagClass } from "../format";
import type { Reference } from "../reference";
import { authed } from "../session";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

const count = new Intl.NumberFormat("en-GB");

/**
 * operatorPage lists the CCGs waiting for the operator's approval, each
 * with who registered it, and approves them one at a time.
 */
export async function operatorPage(me: Me, ref: Reference): Promise<Page> {
  const title = "CCGs waiting for approval";
  const root = h("div", { class: "operator" });
  if (me.role !== "operator") {
    replace(
      root,
      h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title),
      h("p", null, "This page is for the marketplace operator."),
      h("p", null, h("a", { href: "./", class: "nhsuk-link" }, "Find commissioning support")),
    );
    return { el: root, title };
  }

  const status = h("p", { class: "results__status", role: "status", "aria-live": "polite" });
  const problem = h("div");
  const list = h("ul", { class: "nhsuk-list app-cards", "aria-labelledby": "operator-title" });
  const empty = h(
    "div",
    { class: "empty", hidden: true },
    h("h2", { class: "nhsuk-heading-s" }, "No CCGs are waiting for approval"),
    h("p", null, "CCGs that register from a trusted NHS e-mail address are active at once and never appear here."),
  );
  const more = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary", hidden: true }, "Load more");
  let cursor = "";
  let waiting = 0;

  const say = () => {
    status.textContent = waiting === 0 ? "" : waiting === 1 ? "1 CCG is waiting." : `${waiting} CCGs are waiting${cursor ? ", and there are more" : ""}.`;
    empty.hidden = waiting > 0 || !!cursor;
  };

  const card = (org: Organisation): HTMLLIElement => {
    const ods = org.identifiers.find((i) => i.scheme === "GB-NHS");
    const who = h("dd", null, "Loading…");
    const outcome = h("p", { class: "card__outcome", tabindex: -1, hidden: true });
    const approve = h("button", { type: "button", class: "nhsuk-button" }, "Approve", h("span", { class: "nhsuk-u-visually-hidden" }, ` ${org.name}`));
    const itemProblem = h("div");
    const li = cardItem(
      { "data-organisation": org.id },
      h("h2", { class: "nhsuk-card__heading" }, org.name),
      h(
        "dl",
        { class: "card__facts" },
        fact("ODS code", ods ? h("code", { class: "org-id" }, ods.id) : "Not given"),
        fact("Region", org.regions.map((r) => ref.regionName(r)).join(", ") || "Not given"),
        fact("Population", org.population ? count.format(org.population) : "Not given"),
        fact("Running costs", org.running_cost_allowance_per_head_pence ? `${formatPence(org.running_cost_allowance_per_head_pence)} a head` : "Not given"),
        h("div", { class: "facts__row" }, h("dt", null, "Registered by"), who),
        fact("Registered on", h("time", { datetime: org.created_at }, formatDate(org.created_at))),
      ),
      itemProblem,
      outcome,
      h("div", { class: "nhsuk-button-group" }, approve),
    );
    approve.addEventListener("click", () => {
      void (async () => {
        approve.disabled = true;
        try {
          const done = await authed((token) => approveOrganisation(token, org.id));
          replace(itemProblem);
          approve.remove();
          outcome.hidden = false;
          replace(outcome, h("strong", { class: tagClass("active") }, "Approved"), ` ${done.name} is active: its users can now publish tenders.`);
          outcome.focus();
          waiting = Math.max(0, waiting - 1);
          status.textContent = `${done.name} is approved.`;
        } catch (err) {
          approve.disabled = false;
          const box = errorSummary(err);
          replace(itemProblem, box);
          box.focus();
        }
      })();
    });
    // Who registered it, and from which address: the reason it waits.
    authed((token) => listUsers(token, org.id)).then(
      (users) => {
        const first = users.find((u) => u.admin) ?? users[0];
        replace(who, first ? `${first.name} (${first.email})` : "No users");
      },
      () => replace(who, "Could not be loaded"),
    );
    return li;
  };

  const fetchPage = async (): Promise<boolean> => {
    try {
      const page = await authed((token) => listPendingBuyers(token, cursor));
      replace(problem);
      list.append(...page.items.map(card));
      waiting += page.items.length;
      cursor = page.next_cursor ?? "";
      more.hidden = !cursor;
      say();
      return true;
    } catch (err) {
      const box = errorSummary(err);
      replace(problem, box);
      box.focus();
      return false;
    }
  };
  more.addEventListener("click", () => {
    more.disabled = true;
    void fetchPage().finally(() => {
      more.disabled = false;
    });
  });

  replace(
    root,
    h("span", { class: "nhsuk-caption-l" }, "Marketplace operator"),
    h("h1", { class: "nhsuk-heading-xl", id: "operator-title", tabindex: -1 }, title),
    h(
      "p",
      { class: "nhsuk-lede-text" },
      "A CCG that registers from an e-mail address outside the trusted NHS domains waits here until you have checked that it is genuine. " +
        "Its users can sign in meanwhile, but cannot publish tenders.",
    ),
    status,
    problem,
    list,
    empty,
    more,
  );
  await fetchPage();
  return { el: root, title };
}

function fact(term: string, value: Node | string): HTMLElement {
  return h("div", { class: "facts__row" }, h("dt", null, term), h("dd", null, value));
}

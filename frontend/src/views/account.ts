import type { Me, Organisation, Role } from "../api/client";
import { h } from "../dom";
import { sectorLabels, tagClass } from "../format";
import { banner } from "./form";
import type { Page } from "./signin";

export const roleLabels: Record<Role, string> = {
  buyer: "Buyer",
  evaluator: "Evaluator",
  supplier: "Supplier",
  operator: "Operator",
};

export const statusLabels: Record<Organisation["status"], string> = {
  active: "Active",
  pending: "Waiting for approval",
  disabled: "Disabled",
};

/**
 * accountPage shows who is signed in and the state of their organisation;
 * registered is set right after registration, to confirm it.
 */
export function accountPage(me: Me, registered: boolean): Page {
  const org = me.organisation;
  const isBuyer = org.kind === "buyer";
  const pending = org.status === "pending";
  const notices: HTMLElement[] = [];
  if (registered) {
    notices.push(
      banner(
        "success",
        `${org.name} is registered`,
        pending
          ? "You are signed in. Your CCG is pending approval: the marketplace operator checks each CCG that registers from an e-mail address outside the trusted NHS domains. Meanwhile you can compare providers; you can publish tenders once it is approved."
          : isBuyer
            ? "You are signed in. Your CCG is active."
            : "You are signed in. Next, create your listing so that CCGs can find you.",
      ),
    );
  }
  if (pending && isBuyer && !registered) {
    notices.push(
      banner(
        "info",
        "Your CCG is pending approval",
        "The marketplace operator checks each CCG that registers from an e-mail address outside the trusted NHS domains. " +
          "Meanwhile you can sign in and compare providers; you can publish tenders once your CCG is approved.",
      ),
    );
  }
  const row = (term: string, value: Node | string) =>
    h("div", { class: "nhsuk-summary-list__row" }, h("dt", { class: "nhsuk-summary-list__key" }, term), h("dd", { class: "nhsuk-summary-list__value" }, value));

  const next: HTMLElement[] = [];
  if (me.role === "supplier") {
    next.push(
      h("li", null, h("a", { href: "?page=listing", class: "nhsuk-link" }, "Edit your listing")),
      h("li", null, h("a", { href: `?provider=${encodeURIComponent(org.id)}`, class: "nhsuk-link" }, "See your public profile")),
    );
  }
  if (me.role === "operator") next.push(h("li", null, h("a", { href: "?page=operator", class: "nhsuk-link" }, "CCGs waiting for approval")));
  next.push(h("li", null, h("a", { href: "./", class: "nhsuk-link" }, "Find commissioning support")));

  const el = h(
    "div",
    { class: "narrow" },
    notices,
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Your account"),
    h(
      "dl",
      { class: "nhsuk-summary-list" },
      row("Name", me.user.name),
      row("E-mail address", me.user.email),
      row("Role", `${roleLabels[me.role] ?? me.role}${me.user.admin ? " (administrator)" : ""}`),
      row("Organisation", org.name),
      org.sector ? row("Sector", sectorLabels[org.sector] ?? org.sector) : null,
      row("Organisation status", h("strong", { class: tagClass(org.status), "data-status": org.status }, statusLabels[org.status] ?? org.status)),
    ),
    h("h2", { class: "nhsuk-heading-m spaced" }, "What you can do"),
    h("ul", { class: "nhsuk-list nhsuk-list--bullet" }, next),
  );
  return { el, title: "Your account" };
}

import { ApiError, getProvider, type Provider } from "../api/client";
import { h } from "../dom";
import { formatDate, formatDayRate, safeHref, sectorLabels, sizeLabels, tagClass } from "../format";
import type { Reference } from "../reference";
import { errorSummary } from "./problem";

const schemeNames: Record<string, string> = {
  "GB-NHS": "NHS ODS code",
  "GB-COH": "Companies House",
  "GB-CHC": "Charity Commission",
  "GB-LAE": "Local authority code",
};

/**
 * renderProfile loads provider id and returns its profile page, or a page
 * saying why it cannot be shown. backLink leads to the directory.
 */
export async function renderProfile(
  id: string,
  ref: Reference,
  backLink: HTMLAnchorElement,
  signal: AbortSignal,
): Promise<{ el: HTMLElement; title: string }> {
  let p: Provider;
  try {
    p = await getProvider(id, signal);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      return {
        title: "Provider not found",
        el: h(
          "div",
          null,
          backLink,
          h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Provider not found"),
          h("p", null, "There is no provider at this address. It may have left the directory, or the link may be wrong."),
          h("p", null, h("a", { href: "./", class: "nhsuk-link" }, "Search the directory")),
        ),
      };
    }
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    return {
      title: "Error: provider could not be shown",
      el: h(
        "div",
        null,
        backLink,
        h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Sorry, this provider could not be shown"),
        errorSummary(err),
      ),
    };
  }

  const list = (items: string[], empty: string) =>
    items.length ? h("ul", { class: "nhsuk-list" }, items.map((t) => h("li", null, t))) : empty;

  const contact = p.contact;
  const website = safeHref(contact.website);

  const el = h(
    "article",
    { class: "profile" },
    backLink,
    h("span", { class: "nhsuk-caption-l" }, h("strong", { class: tagClass(p.sector) }, sectorLabels[p.sector] ?? p.sector)),
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, p.name),
    paragraphs(p.summary, "nhsuk-lede-text"),
    h("h2", { class: "nhsuk-heading-l" }, "At a glance"),
    h(
      "dl",
      { class: "nhsuk-summary-list" },
      row("Sector", sectorLabels[p.sector] ?? p.sector),
      row("Organisation size", p.size ? (sizeLabels[p.size] ?? p.size) : "Not given"),
      row("Day rate", formatDayRate(p.day_rate_min_pence, p.day_rate_max_pence)),
      row("Regions covered", list(p.regions.map((r) => ref.regionName(r)), "None listed")),
      row(
        "Capabilities",
        p.capabilities.length ? h("ul", { class: "chips" }, p.capabilities.map((c) => h("li", { class: "chip" }, ref.capabilityName(c)))) : "None listed",
      ),
      row("Accreditations", list(p.accreditations, "None listed")),
      row(
        "Identifiers",
        p.identifiers.length
          ? h(
              "ul",
              { class: "nhsuk-list" },
              p.identifiers.map((i) =>
                h("li", null, h("code", { class: "org-id" }, i.org_id || `${i.scheme}-${i.id}`), schemeNames[i.scheme] ? ` (${schemeNames[i.scheme]})` : ""),
              ),
            )
          : "None listed",
      ),
      row("Listing updated", h("time", { datetime: p.updated_at }, formatDate(p.updated_at))),
    ),
    h("h2", { class: "nhsuk-heading-l" }, "Case studies"),
    p.case_studies.length
      ? h(
          "ul",
          { class: "case-studies" },
          p.case_studies.map((c) =>
            h(
              "li",
              { class: "case-study" },
              h("h3", { class: "nhsuk-heading-s" }, c.title),
              c.client ? h("p", { class: "case-study__client" }, `Client: ${c.client}`) : null,
              paragraphs(c.summary),
            ),
          ),
        )
      : h("p", null, "This provider has not listed any case studies yet."),
    h("h2", { class: "nhsuk-heading-l" }, "Contact"),
    h(
      "dl",
      { class: "nhsuk-summary-list" },
      contact.name ? row("Name", contact.name) : null,
      contact.email ? row("Email", h("a", { href: `mailto:${contact.email}`, class: "nhsuk-link" }, contact.email)) : null,
      contact.phone ? row("Telephone", h("a", { href: `tel:${contact.phone.replace(/[^+\d]/g, "")}`, class: "nhsuk-link" }, contact.phone)) : null,
      website ? row("Website", h("a", { href: website, class: "nhsuk-link", rel: "noopener noreferrer" }, contact.website ?? website)) : null,
    ),
  );
  return { el, title: p.name };
}

function row(term: string, value: Node | string): HTMLElement {
  return h("div", { class: "nhsuk-summary-list__row" }, h("dt", { class: "nhsuk-summary-list__key" }, term), h("dd", { class: "nhsuk-summary-list__value" }, value));
}

// paragraphs keeps the blank-line paragraphs a supplier wrote.
function paragraphs(text: string, className?: string): HTMLElement[] {
  return text
    .split(/\n\s*\n/)
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => h("p", { class: className ?? null }, t));
}

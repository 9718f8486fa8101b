import { listProviders, type CapabilityKey, type Provider, type ProviderQuery, type RegionKey, type Sector, type Size } from "../api/client";
import { card, h, replace } from "../dom";
import { formatDayRate, sectorLabels, sizeLabels, tagClass } from "../format";
import type { Reference } from "../reference";
import { errorSummary } from "./problem";

export const filterKeys = ["q", "sector", "capability", "region", "size"] as const;
export type FilterKey = (typeof filterKeys)[number];
export type Filters = Record<FilterKey, string>;

/** filtersFrom reads the directory's filters from a URL query string. */
export function filtersFrom(params: URLSearchParams): Filters {
  const f = {} as Filters;
  for (const k of filterKeys) f[k] = (params.get(k) ?? "").trim();
  return f;
}

/** queryOf is the canonical query string of filters: set ones only, in a fixed order. */
export function queryOf(f: Filters): string {
  const p = new URLSearchParams();
  for (const k of filterKeys) if (f[k]) p.set(k, f[k]);
  return p.toString();
}

// The API's page size for the directory; "Load more" fetches the next one.
const pageSize = 20;

const labels: Record<FilterKey, string> = {
  q: "Search by keyword",
  sector: "Sector",
  capability: "Capability",
  region: "Region",
  size: "Organisation size",
};

/**
 * Directory is the provider directory: a search form whose state lives in
 * the URL, and the result cards. One instance lives for the page's life, so
 * that coming back from a profile shows the pages already loaded.
 */
export class Directory {
  readonly el: HTMLElement;
  private readonly ref: Reference;
  private readonly controls: Record<FilterKey, HTMLInputElement | HTMLSelectElement>;
  private readonly heading: HTMLHeadingElement;
  private readonly status: HTMLElement;
  private readonly problem: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly empty: HTMLElement;
  private readonly more: HTMLButtonElement;
  private key: string | null = null;
  private cursor = "";
  private count = 0;
  private abort: AbortController | null = null;

  constructor(ref: Reference, navigate: (query: string) => void) {
    this.ref = ref;
    const option = (value: string, text: string) => h("option", { value }, text);
    const select = (key: FilterKey, options: [string, string][]) =>
      h(
        "select",
        { id: `f-${key}`, name: key, class: "nhsuk-select", "data-label": labels[key] },
        option("", "Any"),
        options.map(([v, t]) => option(v, t)),
      );
    this.controls = {
      q: h("input", {
        id: "f-q",
        name: "q",
        type: "search",
        class: "nhsuk-input",
        maxlength: 200,
        autocomplete: "off",
        spellcheck: false,
        "aria-describedby": "f-q-hint",
        "data-label": labels.q,
      }),
      sector: select("sector", Object.entries(sectorLabels)),
      capability: select("capability", ref.capabilities.map((c) => [c.key, c.name])),
      region: select("region", ref.regions.map((r) => [r.key, r.name])),
      size: select("size", Object.entries(sizeLabels)),
    };

    const field = (key: FilterKey, hint?: string) =>
      h(
        "div",
        { class: "nhsuk-form-group", id: `field-${key}` },
        h("label", { class: "nhsuk-label", for: `f-${key}` }, labels[key]),
        hint ? h("p", { class: "nhsuk-hint", id: `f-${key}-hint` }, hint) : null,
        this.controls[key],
      );

    const form = h(
      "form",
      { class: "filters", role: "search", "aria-labelledby": "filters-title", novalidate: true },
      h("h2", { class: "nhsuk-heading-m", id: "filters-title" }, "Search and filter"),
      field("q", "For example, a service, a place or an organisation's name."),
      field("sector"),
      field("capability"),
      field("region"),
      field("size"),
      h(
        "div",
        { class: "nhsuk-button-group" },
        h("button", { type: "submit", class: "nhsuk-button" }, "Search"),
        h("a", { href: "./", class: "nhsuk-link" }, "Clear filters"),
      ),
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      navigate(queryOf(this.formFilters()));
    });

    this.heading = h("h2", { class: "nhsuk-heading-m", id: "results-title", tabindex: -1 }, "Providers");
    this.status = h("p", { class: "results__status", role: "status", "aria-live": "polite" });
    this.problem = h("div", { class: "results__problem" });
    this.list = h("ol", { class: "nhsuk-list app-cards", "aria-labelledby": "results-title" });
    this.empty = h(
      "div",
      { class: "empty", hidden: true },
      h("h3", { class: "nhsuk-heading-s" }, "No providers match your search"),
      h("p", null, "You could:"),
      h(
        "ul",
        { class: "nhsuk-list nhsuk-list--bullet" },
        h("li", null, "remove a filter, or choose “Any”"),
        h("li", null, "search for a different word, such as a capability or a place"),
      ),
      h("p", null, h("a", { href: "./", class: "nhsuk-link" }, "Clear all filters and see every provider")),
    );
    this.more = h(
      "button",
      { type: "button", class: "nhsuk-button nhsuk-button--secondary", hidden: true },
      "Load more providers",
    );
    this.more.addEventListener("click", () => void this.loadMore());

    this.el = h(
      "div",
      { class: "directory" },
      h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Find commissioning support"),
      h(
        "p",
        { class: "nhsuk-lede-text" },
        "A clinical commissioning group should not have to take whatever support it is offered because there is no choice. " +
          "Compare providers from all four sectors, NHS commissioning support units, local authorities, " +
          "the third sector and independent firms, side by side, and choose the one that fits.",
      ),
      h(
        "div",
        { class: "directory__layout" },
        form,
        h(
          "section",
          { class: "results", "aria-labelledby": "results-title" },
          this.heading,
          this.status,
          this.problem,
          this.list,
          this.empty,
          this.more,
        ),
      ),
    );
  }

  private formFilters(): Filters {
    const f = {} as Filters;
    for (const k of filterKeys) f[k] = this.controls[k].value.trim();
    return f;
  }

  /**
   * show sets the form to filters and loads their first page, unless that
   * search is already on screen. It resolves when the results are shown.
   */
  async show(filters: Filters): Promise<void> {
    for (const k of filterKeys) {
      const c = this.controls[k];
      if (c instanceof HTMLSelectElement && filters[k] && ![...c.options].some((o) => o.value === filters[k])) {
        // A value from a shared or hand-edited URL that the list does not
        // know: keep it visible so the server's error about it makes sense.
        c.append(h("option", { value: filters[k] }, filters[k]));
      }
      c.value = filters[k];
    }
    const key = queryOf(filters);
    if (key === this.key) return;
    this.key = key;
    this.clearFieldErrors();
    this.list.replaceChildren();
    this.empty.hidden = true;
    this.more.hidden = true;
    this.count = 0;
    this.cursor = "";
    replace(this.problem);
    this.status.classList.remove("nhsuk-u-visually-hidden");
    this.status.textContent = "Loading providers…";
    await this.fetchPage(filters, "");
  }

  private async loadMore(): Promise<void> {
    if (!this.cursor || this.key === null) return;
    this.more.disabled = true;
    this.more.textContent = "Loading…";
    const first = await this.fetchPage(filtersFrom(new URLSearchParams(this.key)), this.cursor);
    this.more.disabled = false;
    this.more.textContent = "Load more providers";
    // Keyboard and screen reader users land on the first new card.
    first?.querySelector("a")?.focus();
  }

  // fetchPage loads one page and appends its cards; it returns the first new
  // card, or null when nothing was added.
  private async fetchPage(filters: Filters, cursor: string): Promise<HTMLElement | null> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const query: ProviderQuery = { page_size: pageSize };
    if (filters.q) query.q = filters.q;
    if (filters.sector) query.sector = filters.sector as Sector;
    if (filters.capability) query.capability = filters.capability as CapabilityKey;
    if (filters.region) query.region = filters.region as RegionKey;
    if (filters.size) query.size = filters.size as Size;
    if (cursor) query.cursor = cursor;
    this.list.setAttribute("aria-busy", "true");
    try {
      const page = await listProviders(query, abort.signal);
      if (abort.signal.aborted) return null;
      replace(this.problem);
      const cards = page.items.map((p) => this.card(p));
      this.list.append(...cards);
      this.count += cards.length;
      this.cursor = page.next_cursor ?? "";
      this.more.hidden = !this.cursor;
      this.empty.hidden = this.count > 0;
      this.status.textContent = this.statusText();
      // The empty state says it in full; the status still tells screen readers.
      this.status.classList.toggle("nhsuk-u-visually-hidden", this.count === 0);
      return cards[0] ?? null;
    } catch (err) {
      if (abort.signal.aborted) return null;
      if (!cursor) this.key = null; // the same search again retries
      this.status.textContent = cursor ? this.statusText() : "";
      const box = errorSummary(err, (field, message) => this.markFieldError(field, message));
      replace(this.problem, box);
      box.focus();
      return null;
    } finally {
      if (this.abort === abort) this.list.removeAttribute("aria-busy");
    }
  }

  private statusText(): string {
    const n = this.count;
    if (n === 0) return "No providers match your search.";
    const noun = n === 1 ? "provider" : "providers";
    return this.cursor ? `Showing the first ${n} ${noun}. There are more.` : `Showing all ${n} ${noun}.`;
  }

  // markFieldError flags the form control that a problem's field names and
  // returns it, so the error summary can link to it.
  private markFieldError(field: string, message: string): HTMLElement | null {
    if (!(filterKeys as readonly string[]).includes(field)) return null;
    const key = field as FilterKey;
    const control = this.controls[key];
    const wrapper = control.parentElement;
    if (wrapper && !wrapper.querySelector(".nhsuk-error-message")) {
      wrapper.classList.add("nhsuk-form-group--error");
      const id = `f-${key}-error`;
      wrapper.insertBefore(h("p", { class: "nhsuk-error-message", id }, h("span", { class: "nhsuk-u-visually-hidden" }, "Error: "), message), control);
      control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
      control.setAttribute("aria-invalid", "true");
    }
    return control;
  }

  private clearFieldErrors(): void {
    for (const k of filterKeys) {
      const control = this.controls[k];
      const wrapper = control.parentElement;
      wrapper?.classList.remove("nhsuk-form-group--error");
      wrapper?.querySelector(".nhsuk-error-message")?.remove();
      control.removeAttribute("aria-invalid");
      const described = (control.getAttribute("aria-describedby") ?? "")
        .split(" ")
        .filter((id) => id && id !== `f-${k}-error`)
        .join(" ");
      if (described) control.setAttribute("aria-describedby", described);
      else control.removeAttribute("aria-describedby");
    }
  }

  private card(p: Provider): HTMLLIElement {
    const ref = this.ref;
    return card(
      {},
      h("h3", { class: "nhsuk-card__heading" }, h("a", { href: `?provider=${encodeURIComponent(p.id)}`, class: "nhsuk-link" }, p.name)),
      h(
        "p",
        { class: "card__meta" },
        h("strong", { class: tagClass(p.sector) }, sectorLabels[p.sector] ?? p.sector),
        " ",
        p.size ? h("span", { class: "card__size" }, `${sizeLabels[p.size] ?? p.size} organisation`) : null,
      ),
      p.summary ? h("p", { class: "card__summary" }, truncate(p.summary, 220)) : null,
      h(
        "dl",
        { class: "card__facts" },
        fact("Regions", p.regions.length ? p.regions.map((r) => ref.regionName(r)).join(", ") : "None listed"),
        fact(
          "Capabilities",
          p.capabilities.length
            ? h("ul", { class: "chips" }, p.capabilities.map((c) => h("li", { class: "chip" }, ref.capabilityName(c))))
            : "None listed",
        ),
        fact("Day rate", formatDayRate(p.day_rate_min_pence, p.day_rate_max_pence)),
      ),
    );
  }
}

function fact(term: string, value: Node | string): HTMLElement {
  return h("div", { class: "facts__row" }, h("dt", null, term), h("dd", null, value));
}

function truncate(s: string, max: number): string {
  const flat = s.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), max - 20)).replace(/[\s,.;:]+$/, "")}…`;
}

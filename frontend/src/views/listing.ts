import { ApiError, getProviderForEdit, updateListing, type FieldError, type Me, type Provider, type ProviderUpdate } from "../api/client";
import { h, replace } from "../dom";
import { sizeLabels } from "../format";
import type { Reference } from "../reference";
import { authed } from "../session";
import { errorSummary } from "./problem";
import { banner, choices, clearErrors, invalid, parsePounds, penceToPounds, selectInput, showProblem, textInput, type Field } from "./form";
import type { Page } from "./signin";

interface CaseStudyRow {
  el: HTMLElement;
  legend: HTMLElement;
  remove: HTMLButtonElement;
  title: ReturnType<typeof textInput>;
  client: ReturnType<typeof textInput>;
  summary: ReturnType<typeof textInput>;
}

/**
 * listingPage is the signed-in supplier's editor for its own listing. It
 * saves with PUT and the ETag it loaded as If-Match, so that an edit made
 * elsewhere meanwhile is never overwritten: the API answers 412 and the
 * page offers to reload.
 */
export async function listingPage(me: Me, ref: Reference, signal: AbortSignal): Promise<Page> {
  const id = me.organisation.id;
  const root = h("div", { class: "editor" });
  const title = "Your listing";
  if (me.role !== "supplier") {
    replace(
      root,
      h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title),
      h("p", null, "Only suppliers have a listing in the directory. You are signed in for ", me.organisation.name, ", which is not a supplier."),
      h("p", null, h("a", { href: "./", class: "nhsuk-link" }, "Find commissioning support")),
    );
    return { el: root, title };
  }

  // show builds the editor for a listing (null: none yet) and its ETag,
  // with notice above it.
  const show = (current: Provider | null, etag: string, notice: HTMLElement | null, focus: boolean): void => {
    replace(root, editor(me, ref, current, etag, { show, reload: () => void load(true) }, notice));
    if (focus) (root.querySelector<HTMLElement>(".nhsuk-notification-banner") ?? root.querySelector<HTMLElement>("h1"))?.focus();
  };
  // load fetches the listing and shows the editor for it.
  const load = async (focus: boolean): Promise<void> => {
    let current: Provider | null = null;
    let etag = "";
    try {
      const got = await getProviderForEdit(id, signal);
      current = got.provider;
      etag = got.etag;
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return; // the user moved on
      if (!(err instanceof ApiError && err.status === 404)) {
        replace(
          root,
          h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Sorry, your listing could not be loaded"),
          errorSummary(err),
          h("p", null, h("a", { href: "?page=listing", class: "nhsuk-link" }, "Try again")),
        );
        return;
      }
      // No listing yet: the form creates one, without If-Match.
    }
    show(current, etag, null, focus);
  };
  await load(false);
  return { el: root, title };
}

function editor(
  me: Me,
  ref: Reference,
  p: Provider | null,
  etag: string,
  then: {
    show: (p: Provider, etag: string, notice: HTMLElement, focus: boolean) => void;
    reload: () => void;
  },
  notice: HTMLElement | null,
): HTMLElement {
  const id = me.organisation.id;
  const summary = textInput({
    id: "listing-summary",
    label: "Summary",
    hint: "What you do, and for whom. Buyers read this first. Leave a blank line between paragraphs.",
    rows: 8,
    value: p?.summary ?? "",
  });
  const capabilities = choices("checkbox", {
    id: "listing-capabilities",
    label: "Capabilities",
    hint: "Choose all the kinds of support you offer.",
    options: ref.capabilities.map((c) => [c.key, c.name]),
    values: p?.capabilities ?? [],
    columns: true,
  });
  const regions = choices("checkbox", {
    id: "listing-regions",
    label: "Regions covered",
    hint: "Choose all that apply.",
    options: ref.regions.map((r) => [r.key, r.name]),
    values: p?.regions ?? me.organisation.regions,
    columns: true,
  });
  const size = selectInput({
    id: "listing-size",
    label: "Organisation size",
    blank: "Choose a size",
    options: Object.entries(sizeLabels),
    value: p?.size ?? "",
  });
  const accreditations = textInput({
    id: "listing-accreditations",
    label: "Accreditations",
    hint: "One on each line, for example ISO 27001.",
    rows: 4,
    value: (p?.accreditations ?? []).join("\n"),
  });
  const rateMin = textInput({
    id: "listing-rate-min",
    label: "Lowest day rate",
    inputmode: "decimal",
    width: "m",
    prefix: "£",
    value: penceToPounds(p?.day_rate_min_pence ?? 0),
  });
  const rateMax = textInput({
    id: "listing-rate-max",
    label: "Highest day rate",
    inputmode: "decimal",
    width: "m",
    prefix: "£",
    value: penceToPounds(p?.day_rate_max_pence ?? 0),
  });
  const contactName = textInput({ id: "listing-contact-name", label: "Contact name", value: p?.contact.name ?? "", autocomplete: "name" });
  const contactEmail = textInput({ id: "listing-contact-email", label: "E-mail address", type: "email", spellcheck: false, value: p?.contact.email ?? "" });
  const contactPhone = textInput({ id: "listing-contact-phone", label: "Telephone", type: "tel", width: "m", value: p?.contact.phone ?? "" });
  const contactWebsite = textInput({
    id: "listing-contact-website",
    label: "Website",
    type: "url",
    spellcheck: false,
    hint: "Starting with https://",
    value: p?.contact.website ?? "",
  });

  // Case studies: a list of small fieldsets; ids stay unique as rows come and go.
  const rows: CaseStudyRow[] = [];
  let made = 0;
  const caseList = h("div", { class: "case-study-list" });
  const addButton = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Add a case study");
  const renumber = () => {
    rows.forEach((r, i) => {
      r.legend.textContent = `Case study ${i + 1}`;
      r.remove.textContent = "";
      r.remove.append("Remove", h("span", { class: "nhsuk-u-visually-hidden" }, ` case study ${i + 1}`));
    });
  };
  const addRow = (c: { title: string; client: string; summary: string } | null, focus: boolean) => {
    const n = ++made;
    const row: CaseStudyRow = {
      el: h("fieldset", { class: "nhsuk-fieldset case-study-edit" }),
      legend: h("legend", { class: "nhsuk-fieldset__legend" }),
      remove: h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small" }),
      title: textInput({ id: `cs${n}-title`, label: "Title", value: c?.title ?? "" }),
      client: textInput({ id: `cs${n}-client`, label: "Client", hint: "Who the work was for, if they agree to be named.", value: c?.client ?? "" }),
      summary: textInput({ id: `cs${n}-summary`, label: "What you did and what it achieved", rows: 4, value: c?.summary ?? "" }),
    };
    row.el.append(row.legend, row.title.field.wrapper, row.client.field.wrapper, row.summary.field.wrapper, row.remove);
    row.remove.addEventListener("click", () => {
      const i = rows.indexOf(row);
      rows.splice(i, 1);
      row.el.remove();
      renumber();
      // Keep keyboard users in the list: the next case study, or Add.
      (rows[i]?.title.control ?? rows[i - 1]?.title.control ?? addButton).focus();
    });
    rows.push(row);
    caseList.append(row.el);
    renumber();
    if (focus) row.title.control.focus();
  };
  for (const c of p?.case_studies ?? []) addRow(c, false);
  addButton.addEventListener("click", () => addRow(null, true));

  const staticFields: Field[] = [
    summary.field,
    capabilities.field,
    regions.field,
    size.field,
    accreditations.field,
    rateMin.field,
    rateMax.field,
    contactName.field,
    contactEmail.field,
    contactPhone.field,
    contactWebsite.field,
  ];
  const allFields = (): Field[] => [...staticFields, ...rows.flatMap((r) => [r.title.field, r.client.field, r.summary.field])];

  const byName: Record<string, Field> = {
    summary: summary.field,
    capabilities: capabilities.field,
    regions: regions.field,
    size: size.field,
    accreditations: accreditations.field,
    day_rate_min_pence: rateMin.field,
    day_rate_max_pence: rateMax.field,
    "contact.name": contactName.field,
    "contact.email": contactEmail.field,
    "contact.phone": contactPhone.field,
    "contact.website": contactWebsite.field,
  };
  const resolve = (field: string): Field | null => {
    const cs = /^case_studies\[(\d+)\](?:\.(title|client|summary))?$/.exec(field);
    if (cs) {
      const row = rows[Number(cs[1])];
      if (!row) return null;
      return row[(cs[2] ?? "title") as "title" | "client" | "summary"].field;
    }
    // "capabilities[2]" is the capabilities question, and so on.
    return byName[field.replace(/\[\d+\]$/, "")] ?? null;
  };

  const build = (): ProviderUpdate | FieldError[] => {
    const errors: FieldError[] = [];
    const pounds = (f: ReturnType<typeof textInput>, field: string): number => {
      if (!f.control.value.trim()) return 0;
      const v = parsePounds(f.control.value);
      if (v === null) errors.push({ field, message: "Enter an amount in pounds, for example 650 or 650.50" });
      return v ?? 0;
    };
    const min = pounds(rateMin, "day_rate_min_pence");
    const max = pounds(rateMax, "day_rate_max_pence");
    if (errors.length) return errors;
    return {
      summary: summary.control.value.trim(),
      capabilities: capabilities.value(),
      regions: regions.value(),
      size: size.control.value,
      accreditations: accreditations.control.value
        .split("\n")
        .map((s) => s.trim())
        .filter(Boolean),
      day_rate_min_pence: min,
      day_rate_max_pence: max,
      case_studies: rows.map((r) => ({
        title: r.title.control.value.trim(),
        client: r.client.control.value.trim(),
        summary: r.summary.control.value.trim(),
      })),
      contact: {
        name: contactName.control.value.trim(),
        email: contactEmail.control.value.trim(),
        phone: contactPhone.control.value.trim(),
        website: contactWebsite.control.value.trim(),
      },
    };
  };

  const problem = h("div");
  // A new supplier's listing is empty, without a size, until it is first
  // written (older servers answered 404 instead): publishing writes it.
  const creating = p === null || !p.size;
  const submitText = creating ? "Publish your listing" : "Save your listing";
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, submitText);
  const form = h(
    "form",
    { class: "form", novalidate: true, "aria-labelledby": "listing-title" },
    h("h2", { class: "nhsuk-heading-l" }, "About your organisation"),
    summary.field.wrapper,
    capabilities.field.wrapper,
    regions.field.wrapper,
    size.field.wrapper,
    accreditations.field.wrapper,
    h("h2", { class: "nhsuk-heading-l" }, "Day rates"),
    h("p", { class: "nhsuk-hint" }, "In pounds, for example 550 and 950. Leave both empty if you would rather not say."),
    h("div", { class: "field-row" }, rateMin.field.wrapper, rateMax.field.wrapper),
    h("h2", { class: "nhsuk-heading-l" }, "Case studies"),
    h("p", { class: "nhsuk-hint" }, "Work you have done for CCGs or similar organisations. Buyers find these the most useful part of a listing."),
    caseList,
    h("div", { class: "nhsuk-form-group" }, addButton),
    h("h2", { class: "nhsuk-heading-l" }, "Contact"),
    contactName.field.wrapper,
    contactEmail.field.wrapper,
    contactPhone.field.wrapper,
    contactWebsite.field.wrapper,
    h("div", { class: "nhsuk-button-group" }, submit, h("a", { href: `?provider=${encodeURIComponent(id)}`, class: "nhsuk-link" }, "See your public profile")),
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
      submit.textContent = "Saving…";
      let saved: Awaited<ReturnType<typeof updateListing>>;
      try {
        saved = await authed((token) => updateListing(token, id, etag, body));
      } catch (err) {
        submit.disabled = false;
        submit.textContent = submitText;
        if (err instanceof ApiError && (err.status === 412 || err.status === 428)) {
          clearErrors(allFields());
          const box = changedElsewhere(then.reload);
          replace(problem, box);
          box.focus();
          return;
        }
        showProblem(problem, err, allFields(), resolve);
        return;
      }
      // The answer is the listing as saved, with its new ETag: the next
      // save is based on it.
      then.show(
        saved.provider,
        saved.etag,
        banner(
          "success",
          creating ? "Your listing is published" : "Your listing is saved",
          h(
            "p",
            null,
            "Buyers see the change in the directory now. ",
            h("a", { href: `?provider=${encodeURIComponent(id)}`, class: "nhsuk-link" }, "See your public profile"),
          ),
        ),
        true,
      );
    })();
  });

  return h(
    "div",
    null,
    notice,
    h("span", { class: "nhsuk-caption-l" }, me.organisation.name),
    h("h1", { class: "nhsuk-heading-xl", id: "listing-title", tabindex: -1 }, "Your listing"),
    h(
      "p",
      { class: "nhsuk-lede-text" },
      creating
        ? "You have no listing yet. Fill this in and publish it, and CCGs will find you in the directory."
        : "This is what CCGs see in the directory. Change what you need and save.",
    ),
    problem,
    form,
  );
}

// changedElsewhere explains a 412: the listing was saved by someone else
// (or another tab) after this page loaded it, and offers to load it again.
function changedElsewhere(reload: () => void): HTMLElement {
  const button = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Reload the listing");
  button.addEventListener("click", reload);
  return h(
    "div",
    { class: "nhsuk-error-summary", role: "alert", tabindex: -1, "aria-labelledby": "stale-title" },
    h("h2", { class: "nhsuk-error-summary__title", id: "stale-title" }, "Your listing has changed since you opened it"),
    h(
      "p",
      null,
      "Someone saved a change to this listing after this page loaded it, perhaps a colleague or you in another tab. Your edits have not been saved, so that theirs are not lost.",
    ),
    h("p", null, "Reload the listing to see the latest version, then make your edits again. Copy any text you want to keep first."),
    button,
  );
}

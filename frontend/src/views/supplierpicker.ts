// supplierPicker names suppliers from the whole directory: a search box
// (the directory's ?q=, debounced) whose results are checkboxes, the
// suppliers already chosen kept, checked, above them across searches; a
// live region says how many suppliers each search found.
import { listProviders } from "../api/client";
import { h, replace } from "../dom";
import type { Field } from "./form";

interface Named {
  id: string;
  name: string;
}

const pageSize = 100;
const waitMs = 300;

export function supplierPicker(o: { id: string; label: string; hint?: string }, signal: AbortSignal): { field: Field; value(): string[] } {
  const chosen = new Map<string, string>();
  let results: Named[] = [];
  const search = h("input", {
    type: "search",
    class: "nhsuk-input nhsuk-u-width-two-thirds",
    id: `${o.id}-q`,
    name: `${o.id}-q`,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${o.id}-q-hint`,
    "aria-controls": `${o.id}-list`,
    "data-label": o.label,
  });
  const status = h("p", { class: "nhsuk-body-s", role: "status", "aria-live": "polite", id: `${o.id}-status` });
  const list = h("div", { class: "nhsuk-checkboxes app-columns", id: `${o.id}-list` });

  const render = () => {
    const shown: Named[] = [...[...chosen].map(([id, name]) => ({ id, name })), ...results.filter((r) => !chosen.has(r.id))];
    replace(
      list,
      ...shown.map((s, i) => {
        const input = h("input", { type: "checkbox", class: "nhsuk-checkboxes__input", id: `${o.id}-${i}`, name: o.id, value: s.id, "data-label": o.label });
        input.checked = chosen.has(s.id);
        input.addEventListener("change", () => {
          if (input.checked) chosen.set(s.id, s.name);
          else chosen.delete(s.id);
        });
        return h("div", { class: "nhsuk-checkboxes__item" }, input, h("label", { class: "nhsuk-label nhsuk-checkboxes__label", for: input.id }, s.name));
      }),
    );
  };

  let running: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const find = async (q: string) => {
    running?.abort();
    const mine = new AbortController();
    running = mine;
    try {
      const page = await listProviders(q ? { q, page_size: pageSize } : { page_size: pageSize }, mine.signal);
      if (mine.signal.aborted) return;
      results = page.items.map((p) => ({ id: p.id, name: p.name }));
      render();
      const n = results.length;
      const count = `${n}${page.next_cursor ? " or more" : ""} ${n === 1 && !page.next_cursor ? "supplier" : "suppliers"}`;
      status.textContent = !q
        ? `${count} listed. Search to find any other.`
        : n
          ? `${count} found for “${q}”.`
          : `No supplier found for “${q}”.`;
    } catch (err) {
      if (mine.signal.aborted || (err instanceof DOMException && err.name === "AbortError")) return;
      status.textContent = "The directory could not be searched. Name the supplier in the details instead.";
    }
  };
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void find(search.value.trim()), waitMs);
  });
  // Enter in the search box searches at once rather than submitting the form.
  search.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    clearTimeout(timer);
    void find(search.value.trim());
  });
  signal.addEventListener("abort", () => {
    clearTimeout(timer);
    running?.abort();
  });
  void find("");

  const fieldset = h(
    "fieldset",
    { class: "nhsuk-fieldset", "aria-describedby": o.hint ? `${o.id}-hint` : null },
    h("legend", { class: "nhsuk-fieldset__legend nhsuk-fieldset__legend--s" }, o.label),
    o.hint ? h("p", { class: "nhsuk-hint", id: `${o.id}-hint` }, o.hint) : null,
    h("label", { class: "nhsuk-label", for: search.id }, "Search suppliers by name"),
    h("p", { class: "nhsuk-hint", id: `${o.id}-q-hint` }, "Results show as you type. Suppliers you have ticked stay ticked, at the top."),
    search,
    status,
    list,
  );
  const wrapper = h("div", { class: "nhsuk-form-group", id: `field-${o.id}` }, fieldset);
  return {
    field: { wrapper, focus: search, described: fieldset, before: search },
    value: () => [...chosen.keys()],
  };
}

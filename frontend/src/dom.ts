// A small element builder. Text always goes in as text nodes, never as HTML,
// so provider content cannot inject markup.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

// Every table in the app is an NHS.UK table, so its parts carry the
// component's classes without each view naming them; "num" right-aligns a
// column of figures.
const tableParts: Record<string, string> = {
  caption: "nhsuk-table__caption",
  thead: "nhsuk-table__head",
  tbody: "nhsuk-table__body",
  tr: "nhsuk-table__row",
  th: "nhsuk-table__header",
  td: "nhsuk-table__cell",
};

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  const part = tableParts[tag];
  if (part) {
    const own = typeof attrs?.class === "string" ? attrs.class.split(" ") : [];
    const numeric = own.includes("num") && (tag === "th" || tag === "td") ? ` ${part}--numeric` : "";
    attrs = { ...attrs, class: [part + numeric, ...own.filter((c) => c !== "num")].join(" ") };
  }
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(name.replace(/^on/, "").toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

/** replace swaps the content of parent for children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** card is an NHS.UK card as a list item: attrs go on the card, children in its content. */
export function card(attrs: Attrs, ...children: Child[]): HTMLLIElement {
  const { class: extra, ...rest } = attrs;
  return h("li", { ...rest, class: `nhsuk-card${extra ? ` ${String(extra)}` : ""}` }, h("div", { class: "nhsuk-card__content" }, children));
}

/**
 * scrollBox is the NHS.UK scroll component around a wide table: on a
 * narrow screen the table scrolls inside it, not the page. It can take
 * focus, so a keyboard user can scroll it too.
 */
export function scrollBox(table: HTMLElement, hidden = false): HTMLElement {
  const label = table.querySelector("caption")?.textContent ?? "Table";
  return h("div", { class: "nhsuk-scroll", hidden }, h("div", { class: "nhsuk-scroll__content", tabindex: 0, role: "region", "aria-label": label }, table));
}

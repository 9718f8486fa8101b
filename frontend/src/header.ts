// The header's navigation, in nhsuk-frontend's header markup and run by its
// Header component (imported alone, not the whole package), which moves the
// links that do not fit on one line into its "More" menu at narrow widths
// and back as the window widens.
import { Header } from "nhsuk-frontend/dist/nhsuk/components/header/header.mjs";
import { h, replace } from "./dom";

/** NavLink is one link of the header's navigation. */
export interface NavLink {
  href: string;
  text: string;
  current: boolean;
}

const root = document.querySelector<HTMLElement>("header.nhsuk-header");
const list = document.getElementById("site-nav-list");
let header: Header | null = null;
let shown = "";

// The design system's components run only where its JavaScript is
// supported (a browser with ES modules, as this one is); its CSS then
// hides conditional reveals and lays the navigation out on one line.
document.body.classList.add("js-enabled", "nhsuk-frontend-supported");

/** setNavigation shows links in the header, marking the current page. */
export function setNavigation(links: NavLink[]): void {
  if (!root || !list) return;
  const key = links.map((l) => `${l.href} ${l.text}`).join("\n");
  if (key === shown) {
    // The same links: mark the page shown where each link is now, in the
    // list or in the More menu, and let the header measure them again.
    for (const li of root.querySelectorAll<HTMLElement>(".nhsuk-header__navigation-item")) {
      const l = links.find((x) => x.href === li.dataset.href);
      if (l) mark(li, l);
    }
    header?.updateNavigation();
    return;
  }
  shown = key;
  stop();
  replace(
    list,
    links.map((l) => mark(h("li", { class: "nhsuk-header__navigation-item", "data-href": l.href }), l)),
    h(
      "li",
      { class: "nhsuk-header__menu", hidden: true },
      h(
        "button",
        { class: "nhsuk-header__menu-toggle nhsuk-header__navigation-link", id: "toggle-menu", "aria-expanded": "false" },
        h("span", { class: "nhsuk-u-visually-hidden" }, "Browse "),
        "More",
      ),
    ),
  );
  try {
    header = new Header(root);
  } catch {
    // Without the component the links still show, wrapping onto more lines.
    document.body.classList.remove("nhsuk-frontend-supported");
    header = null;
  }
}

/** mark fills li with its link, marked as the template marks the current page. */
function mark(li: HTMLElement, l: NavLink): HTMLElement {
  li.classList.toggle("nhsuk-header__navigation-item--current", l.current);
  replace(
    li,
    h(
      "a",
      { class: "nhsuk-header__navigation-link", href: l.href, "aria-current": l.current ? "page" : null },
      l.current ? h("strong", { class: "nhsuk-header__navigation-item-current-fallback" }, l.text) : l.text,
    ),
  );
  return li;
}

/** stop detaches the running Header from the links it is about to lose. */
function stop(): void {
  if (!header || !root) return;
  header.closeMenu();
  window.removeEventListener("resize", header.handleResizeMenu);
  header.resizeObserver?.disconnect();
  root.removeAttribute(`data-${Header.moduleName}-init`);
  header = null;
}

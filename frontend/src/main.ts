import "./style.css";
import { h, replace } from "./dom";
import { loadReference, makeReference, type Reference } from "./reference";
import { Directory, filtersFrom } from "./views/directory";
import { errorSummary } from "./views/problem";
import { renderProfile } from "./views/profile";

const main = document.getElementById("main") as HTMLElement;
const siteName = "csmarket";

let directory: Directory | null = null;
let profileAbort: AbortController | null = null;
// The directory query the user last saw, for the profile's back link.
let lastDirectorySearch = "";

history.scrollRestoration = "manual";

interface NavState {
  fromDirectory?: boolean;
  scrollY?: number;
}

function state(): NavState {
  return (history.state as NavState | null) ?? {};
}

/** navigate moves to url within the app, remembering where the page was scrolled. */
function navigate(url: string, extra: NavState = {}): void {
  history.replaceState({ ...state(), scrollY: window.scrollY }, "");
  history.pushState(extra, "", url);
  void render({ moveFocus: true, scrollY: 0 });
}

function setTitle(title: string): void {
  document.title = `${title} – ${siteName}`;
}

function focusHeading(): void {
  main.querySelector<HTMLElement>("h1")?.focus({ preventScroll: true });
}

async function reference(): Promise<Reference> {
  try {
    return await loadReference();
  } catch {
    // Cards and profiles still make sense with keys shown as words.
    return makeReference([], []);
  }
}

let renderSeq = 0;

async function render(opts: { moveFocus: boolean; scrollY: number }): Promise<void> {
  const seq = ++renderSeq;
  const params = new URLSearchParams(location.search);
  const id = params.get("provider");
  profileAbort?.abort();
  profileAbort = null;

  if (id) {
    const abort = new AbortController();
    profileAbort = abort;
    const fromDirectory = state().fromDirectory === true;
    const back = h("a", { href: lastDirectorySearch ? `?${lastDirectorySearch}` : "./", class: "back-link" }, "Back to the directory");
    if (fromDirectory) {
      back.addEventListener("click", (ev) => {
        ev.preventDefault();
        history.back();
      });
    }
    replace(main, h("p", { class: "loading", role: "status" }, "Loading the provider…"));
    try {
      const ref = await reference();
      const page = await renderProfile(id, ref, back, abort.signal);
      if (seq !== renderSeq) return;
      setTitle(page.title);
      replace(main, page.el);
    } catch (err) {
      if (abort.signal.aborted || seq !== renderSeq) return;
      throw err;
    }
  } else {
    const filters = filtersFrom(params);
    if (!directory) {
      let ref: Reference;
      try {
        ref = await loadReference();
      } catch (err) {
        if (seq !== renderSeq) return;
        setTitle("Error: the directory could not be shown");
        replace(
          main,
          h("h1", { class: "heading-xl", tabindex: -1 }, "Sorry, the directory could not be shown"),
          errorSummary(err),
          h("p", null, h("a", { href: location.href, class: "link" }, "Try again")),
        );
        if (opts.moveFocus) focusHeading();
        return;
      }
      if (seq !== renderSeq) return;
      directory = new Directory(ref, (query) => {
        const url = query ? `?${query}` : location.pathname;
        if (`?${query}` === location.search || (!query && !location.search)) {
          void render({ moveFocus: false, scrollY: window.scrollY });
        } else {
          navigate(url);
        }
      });
    }
    if (main.firstElementChild !== directory.el) replace(main, directory.el);
    setTitle("Find commissioning support");
    lastDirectorySearch = location.search.replace(/^\?/, "");
    const shown = directory.show(filters);
    window.scrollTo(0, opts.scrollY);
    if (opts.moveFocus) focusHeading();
    await shown;
    if (seq !== renderSeq) return;
    if (opts.scrollY > 0) window.scrollTo(0, opts.scrollY);
    if (main.querySelector(".error-summary")) document.title = `Error: ${document.title}`;
    return;
  }
  window.scrollTo(0, opts.scrollY);
  if (opts.moveFocus) focusHeading();
}

// Links inside the app change the view without reloading the page; anything
// else (another page, a new tab, a download) is left to the browser.
document.addEventListener("click", (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = (ev.target as Element | null)?.closest?.("a");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname !== location.pathname) return;
  if (url.search === location.search && url.hash) return; // in-page anchor, e.g. the skip link
  ev.preventDefault();
  const fromDirectory = !new URLSearchParams(location.search).has("provider") && url.searchParams.has("provider");
  navigate(url.pathname + url.search, { fromDirectory });
});

window.addEventListener("popstate", () => {
  void render({ moveFocus: true, scrollY: state().scrollY ?? 0 });
});

void render({ moveFocus: false, scrollY: 0 });

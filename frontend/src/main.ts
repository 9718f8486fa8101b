import "./style.scss";
import { h, replace } from "./dom";
import { setNavigation, type NavLink } from "./header";
import { loadReference, makeReference, type Reference } from "./reference";
import { getTender, type TenderWithTag } from "./api/client";
import { authed, current, onChange, reloadMe, restore, signOut } from "./session";
import { auditPage } from "./views/audit";
import { marketPage } from "./views/market";
import { myBidsPage, myTendersPage } from "./views/mine";
import { accountPage, roleLabels } from "./views/account";
import { Directory, filtersFrom } from "./views/directory";
import { comparisonPage } from "./views/comparison";
import { listingPage } from "./views/listing";
import { opportunitiesPage } from "./views/opportunities";
import { tenderPage } from "./views/tender";
import { tenderFormPage } from "./views/tender-form";
import { banner } from "./views/form";
import { operatorPage } from "./views/operator";
import { operatorLeviesPage, supplierLeviesPage } from "./views/levies";
import { notificationPreferencesPage, notificationsPage, unsubscribePage } from "./views/notifications";
import { bell, pageShown, startNotifications } from "./notifications";
import { errorSummary } from "./views/problem";
import { renderProfile } from "./views/profile";
import { registerPage } from "./views/register";
import { homeOf, signInPage, type Page } from "./views/signin";

const main = document.getElementById("main") as HTMLElement;
const accountNav = document.getElementById("account-nav") as HTMLElement;
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

// A notice for the sign-in page shown next, e.g. "You have signed out".
let notice: string | null = null;
// Set between a registration and the account page that confirms it.
let justRegistered = false;

// Pages that need a signed-in user; anyone else is asked to sign in first.
const privatePages = new Set([
  "account",
  "listing",
  "operator",
  "new-tender",
  "comparison",
  "levies",
  "operator-levies",
  "notifications",
  "notification-preferences",
  "my-tenders",
  "my-bids",
  "edit-tender",
  "audit",
]);

// A banner for the tender page shown next, e.g. after publishing it.
let tenderNotice: HTMLElement | null = null;

function signInUrl(next: string): string {
  return `?page=sign-in&next=${encodeURIComponent(next)}`;
}

/** navLink is one link of the header's navigation, current when it is the page shown. */
function navLink(href: string, text: string): NavLink {
  const current = new URLSearchParams(location.search).get("page") === new URLSearchParams(href.replace(/^[^?]*/, "")).get("page");
  return { href, text, current };
}

/** renderAccountNav shows, in the header, who is signed in, their account links and the site's pages for their role. */
function renderAccountNav(): void {
  const me = current();
  const item = (href: string, text: string) => h("li", { class: "nhsuk-header__account-item" }, h("a", { href, class: "nhsuk-header__account-link" }, text));
  const buyer = me?.role === "buyer" && me.organisation.kind === "buyer";
  const links: (NavLink | null)[] = [
    navLink("./", "Providers"),
    navLink("?page=opportunities", "Opportunities"),
    navLink("?page=market", "Market"),
    buyer ? navLink("?page=my-tenders", "My tenders") : null,
    buyer ? navLink("?page=new-tender", "Publish a tender") : null,
    me?.role === "evaluator" ? navLink("?page=my-tenders", "Tenders to score") : null,
    me?.role === "supplier" ? navLink("?page=my-bids", "My bids") : null,
    me?.role === "supplier" ? navLink("?page=listing", "Your listing") : null,
    me?.role === "supplier" ? navLink("?page=levies", "Levies") : null,
    me?.role === "operator" ? navLink("?page=operator", "Approvals") : null,
    me?.role === "operator" ? navLink("?page=audit", "Audit trail") : null,
    me?.role === "operator" ? navLink("?page=operator-levies", "Levies") : null,
  ];
  setNavigation(links.filter((l): l is NavLink => l !== null));
  if (!me) {
    replace(accountNav, h("ul", { class: "nhsuk-header__account-list" }, item("?page=sign-in", "Sign in"), item("?page=register", "Register")));
    return;
  }
  const out = h("button", { type: "button", class: "nhsuk-header__account-button" }, "Sign out");
  out.addEventListener("click", () => {
    notice = "You have signed out.";
    void signOut();
    navigate("?page=sign-in");
  });
  replace(
    accountNav,
    h(
      "ul",
      { class: "nhsuk-header__account-list" },
      h(
        "li",
        { class: "nhsuk-header__account-item" },
        h(
          "span",
          null,
          h("span", { class: "nhsuk-u-visually-hidden" }, "Signed in as "),
          h("strong", null, me.user.name),
          `, ${me.organisation.name} (${roleLabels[me.role] ?? me.role})`,
        ),
      ),
      h("li", { class: "nhsuk-header__account-item" }, bell()),
      item("?page=account", "Your account"),
      h("li", { class: "nhsuk-header__account-item" }, out),
    ),
  );
}

onChange((change) => {
  renderAccountNav();
  if (change === "ended") {
    notice = "Your session has ended. Sign in again to carry on.";
    const name = new URLSearchParams(location.search).get("page");
    if (name && privatePages.has(name)) navigate(signInUrl(location.search));
  }
});

function notFound(): Page {
  return {
    title: "Page not found",
    el: h(
      "div",
      null,
      h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Page not found"),
      h("p", null, "If you typed the address, check it is correct."),
      h("p", null, h("a", { href: "./", class: "nhsuk-link" }, "Find commissioning support")),
    ),
  };
}

/** accountView builds one of the account pages: sign-in, register and those needing a user. */
async function accountView(name: string, params: URLSearchParams, signal: AbortSignal): Promise<Page> {
  const shownNotice = notice;
  notice = null;
  const me = current();
  switch (name) {
    case "sign-in":
      return signInPage(params.get("next"), shownNotice, (url) => navigate(url));
    case "register":
      return registerPage(
        await reference(),
        params.get("kind"),
        () => {
          justRegistered = true;
          navigate("?page=account");
        },
        () => {
          notice = "Your organisation is registered. Sign in to carry on.";
          navigate("?page=sign-in");
        },
      );
    case "opportunities":
      return opportunitiesPage(await reference(), params, (url) => navigate(url), signal);
    case "market":
      return marketPage(signal);
    case "unsubscribe":
      return unsubscribePage(params, me !== null);
    case "tender": {
      const shown = tenderNotice;
      tenderNotice = null;
      return tenderPage(params.get("id") ?? "", me, await reference(), shown, signal);
    }
  }
  if (!me) return notFound();
  switch (name) {
    case "account": {
      const registered = justRegistered;
      justRegistered = false;
      // The organisation's status may have changed since sign-in (approved).
      const fresh = await reloadMe().catch(() => current() ?? me);
      return accountPage(fresh, registered);
    }
    case "listing":
      return listingPage(me, await reference(), signal);
    case "operator":
      return operatorPage(me, await reference());
    case "levies":
      return supplierLeviesPage(me, signal);
    case "operator-levies":
      return operatorLeviesPage(me, params, (url) => navigate(url), signal);
    case "new-tender":
      return tenderFormPage(me, await reference(), (t) => {
        tenderNotice = banner("success", "Your tender is published", "Suppliers can see it in Opportunities, ask questions and bid until the deadline.");
        navigate(`?page=tender&id=${encodeURIComponent(t.id)}`);
      });
    case "comparison":
      return comparisonPage(params.get("id") ?? "", me, signal);
    case "my-tenders":
      return myTendersPage(me, signal);
    case "my-bids":
      return myBidsPage(me, signal);
    case "audit":
      return auditPage(me, params, signal);
    case "edit-tender": {
      const id = params.get("id") ?? "";
      let existing: TenderWithTag;
      try {
        existing = await authed((tok) => getTender(id, tok, signal));
      } catch (err) {
        return { title: "Tender not found", el: h("div", null, h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Sorry, this draft could not be shown"), errorSummary(err)) };
      }
      if (existing.tender.status !== "draft") {
        return { title: "Not a draft", el: h("div", null, h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "This tender is no longer a draft"), h("p", null, h("a", { href: `?page=tender&id=${encodeURIComponent(id)}`, class: "nhsuk-link" }, "See the tender"))) };
      }
      return tenderFormPage(
        me,
        await reference(),
        (t) => {
          tenderNotice = banner("success", "Your tender is published", "Suppliers can see it in Opportunities, ask questions and bid until the deadline.");
          navigate(`?page=tender&id=${encodeURIComponent(t.id)}`);
        },
        existing,
      );
    }
    case "notifications":
      return notificationsPage(me, params, (url) => navigate(url), signal);
    case "notification-preferences":
      return notificationPreferencesPage(me, signal);
  }
  return notFound();
}

async function render(opts: { moveFocus: boolean; scrollY: number }): Promise<void> {
  const seq = ++renderSeq;
  pageShown();
  renderAccountNav();
  let params = new URLSearchParams(location.search);
  const id = params.get("provider");
  let pageName = params.get("page");
  profileAbort?.abort();
  profileAbort = null;

  if (pageName !== null) {
    if (privatePages.has(pageName) && !current()) {
      history.replaceState({}, "", signInUrl(location.search));
      params = new URLSearchParams(location.search);
      pageName = "sign-in";
    } else if (pageName === "sign-in" && current()) {
      history.replaceState({}, "", homeOf(current()!));
      return render(opts);
    }
    const abort = new AbortController();
    profileAbort = abort;
    replace(main, h("p", { class: "loading", role: "status" }, "Loading…"));
    const page = await accountView(pageName, params, abort.signal);
    if (seq !== renderSeq) return;
    setTitle(page.title);
    replace(main, page.el);
    if (main.querySelector(".nhsuk-error-summary")) document.title = `Error: ${document.title}`;
  } else if (id) {
    const abort = new AbortController();
    profileAbort = abort;
    const fromDirectory = state().fromDirectory === true;
    const back = h("a", { href: lastDirectorySearch ? `?${lastDirectorySearch}` : "./", class: "nhsuk-back-link" }, "Back to the directory");
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
      const me = current();
      if (me?.role === "supplier" && me.organisation.id === id) {
        page.el.querySelector("h1")?.after(h("p", null, h("a", { href: "?page=listing", class: "nhsuk-link" }, "Edit your listing")));
      }
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
          h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Sorry, the directory could not be shown"),
          errorSummary(err),
          h("p", null, h("a", { href: location.href, class: "nhsuk-link" }, "Try again")),
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
    if (main.querySelector(".nhsuk-error-summary")) document.title = `Error: ${document.title}`;
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

startNotifications();

// A reload of the tab picks up its session before the first page is shown,
// so that a private page does not flash the sign-in form.
void restore().finally(() => {
  renderAccountNav();
  void render({ moveFocus: false, scrollY: 0 });
});

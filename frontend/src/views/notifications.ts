// Notifications: the signed-in user's inbox (live while it is open), the
// choice of how each kind reaches them, and the page an e-mail's
// unsubscribe link opens.
import {
  ApiError,
  getNotificationPreferences,
  listNotifications,
  putNotificationPreferences,
  readAllNotifications,
  readNotification,
  unsubscribe,
  type Me,
  type Notification,
  type NotificationKind,
  type NotificationPreference,
  type Role,
} from "../api/client";
import { h, replace, scrollBox } from "../dom";
import { formatDateTime, tagClass } from "../format";
import { listStarted, noteListed, onArrival, onUnread, setUnread, unreadCount } from "../notifications";
import { authed } from "../session";
import { banner, clearErrors, showProblem, type Field } from "./form";
import { errorSummary } from "./problem";
import type { Page } from "./signin";

interface KindText {
  /** label names the kind in the preferences table. */
  label: string;
  /** hint says when a notification of the kind is sent. */
  hint: string;
  /** about finishes "csmarket will no longer e-mail you about …". */
  about: string;
}

/** Every kind of notification, in the order the API lists them. */
export const notificationKinds: NotificationKind[] = [
  "tender_published",
  "question_answered",
  "deadline_reminder",
  "bid_receipt",
  "bids_ready",
  "award_decided",
  "standstill_ended",
  "award_confirmed",
  "award_revoked",
  "tender_cancelled",
  "tender_unsuccessful",
  "levy_invoiced",
  "buyer_pending",
];

export const kindText: Record<NotificationKind, KindText> = {
  tender_published: {
    label: "New opportunities",
    hint: "A tender is published that matches your listing's capabilities and regions.",
    about: "new opportunities that match your listing",
  },
  question_answered: {
    label: "Clarification answers",
    hint: "The buyer answers a clarification question on a tender you asked about or bid for.",
    about: "answers to clarification questions",
  },
  deadline_reminder: {
    label: "Bid deadline reminders",
    hint: "Bids close soon on a tender you asked about and have not bid for.",
    about: "bid deadlines coming up",
  },
  bid_receipt: {
    label: "Bid receipts",
    hint: "Your organisation's bid is submitted, revised or withdrawn.",
    about: "receipts for your organisation's bids",
  },
  bids_ready: {
    label: "Bids ready to evaluate",
    hint: "The bid deadline of a tender you commission or evaluate has passed.",
    about: "bids ready to evaluate",
  },
  award_decided: {
    label: "Award decisions",
    hint: "The buyer decides the award of a tender you bid for, whether you won or not.",
    about: "award decisions on tenders you bid for",
  },
  standstill_ended: {
    label: "Standstill ended",
    hint: "The standstill after your CCG's award decision has ended, so the award can be confirmed.",
    about: "the end of a standstill",
  },
  award_confirmed: {
    label: "Awards confirmed",
    hint: "The award of a tender you bid for or commission is final.",
    about: "confirmed awards",
  },
  award_revoked: {
    label: "Award decisions revoked",
    hint: "An award decision on a tender you bid for or commission is revoked during the standstill.",
    about: "revoked award decisions",
  },
  tender_cancelled: {
    label: "Tenders cancelled",
    hint: "A tender you bid for or commission is cancelled.",
    about: "cancelled tenders",
  },
  tender_unsuccessful: {
    label: "Tenders ended without award",
    hint: "A tender you bid for or commission ends without an award.",
    about: "tenders that end without an award",
  },
  levy_invoiced: {
    label: "Levy invoices",
    hint: "The marketplace levy on a contract your organisation won is invoiced.",
    about: "levy invoices",
  },
  buyer_pending: {
    label: "CCGs waiting for approval",
    hint: "A CCG has registered and waits for the operator's approval.",
    about: "CCGs waiting for approval",
  },
};

// The kinds each role can receive, from whom the API sends each to: the
// preferences page offers only these.
const kindsByRole: Partial<Record<Role, NotificationKind[]>> = {
  supplier: [
    "tender_published",
    "question_answered",
    "deadline_reminder",
    "bid_receipt",
    "award_decided",
    "award_confirmed",
    "award_revoked",
    "tender_cancelled",
    "tender_unsuccessful",
    "levy_invoiced",
  ],
  buyer: ["bids_ready", "standstill_ended", "award_confirmed", "award_revoked", "tender_cancelled", "tender_unsuccessful"],
  evaluator: ["bids_ready"],
  operator: ["buyer_pending"],
};

function textOf(kind: string): KindText {
  const known = (kindText as Record<string, KindText | undefined>)[kind];
  if (known) return known;
  const words = kind.replace(/_/g, " ");
  return { label: words.charAt(0).toUpperCase() + words.slice(1), hint: "", about: `notifications of the kind “${words}”` };
}

/**
 * appHref turns a notification's link (a path of the app such as
 * `/?page=tender&id=…`) into an address relative to this page, so that it
 * works wherever the app is served; anything else is no link.
 */
export function appHref(link: string | undefined): string | null {
  if (!link) return null;
  try {
    const u = new URL(link, location.origin);
    if (u.origin !== location.origin) return null;
    return u.search ? `${u.search}${u.hash}` : "./";
  } catch {
    return null;
  }
}

function unreadText(n: number): string {
  if (n === 0) return "You have no unread notifications.";
  return n === 1 ? "You have 1 unread notification." : `You have ${n} unread notifications.`;
}

function stateTag(read: boolean): HTMLElement {
  return h("strong", { class: tagClass(read ? "read" : "unread") }, read ? "Read" : "Unread");
}

interface ItemActions {
  markRead(n: Notification, li: HTMLLIElement, button: HTMLButtonElement | null): void;
}

function notificationItem(n: Notification, a: ItemActions): HTMLLIElement {
  const href = appHref(n.link);
  const li = h("li", {
    class: `notification ${n.read ? "notification--read" : "notification--unread"}`,
    "data-notification": n.id,
    "data-seq": n.seq,
    tabindex: -1,
  });
  const title = href ? h("a", { href, class: "notification__link" }, n.title) : n.title;
  const button = n.read
    ? null
    : h(
        "button",
        // Named with the title, so that each button says which it reads.
        { type: "button", class: "nhsuk-button nhsuk-button--secondary nhsuk-button--small notification__read", "aria-label": `Mark as read: ${n.title}` },
        "Mark as read",
      );
  button?.addEventListener("click", () => a.markRead(n, li, button));
  if (href && !n.read && title instanceof HTMLAnchorElement) {
    // Opening a notification reads it; its page is shown at once.
    title.addEventListener("click", () => {
      if (li.classList.contains("notification--unread")) a.markRead(n, li, null);
    });
  }
  li.append(
    h("h2", { class: "notification__title" }, title),
    h(
      "p",
      { class: "notification__meta" },
      stateTag(n.read),
      " ",
      h("span", null, "Received ", h("time", { datetime: n.created_at }, formatDateTime(n.created_at))),
    ),
    h("p", { class: "notification__body" }, n.body),
  );
  if (button) li.append(button);
  return li;
}

/** showRead marks an item of the list read, in words as well as in style. */
function showRead(li: HTMLLIElement): void {
  li.classList.replace("notification--unread", "notification--read");
  li.querySelector(".nhsuk-tag")?.replaceWith(stateTag(true));
  li.querySelector(".notification__read")?.remove();
}

/**
 * notificationsPage is the inbox, newest first, with an unread-only filter
 * kept in the URL. While it is shown, notifications that arrive are put at
 * the top. go moves to another address in the app (a new filter).
 */
export async function notificationsPage(me: Me, params: URLSearchParams, go: (url: string) => void, signal: AbortSignal): Promise<Page> {
  const unreadOnly = params.get("unread") === "true";
  const title = unreadOnly ? "Notifications: unread only" : "Notifications";
  const root = h("div", { class: "notifications-page" });

  const filter = h("input", { type: "checkbox", class: "choice__input", id: "notifications-unread", name: "unread", value: "true" });
  filter.checked = unreadOnly;
  const form = h(
    "form",
    { class: "filters notifications__filters", "aria-label": "Filter notifications" },
    h("div", { class: "choice" }, filter, h("label", { class: "choice__label", for: filter.id }, "Show unread only")),
    h("button", { type: "submit", class: "nhsuk-button nhsuk-button--secondary" }, "Apply filter"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    go(filter.checked ? "?page=notifications&unread=true" : "?page=notifications");
  });

  const summary = h("p", { class: "notifications__unread" }, unreadText(unreadCount()));
  const stopCount = onUnread((n) => {
    summary.textContent = unreadText(n);
  });
  const status = h("p", { class: "results__status", role: "status", "aria-live": "polite" });
  const problem = h("div", { class: "notifications__problem" });
  const list = h("ol", { class: "notifications" });
  const empty = h(
    "div",
    { class: "empty", hidden: true },
    h("h2", { class: "nhsuk-heading-s" }, unreadOnly ? "You have no unread notifications" : "You have no notifications"),
    unreadOnly
      ? h("p", null, h("a", { href: "?page=notifications" }, "Show every notification"), ".")
      : h("p", null, "csmarket tells you here, as it happens, when something on the marketplace concerns you."),
  );
  const more = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary", hidden: true }, "Load more notifications");
  const markAll = h("button", { type: "button", class: "nhsuk-button nhsuk-button--secondary" }, "Mark all as read");
  let cursor = "";

  const showFailure = (err: unknown, lead?: string) => {
    const box = errorSummary(err);
    if (lead) box.querySelector(".nhsuk-error-summary__title")?.after(h("p", null, lead));
    replace(problem, box);
    box.focus();
  };

  const shownIds = () => new Set(Array.from(list.querySelectorAll<HTMLElement>("[data-notification]"), (li) => li.dataset.notification));
  const refreshEmpty = () => {
    const any = list.childElementCount > 0;
    list.hidden = !any;
    empty.hidden = any;
  };

  const actions: ItemActions = {
    markRead(n, li, button) {
      if (button) button.disabled = true;
      void (async () => {
        try {
          const done = await authed((t) => readNotification(t, n.id));
          if (!li.classList.contains("notification--unread")) return; // marked meanwhile (Mark all)
          showRead(li);
          setUnread(unreadCount() - 1);
          if (done.read && button) {
            replace(problem);
            li.focus();
            status.textContent = `Marked as read: ${n.title}.`;
          }
        } catch (err) {
          if (button) button.disabled = false;
          if (button || li.isConnected) showFailure(err, `${n.title} was not marked as read.`);
        }
      })();
    },
  };

  const fetchPage = async (focusNew: boolean): Promise<void> => {
    more.disabled = true;
    try {
      const first = !cursor;
      const started = listStarted();
      const page = await authed((t) => listNotifications(t, { unread: unreadOnly, cursor, pageSize: 20 }, signal));
      replace(problem);
      // The first page is the newest, so its count can be squared with what came live meanwhile.
      if (first) noteListed(page.items, page.unread_count, started);
      const have = shownIds();
      const items = page.items.filter((n) => !have.has(n.id)).map((n) => notificationItem(n, actions));
      list.append(...items);
      cursor = page.next_cursor ?? "";
      more.hidden = !cursor;
      refreshEmpty();
      if (focusNew) {
        items[0]?.focus();
        status.textContent =
          items.length === 1 ? "1 more notification shown." : `${items.length} more notifications shown${cursor ? ", and there are more" : ""}.`;
      }
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") return;
      showFailure(err);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void fetchPage(true));

  markAll.addEventListener("click", () => {
    void (async () => {
      markAll.disabled = true;
      try {
        const marked = await authed((t) => readAllNotifications(t));
        replace(problem);
        for (const li of list.querySelectorAll<HTMLLIElement>(".notification--unread")) showRead(li);
        setUnread(0);
        status.textContent =
          marked === 0 ? "You had no unread notifications." : marked === 1 ? "1 notification marked as read." : `${marked} notifications marked as read.`;
      } catch (err) {
        showFailure(err, "Your notifications were not marked as read.");
      } finally {
        markAll.disabled = false;
      }
    })();
  });

  // Live arrivals go at the top, newest first (they are unread, so they
  // belong in either list).
  const stopArrivals = onArrival((arrived) => {
    const have = shownIds();
    const items = arrived.filter((n) => !have.has(n.id) && (!unreadOnly || !n.read)).map((n) => notificationItem(n, actions));
    list.prepend(...items);
    refreshEmpty();
  });
  signal.addEventListener(
    "abort",
    () => {
      stopArrivals();
      stopCount();
    },
    { once: true },
  );

  await fetchPage(false);
  replace(
    root,
    h("span", { class: "nhsuk-caption-l" }, me.user.name),
    h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, "Notifications"),
    summary,
    h(
      "p",
      null,
      h("a", { href: "?page=notification-preferences" }, "Choose which notifications you get"),
      ", in csmarket and by e-mail.",
    ),
    h("div", { class: "notifications__tools" }, form, markAll),
    status,
    problem,
    empty,
    list,
    more,
  );
  return { el: root, title };
}

interface Choice {
  kind: string;
  channel: keyof NotificationPreference;
  input: HTMLInputElement;
  field: Field;
}

/**
 * notificationPreferencesPage is a table of the kinds of notification the
 * user can get, each with a checkbox for the app and one for e-mail.
 */
export async function notificationPreferencesPage(me: Me, signal: AbortSignal): Promise<Page> {
  const title = "Notification preferences";
  const root = h("div", { class: "preferences-page" });
  const heading = h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title);
  let saved: Record<string, NotificationPreference>;
  try {
    saved = (await authed((t) => getNotificationPreferences(t, signal))).preferences;
  } catch (err) {
    replace(root, heading, errorSummary(err), h("p", null, h("a", { href: "?page=notification-preferences", class: "nhsuk-link" }, "Try again")));
    return { el: root, title };
  }

  const offered = kindsByRole[me.role] ?? notificationKinds;
  const kinds: string[] = [...offered, ...Object.keys(saved).filter((k) => !offered.includes(k as NotificationKind) && !(k in kindText))];
  const choices: Choice[] = [];
  const choice = (kind: string, channel: keyof NotificationPreference, text: string): HTMLElement => {
    const label = textOf(kind).label;
    const input = h("input", {
      type: "checkbox",
      class: "choice__input",
      id: `pref-${kind}-${channel}`,
      name: `pref-${kind}-${channel}`,
      "data-label": `${label}: ${text}`,
    });
    input.checked = saved[kind]?.[channel] ?? true;
    const box = h("div", { class: "choice" }, input, h("label", { class: "choice__label", for: input.id }, h("span", { class: "nhsuk-u-visually-hidden" }, `${label}: `), text));
    const wrapper = h("div", { class: "nhsuk-form-group preferences__field", id: `field-${input.id}` }, box);
    choices.push({ kind, channel, input, field: { wrapper, focus: input, described: input, before: box } });
    return wrapper;
  };

  const rows = kinds.map((kind) => {
    const t = textOf(kind);
    return h(
      "tr",
      { "data-kind": kind },
      h("th", { scope: "row" }, t.label, t.hint ? h("span", { class: "table__hint" }, t.hint) : null),
      h("td", null, choice(kind, "in_app", "In the app")),
      h("td", null, choice(kind, "email", "By e-mail")),
    );
  });
  const table = h(
    "table",
    { class: "nhsuk-table preferences" },
    h("caption", { class: "preferences__caption" }, "How each kind of notification reaches you"),
    h(
      "thead",
      null,
      h("tr", null, h("th", { scope: "col" }, "Notification"), h("th", { scope: "col" }, "In the app"), h("th", { scope: "col" }, "By e-mail")),
    ),
    h("tbody", null, rows),
  );

  const problem = h("div");
  const notice = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, "Save preferences");
  const form = h("form", { class: "form", novalidate: true }, scrollBox(table), submit);
  const fields = choices.map((c) => c.field);

  const resolve = (field: string): Field | null => {
    const m = /^preferences\.([a-z_]+)(?:\.(in_app|email))?/.exec(field);
    if (!m) return null;
    const c = choices.find((c) => c.kind === m[1] && c.channel === (m[2] ?? "in_app"));
    return c?.field ?? null;
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void (async () => {
      const changed: Record<string, NotificationPreference> = {};
      for (const kind of kinds) {
        const pick = (channel: keyof NotificationPreference) => choices.find((c) => c.kind === kind && c.channel === channel)!.input.checked;
        const next = { in_app: pick("in_app"), email: pick("email") };
        const was = { in_app: saved[kind]?.in_app ?? true, email: saved[kind]?.email ?? true };
        if (next.in_app !== was.in_app || next.email !== was.email) changed[kind] = next;
      }
      replace(notice);
      if (Object.keys(changed).length === 0) {
        replace(problem);
        const b = banner("info", "Nothing has changed", "Your preferences are as they were saved.");
        b.setAttribute("role", "status");
        replace(notice, b);
        b.focus();
        return;
      }
      submit.disabled = true;
      try {
        saved = (await authed((t) => putNotificationPreferences(t, changed))).preferences;
        for (const c of choices) c.input.checked = saved[c.kind]?.[c.channel] ?? true;
        replace(problem);
        clearErrors(fields);
        const b = banner("success", "Your notification preferences are saved", "From now on, csmarket tells you of each kind as you chose.");
        replace(notice, b);
        b.focus();
      } catch (err) {
        showProblem(problem, err, fields, resolve);
      } finally {
        submit.disabled = false;
      }
    })();
  });

  replace(
    root,
    h("span", { class: "nhsuk-caption-l" }, me.user.name),
    heading,
    h(
      "p",
      { class: "nhsuk-lede-text" },
      "Choose how csmarket tells you of each kind of notification: in the app, where the bell in the header counts what you have not read, " +
        "by e-mail, both or neither. Every e-mail also has a link to stop that kind of e-mail.",
    ),
    notice,
    problem,
    form,
    h("p", null, h("a", { href: "?page=notifications" }, "Back to your notifications")),
  );
  return { el: root, title };
}

/**
 * unsubscribePage is where the link at the end of an e-mail leads. It asks
 * before stopping anything: mail scanners follow links, and only a person
 * presses the button.
 */
export function unsubscribePage(params: URLSearchParams, signedIn: boolean): Page {
  const title = "Stop e-mails";
  const token = params.get("token") ?? "";
  const root = h("div", { class: "narrow" });
  const heading = h("h1", { class: "nhsuk-heading-xl", tabindex: -1 }, title);
  const preferencesLink = () =>
    h(
      "p",
      null,
      "To choose which e-mails you get, ",
      h("a", { href: "?page=notification-preferences" }, signedIn ? "change your notification preferences" : "sign in and change your notification preferences"),
      ".",
    );
  if (!token) {
    replace(
      root,
      heading,
      h("p", null, "This link is not complete. Use the whole link at the end of the e-mail from csmarket."),
      preferencesLink(),
    );
    return { el: root, title };
  }

  const problem = h("div");
  const submit = h("button", { type: "submit", class: "nhsuk-button" }, "Stop these e-mails");
  const form = h(
    "form",
    { class: "form" },
    h(
      "p",
      null,
      "You followed the link to stop a kind of e-mail from csmarket. Press the button to stop e-mails of that kind. " +
        "Your notifications in csmarket itself stay as they are.",
    ),
    submit,
  );
  const errorTitle = () => {
    if (!document.title.startsWith("Error: ")) document.title = `Error: ${document.title}`;
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void (async () => {
      submit.disabled = true;
      try {
        const done = await unsubscribe(token);
        const t = textOf(done.kind);
        document.title = document.title.replace(/^Error: /, "");
        const b = banner(
          "success",
          "You are unsubscribed",
          `csmarket will no longer e-mail you about ${t.about}.`,
          "Notifications in the app are not changed.",
        );
        replace(root, heading, b, preferencesLink());
        b.focus();
      } catch (err) {
        submit.disabled = false;
        errorTitle();
        if (err instanceof ApiError && err.status === 404) {
          const box = errorSummary(
            new ApiError(404, err.title, "This link to stop e-mails is not valid. Check that you used the whole link from the e-mail.", []),
          );
          replace(root, heading, box, preferencesLink());
          box.focus();
          return;
        }
        const box = errorSummary(err);
        replace(problem, box);
        box.focus();
      }
    })();
  });

  replace(root, heading, problem, form);
  return { el: root, title };
}

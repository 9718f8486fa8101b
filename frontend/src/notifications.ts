// The signed-in user's notifications as they happen: the unread count the
// header's bell shows, and the live stream that keeps it current.
//
// The stream is a Server-Sent Events connection (EventSource), opened once
// the user is signed in. An EventSource cannot send an Authorization
// header, so the access token goes in its address; when the token is
// renewed the stream is reopened with the new one, and it is closed when
// the session ends. EventSource reconnects by itself after a dropped
// connection, resending the last event's ID so that the API sends what was
// missed; a stream the API refused (an expired token, say) is reopened here,
// after a pause that grows with each failure, once the count has been read
// again. Where EventSource is missing or the stream is down, the count is
// read from /me whenever a page is shown.
import { ApiError, listNotifications, notificationStreamUrl, type Notification } from "./api/client";
import { h } from "./dom";
import { authed, current, onChange, onToken, reloadMe } from "./session";

let unread = 0;
const countListeners = new Set<(n: number) => void>();
const arrivalListeners = new Set<(items: Notification[]) => void>();

let running = false;
let source: EventSource | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let failures = 0;
// The newest notification seen in this tab, and every one counted, so
// that one arriving twice (live and in a list) is counted once.
let lastSeq = 0;
const seen = new Set<number>();
// The latest notifications counted from the stream, numbered in order of
// arrival, so that a list answer's count can add those it may not include.
let arrivals = 0;
let arrivalLog: { at: number; seq: number; unread: boolean }[] = [];

const supported = typeof EventSource !== "undefined";

/** unreadCount is how many of the user's notifications are unread, as far as this tab knows. */
export function unreadCount(): number {
  return unread;
}

/** setUnread records the unread count an API answer gave. */
export function setUnread(n: number): void {
  const next = Math.max(0, Math.floor(n));
  if (next === unread) return;
  unread = next;
  for (const fn of countListeners) fn(unread);
}

/** onUnread calls fn whenever the unread count changes; it returns a function that stops that. */
export function onUnread(fn: (n: number) => void): () => void {
  countListeners.add(fn);
  return () => countListeners.delete(fn);
}

/**
 * onArrival calls fn with the notifications that arrive while it listens,
 * newest first; it returns a function that stops that.
 */
export function onArrival(fn: (items: Notification[]) => void): () => void {
  arrivalListeners.add(fn);
  return () => arrivalListeners.delete(fn);
}

/** listStarted is the mark to give noteListed for a list requested now. */
export function listStarted(): number {
  return arrivals;
}

/**
 * noteListed records the newest notifications, as a list answer gave them
 * (the first page, newest first, of all or of the unread ones) with the
 * unread count, so that the stream does not count them again. Unread ones
 * that came live after the list was asked for (since started) and are newer
 * than any it holds were stored after it was read, so they count too.
 */
export function noteListed(items: Notification[], count: number, started: number): void {
  let newest = 0;
  for (const n of items) {
    seen.add(n.seq);
    newest = Math.max(newest, n.seq);
  }
  lastSeq = Math.max(lastSeq, newest);
  const later = arrivalLog.filter((a) => a.at > started && a.unread && a.seq > newest).length;
  setUnread(count + later);
}

// The polite live region that reads out new arrivals. It lives outside
// the header, which is rebuilt on every change of session, so that it is
// in the page before anything is put in it.
let announcer: HTMLElement | null = null;
let announceTimer: ReturnType<typeof setTimeout> | undefined;

function announce(items: Notification[]): void {
  if (!announcer || items.length === 0) return;
  const text =
    items.length === 1 ? `New notification: ${items[0]!.title}` : `${items.length} new notifications. The latest: ${items[0]!.title}`;
  // Emptied first, so that the same words twice are read out twice.
  announcer.textContent = "";
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => {
    if (announcer) announcer.textContent = text;
  }, 100);
}

/** deliver hands new notifications to the page; counted ones raise the unread count. */
function deliver(items: Notification[], count: boolean): void {
  const fresh = items.filter((n) => !seen.has(n.seq)).sort((a, b) => b.seq - a.seq);
  if (fresh.length === 0) return;
  for (const n of fresh) {
    seen.add(n.seq);
    lastSeq = Math.max(lastSeq, n.seq);
  }
  if (count) {
    for (const n of fresh) arrivalLog.push({ at: ++arrivals, seq: n.seq, unread: !n.read });
    if (arrivalLog.length > 200) arrivalLog = arrivalLog.slice(-100);
    setUnread(unread + fresh.filter((n) => !n.read).length);
  }
  for (const fn of arrivalListeners) fn(fresh);
  announce(fresh);
}

function isNotification(v: unknown): v is Notification {
  if (!v || typeof v !== "object") return false;
  const n = v as Record<string, unknown>;
  return typeof n.id === "string" && typeof n.seq === "number" && typeof n.title === "string" && typeof n.body === "string";
}

function closeSource(): void {
  source?.close();
  source = null;
}

/**
 * open connects the stream with token. resync reads the newest page once
 * it is connected, for what arrived while no stream was open: a new
 * EventSource does not know the last event an old one received.
 */
function open(token: string, resync: boolean): void {
  closeSource();
  const es = new EventSource(notificationStreamUrl(token));
  source = es;
  es.addEventListener("notification", (ev) => {
    if (es !== source) return;
    let n: unknown;
    try {
      n = JSON.parse((ev as MessageEvent<string>).data);
    } catch {
      return; // not a notification: nothing to show
    }
    if (isNotification(n)) deliver([n], true);
  });
  es.addEventListener("open", () => {
    if (es !== source) return;
    failures = 0;
    if (resync) {
      resync = false;
      void catchUp().catch(() => {
        // The count stays as it was; the next page shown reads it again.
      });
    }
  });
  es.addEventListener("error", () => {
    // A dropped connection is retried by EventSource itself (readyState
    // CONNECTING); a refused one (CLOSED) is not, so it is reopened here.
    if (es !== source || es.readyState !== EventSource.CLOSED) return;
    closeSource();
    scheduleReopen();
  });
}

/** catchUp reads the count again and delivers what arrived after the newest notification seen. */
async function catchUp(): Promise<void> {
  const started = listStarted();
  const page = await authed((t) => listNotifications(t, { pageSize: 20 }));
  if (!running) return;
  // With nothing seen yet there is no telling which are new to this tab.
  const missed = lastSeq > 0 ? page.items.filter((n) => n.seq > lastSeq) : [];
  noteListed(
    page.items.filter((n) => !missed.includes(n)),
    page.unread_count,
    started,
  );
  deliver(missed, false);
}

function scheduleReopen(): void {
  clearTimeout(retryTimer);
  failures++;
  const delay = Math.min(60_000, 2_000 * 2 ** Math.min(failures - 1, 5));
  retryTimer = setTimeout(() => void reopen(), delay);
}

/**
 * reopen reads the count first, which renews the token if it has run out
 * (and ends the session if it cannot be), then opens the stream again.
 */
async function reopen(): Promise<void> {
  retryTimer = undefined;
  if (!running) return;
  let token = "";
  try {
    await catchUp();
    token = await authed(async (t) => t);
  } catch (err) {
    if (!running || (err instanceof ApiError && err.status === 401)) return; // the session has ended
    scheduleReopen();
    return;
  }
  if (running && !source) open(token, true);
}

/** startLive shows count on the bell and, where the browser can, opens the stream. */
function startLive(count: number): void {
  stopLive();
  running = true;
  unread = -1; // so that the count given is always announced to listeners
  setUnread(count);
  if (!supported) return;
  void authed(async (t) => t)
    .then((t) => {
      // The count /me gave may be a moment old by the time the stream is open.
      if (running && !source) open(t, true);
    })
    .catch(() => {
      if (running) scheduleReopen();
    });
}

function stopLive(): void {
  running = false;
  clearTimeout(retryTimer);
  retryTimer = undefined;
  failures = 0;
  closeSource();
  lastSeq = 0;
  seen.clear();
  setUnread(0);
}

/** live says whether the stream is keeping the count current. */
function live(): boolean {
  if (!running || !supported) return false;
  // Opening (no source yet, no retry waiting) counts as live.
  return source ? source.readyState !== EventSource.CLOSED : retryTimer === undefined;
}

/**
 * pageShown reads the unread count from /me when the stream is not keeping
 * it current, so that each page shown at least starts with the right count.
 */
export function pageShown(): void {
  if (!current() || live()) return;
  void reloadMe()
    .then((me) => setUnread(me.unread_notifications ?? 0))
    .catch(() => {
      // The bell keeps the count it had.
    });
}

/** startNotifications follows the session: the stream opens on sign-in and closes on sign-out. */
export function startNotifications(): void {
  announcer = h("div", { class: "nhsuk-u-visually-hidden", id: "notification-announcer", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  document.body.append(announcer);
  onChange((change) => {
    const me = current();
    if ((change === "signed-in" || change === "restored") && me) startLive(me.unread_notifications ?? 0);
    else if (change === "signed-out" || change === "ended") stopLive();
  });
  onToken((token) => {
    // A renewed token: the open stream still carries the old one, which
    // the API will refuse when the stream next reconnects.
    if (running && source) open(token, true);
  });
}

// The bell in the header. One element, kept across the header's rebuilds,
// shows the count as it changes.
const svgNS = "http://www.w3.org/2000/svg";

function bellIcon(): SVGSVGElement {
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("class", "app-bell__icon");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(svgNS, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute(
    "d",
    "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z",
  );
  svg.append(path);
  return svg;
}

let bellLink: HTMLAnchorElement | null = null;

/** bell is the header's link to the inbox, with the unread count in words and as a badge. */
export function bell(): HTMLAnchorElement {
  if (bellLink) return bellLink;
  const badge = h("span", { class: "app-bell__badge" });
  const link = h(
    "a",
    { href: "?page=notifications", class: "nhsuk-header__account-link app-bell" },
    bellIcon(),
    h("span", { class: "app-bell__text" }, "Notifications"),
    badge,
  );
  const show = (n: number) => {
    // The name says in words what the badge shows: "Notifications, 3 unread".
    link.setAttribute("aria-label", `Notifications, ${n} unread`);
    badge.textContent = String(n);
    badge.classList.toggle("app-bell__badge--none", n === 0);
    link.dataset.unread = String(n);
  };
  show(unread);
  onUnread(show);
  bellLink = link;
  return link;
}

// Browser test of notifications in real Chromium, against a csmarket that
// dispatches them every 100 ms (CSM_NOTIFY_POLL). A demo supplier signs
// in and sees its unread count on the header's bell; the demo CCG
// publishes, through the API, a tender that matches the supplier's listing,
// and the bell counts it without a reload (the live stream, an
// EventSource), the inbox lists it and, while open, puts the next one at
// the top; a renewed access token reopens the stream. Then marking read, the unread filter, the preferences table
// (e-mail off for new opportunities, kept after a reload), the unsubscribe
// page with a link that is not valid, and a supplier whose listing does not
// match, which hears nothing.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkPage, closeBrowser, openBrowser, watch } from "./harness.mjs";

const resultsDir = fileURLToPath(new URL("../test-results/", import.meta.url));

const password = "demo commissioning passphrase";
const buyer = "buyer@birmingham-crosscity-ccg.example.nhs.uk";
const supplier = "bids@arden.example.nhs.uk";
// The other demo suppliers: the first whose listing cannot match the tender is the one that must hear nothing.
const others = ["bids@calderbrookcarers.example.org", "bids@leedscc.example.org", "bids@hartwellanalytics.example.com"];
const run = Date.now().toString(36);
const tenderTitle = `Notified analytics support ${run}`;
const secondTitle = `Notified contract review ${run}`;
const renewedTitle = `Notified after a renewed token ${run}`;
const streamPath = "/api/v1/notifications/stream";
const unsubscribePath = "/api/v1/notifications/unsubscribe";
// How long a notification may take to reach the bell: the dispatcher looks every 100 ms.
const liveWithinMs = 8_000;

let server;
let context;
let userDataDir;
let base;

async function api(method, path, token, body, headers = {}) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function token(email) {
  return (await api("POST", "/api/v1/auth/login", null, { email, password })).access_token;
}

/** listing reads the supplier's organisation (from /me) and its public listing. */
async function listing(email) {
  const me = await api("GET", "/api/v1/me", await token(email));
  const provider = await api("GET", `/api/v1/providers/${me.organisation.id}`);
  return { email, me, provider };
}

/** inbox reads every notification of the user through the API. */
async function inbox(email) {
  const t = await token(email);
  const items = [];
  let cursor = "";
  let unread = 0;
  do {
    const page = await api("GET", `/api/v1/notifications?page_size=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, t);
    items.push(...page.items);
    unread = page.unread_count;
    cursor = page.next_cursor ?? "";
  } while (cursor);
  return { items, unread };
}

/** publish creates and publishes a tender for the capability and region given, bids open for a day. */
async function publish(title, capability, region) {
  const buyerToken = await token(buyer);
  const now = Date.now();
  const draft = await api(
    "POST",
    "/api/v1/tenders",
    buyerToken,
    {
      title,
      description: "Support for the CCG's commissioning decisions.",
      capabilities: [capability],
      regions: [region],
      contract_months: 12,
      budget_pence: 9_000_000,
      clarification_deadline: new Date(now + 12 * 3600_000).toISOString(),
      bid_deadline: new Date(now + 24 * 3600_000).toISOString(),
      criteria: [
        { key: "price", name: "Price", kind: "price", weight: 40 },
        { key: "approach", name: "Approach", kind: "quality", weight: 60 },
      ],
    },
    { "Idempotency-Key": crypto.randomUUID() },
  );
  const published = await api("POST", `/api/v1/tenders/${draft.id}/publish`, buyerToken);
  assert.equal(published.status, "open");
  return published;
}

async function signIn(page, email) {
  await page.goto(`${base}?page=sign-in`);
  await page.getByLabel("E-mail address").waitFor();
  await checkPage(page);
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  await page.locator("main h1").waitFor();
  await checkPage(page);
}

const bellName = (n) => `Notifications, ${n} unread`;

/** bellOf is the header's link to the inbox, whatever its count. */
function bellOf(page) {
  return page.locator("#account-nav").getByRole("link", { name: /^Notifications, \d+ unread$/ });
}

async function bellCount(page) {
  const bell = bellOf(page);
  const name = await bell.getAttribute("aria-label");
  const m = /^Notifications, (\d+) unread$/.exec(name ?? "");
  assert.ok(m, `the bell is named "${name}"`);
  // The badge shows the same count.
  assert.equal(await bell.locator(".app-bell__badge").innerText(), m[1]);
  return Number(m[1]);
}

describe("notifications in Chromium", () => {
  let capability;
  let region;
  let quiet; // the supplier whose listing does not match
  let tender;
  let page;
  let watcher;

  before(async () => {
    mkdirSync(resultsDir, { recursive: true });
    ({ server, base, context, userDataDir } = await openBrowser({ env: { CSM_NOTIFY_POLL: "100ms" } }));

    // A capability and a region of the supplier's listing that another
    // supplier's listing does not both have: a tender for those two
    // matches the first (one shared capability and one shared region) and
    // not the second.
    const mine = await listing(supplier);
    assert.equal(mine.me.role, "supplier");
    for (const email of others) {
      const theirs = await listing(email);
      for (const c of mine.provider.capabilities) {
        for (const r of mine.provider.regions) {
          if (!(theirs.provider.capabilities.includes(c) && theirs.provider.regions.includes(r))) {
            capability ??= c;
            region ??= r;
          }
        }
      }
      if (capability) {
        quiet = theirs;
        break;
      }
    }
    assert.ok(capability && region && quiet, "no demo supplier's listing differs from the notified supplier's");
  });

  after(async () => {
    await closeBrowser({ server, context, userDataDir });
  });

  test("the bell counts a matching tender live, and the inbox lists it and the next one as they come", async () => {
    page = await context.newPage();
    watcher = watch(page);
    const before = await inbox(supplier);
    assert.equal(before.items.filter((n) => !n.read).length, before.unread);

    // The stream opens once the supplier is signed in.
    const streamOpen = page.waitForResponse((r) => new URL(r.url()).pathname === streamPath && r.status() === 200);
    await signIn(page, supplier);
    await streamOpen;
    const bell = bellOf(page);
    await bell.waitFor();
    assert.equal(await bellCount(page), before.unread);
    assert.equal(await bell.getAttribute("href"), "?page=notifications");
    assert.equal(await bell.locator(".app-bell__badge").innerText(), String(before.unread));
    const me = await api("GET", "/api/v1/me", await token(supplier));
    assert.equal(me.unread_notifications, before.unread);

    // No reload from here on: a reload would lose this mark.
    await page.evaluate(() => {
      window.__notReloaded = true;
    });
    tender = await publish(tenderTitle, capability, region);
    await page.locator("#account-nav").getByRole("link", { name: bellName(before.unread + 1), exact: true }).waitFor({ timeout: liveWithinMs });
    assert.equal(await page.evaluate(() => window.__notReloaded), true);
    // Announced politely, by title.
    const announcer = page.locator("#notification-announcer");
    assert.equal(await announcer.getAttribute("aria-live"), "polite");
    await page.waitForFunction(
      (title) => document.getElementById("notification-announcer")?.textContent === `New notification: New opportunity: ${title}`,
      tenderTitle,
    );
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "notifications-bell.png") });

    await bell.click();
    await page.getByRole("heading", { level: 1, name: "Notifications" }).waitFor();
    assert.equal(await page.evaluate(() => window.__notReloaded), true);
    const items = page.locator("ol.notifications > li");
    const first = items.first();
    await first.getByRole("heading", { level: 2, name: `New opportunity: ${tenderTitle}` }).waitFor();
    const link = first.getByRole("link", { name: `New opportunity: ${tenderTitle}` });
    assert.equal(await link.getAttribute("href"), `?page=tender&id=${tender.id}`);
    assert.match(await first.innerText(), /Unread/);
    assert.match(await first.innerText(), /Received \d{1,2} [A-Z][a-z]+ \d{4} at \d{2}:\d{2}/);
    assert.match(await first.innerText(), new RegExp(`${tenderTitle} matches your listing`));
    assert.equal(await page.locator(".notifications__unread").innerText(), `You have ${before.unread + 1} unread notification${before.unread + 1 === 1 ? "" : "s"}.`);

    // With the inbox open, the next one goes at the top as it comes.
    await publish(secondTitle, capability, region);
    await page.locator("#account-nav").getByRole("link", { name: bellName(before.unread + 2), exact: true }).waitFor({ timeout: liveWithinMs });
    await items.first().getByRole("heading", { level: 2, name: `New opportunity: ${secondTitle}` }).waitFor({ timeout: 2_000 });
    assert.match(await items.nth(1).innerText(), new RegExp(`New opportunity: ${tenderTitle}`));
    assert.equal(await page.evaluate(() => window.__notReloaded), true);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "notifications-inbox.png"), fullPage: true });
    assert.deepEqual(watcher.problems(), []);
  });

  test("a renewed access token reopens the stream with the new token, and it still counts", async () => {
    // A tab of its own (and so a session of its own), since it sees a deliberate 401.
    const tab = await context.newPage();
    const tabWatch = watch(tab);
    const streams = [];
    tab.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname === streamPath) streams.push(u.searchParams.get("access_token"));
    });
    const firstStream = tab.waitForResponse((r) => new URL(r.url()).pathname === streamPath && r.status() === 200);
    await signIn(tab, supplier);
    await firstStream;
    assert.equal(streams.length, 1);
    const start = await bellCount(tab);

    // One 401 from /me: the page renews the access token, and the stream follows it.
    let refused = 0;
    await tab.route("**/api/v1/me", async (route) => {
      if (refused++ === 0) await route.fulfill({ status: 401, headers: { "Content-Type": "application/problem+json" }, body: "{}" });
      else await route.continue();
    });
    const renewed = tab.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/auth/refresh" && r.status() === 200);
    const reopened = tab.waitForResponse((r) => new URL(r.url()).pathname === streamPath && r.status() === 200);
    await tab.locator("#account-nav").getByRole("link", { name: "Your account" }).click();
    await renewed;
    await reopened;
    await tab.getByRole("heading", { level: 1, name: "Your account" }).waitFor();
    await checkPage(tab);
    await tab.unroute("**/api/v1/me");
    assert.equal(streams.length, 2);
    assert.notEqual(streams[1], streams[0]);

    await publish(renewedTitle, capability, region);
    await tab.locator("#account-nav").getByRole("link", { name: bellName(start + 1), exact: true }).waitFor({ timeout: liveWithinMs });
    assert.equal(streams.length, 2);
    assert.deepEqual(tabWatch.problems([401, "/api/v1/me"]), []);
    await tab.close();
  });

  test("Mark as read lowers the count, Mark all as read makes it 0, and the unread filter lives in the URL", async () => {
    // The first tab's inbox, still open, has counted the last one too.
    await page.locator("ol.notifications > li").first().getByRole("heading", { level: 2, name: `New opportunity: ${renewedTitle}` }).waitFor();
    const start = await bellCount(page);
    assert.ok(start >= 2);
    const item = page.locator("ol.notifications > li", { has: page.getByRole("heading", { name: `New opportunity: ${tenderTitle}` }) });
    await item.getByRole("button", { name: `Mark as read: New opportunity: ${tenderTitle}` }).click();
    await page.locator("#account-nav").getByRole("link", { name: bellName(start - 1), exact: true }).waitFor();
    // Read, in words, and no button left to press; focus stays on the item.
    assert.equal(await item.locator(".nhsuk-tag").innerText(), "Read");
    assert.equal(await item.getByRole("button", { name: /^Mark as read/ }).count(), 0);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.notification !== undefined), true);
    assert.equal(await page.getByRole("status").filter({ hasText: "Marked as read" }).innerText(), `Marked as read: New opportunity: ${tenderTitle}.`);
    const afterOne = await inbox(supplier);
    assert.equal(afterOne.unread, start - 1);
    assert.equal(afterOne.items.find((n) => n.title === `New opportunity: ${tenderTitle}`)?.read, true);

    await page.getByRole("button", { name: "Mark all as read", exact: true }).click();
    await page.locator("#account-nav").getByRole("link", { name: bellName(0), exact: true }).waitFor();
    assert.equal(await page.locator("ol.notifications .nhsuk-tag", { hasText: "Unread" }).count(), 0);
    assert.equal(await page.locator(".notifications__unread").innerText(), "You have no unread notifications.");
    assert.equal((await inbox(supplier)).unread, 0);

    // Unread only: none now, and the filter is in the address.
    await page.getByLabel("Show unread only").check();
    await page.getByRole("button", { name: "Apply filter" }).click();
    await page.waitForURL((u) => u.searchParams.get("page") === "notifications" && u.searchParams.get("unread") === "true");
    await page.getByRole("heading", { level: 2, name: "You have no unread notifications" }).waitFor();
    assert.equal(await page.locator("ol.notifications > li").count(), 0);
    await page.reload();
    await page.getByRole("heading", { level: 2, name: "You have no unread notifications" }).waitFor();
    assert.equal(await page.getByLabel("Show unread only").isChecked(), true);
    assert.equal(await bellCount(page), 0);
    assert.deepEqual(watcher.problems(), []);
  });

  test("e-mail off for new opportunities is saved and still off after a reload", async () => {
    await page.getByRole("link", { name: "Choose which notifications you get" }).click();
    await page.getByRole("heading", { level: 1, name: "Notification preferences" }).waitFor();
    const email = page.getByRole("checkbox", { name: "New opportunities: By e-mail", exact: true });
    const inApp = page.getByRole("checkbox", { name: "New opportunities: In the app", exact: true });
    // Both are on until the user says otherwise (a server used before may remember otherwise).
    if (!process.env.CSM_E2E_URL) assert.equal(await email.isChecked(), true);
    assert.equal(await inApp.isChecked(), true);
    if (!(await email.isChecked())) {
      await email.check();
      await page.getByRole("button", { name: "Save preferences" }).click();
      await page.getByRole("heading", { level: 2, name: "Your notification preferences are saved" }).waitFor();
    }
    // A supplier is offered what reaches suppliers, each row with its two boxes.
    const rows = page.locator("table.preferences tbody tr");
    assert.ok((await rows.count()) >= 5);
    for (const row of await rows.all()) assert.equal(await row.getByRole("checkbox").count(), 2);
    assert.equal(await page.locator('tr[data-kind="buyer_pending"]').count(), 0);

    await email.uncheck();
    const saved = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/me/notification-preferences" && r.request().method() === "PUT");
    await page.getByRole("button", { name: "Save preferences" }).click();
    assert.equal((await saved).status(), 200);
    assert.deepEqual(JSON.parse((await saved).request().postData()), { preferences: { tender_published: { in_app: true, email: false } } });
    await page.getByRole("heading", { level: 2, name: "Your notification preferences are saved" }).waitFor();

    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Notification preferences" }).waitFor();
    assert.equal(await email.isChecked(), false);
    assert.equal(await inApp.isChecked(), true);
    const prefs = await api("GET", "/api/v1/me/notification-preferences", await token(supplier));
    assert.deepEqual(prefs.preferences.tender_published, { in_app: true, email: false });
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "notification-preferences.png"), fullPage: true });
    assert.deepEqual(watcher.problems(), []);
  });

  test("the unsubscribe page asks before posting and says when the link is not valid", async () => {
    // A new tab, not signed in: the e-mail's link needs no session.
    const tab = await context.newPage();
    const tabWatch = watch(tab);
    const posts = [];
    tab.on("request", (r) => {
      if (new URL(r.url()).pathname === unsubscribePath) posts.push(r.method());
    });
    await tab.goto(`${base}?page=unsubscribe&token=not-a-token-csmarket-gave-${run}`);
    await tab.getByRole("heading", { level: 1, name: "Stop e-mails" }).waitFor();
    const stop = tab.getByRole("button", { name: "Stop these e-mails" });
    await stop.waitFor();
    assert.deepEqual(posts, []); // nothing is stopped by following the link
    const answered = tab.waitForResponse((r) => new URL(r.url()).pathname === unsubscribePath);
    await stop.click();
    assert.equal((await answered).status(), 404);
    const alert = tab.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /There is a problem[\s\S]*This link to stop e-mails is not valid/);
    assert.equal(await tab.evaluate(() => document.activeElement?.getAttribute("role")), "alert");
    assert.match(await tab.title(), /^Error: /);
    assert.deepEqual(posts, ["POST"]);
    await checkPage(tab);
    await tab.screenshot({ path: join(resultsDir, "unsubscribe-invalid.png"), fullPage: true });
    assert.deepEqual(tabWatch.problems([404, unsubscribePath]), []);
    await tab.close();
  });

  test("a supplier whose listing does not match hears nothing of these tenders", async () => {
    // The matching supplier has them all, so the dispatcher has planned them.
    const titles = (await inbox(supplier)).items.map((n) => n.title);
    assert.ok(titles.includes(`New opportunity: ${tenderTitle}`));
    assert.ok(titles.includes(`New opportunity: ${secondTitle}`));
    assert.ok(titles.includes(`New opportunity: ${renewedTitle}`));
    const theirs = await inbox(quiet.email);
    assert.deepEqual(
      theirs.items.filter((n) => [tenderTitle, secondTitle, renewedTitle].some((t) => n.title.includes(t)) || n.tender_id === tender.id),
      [],
      `${quiet.email} (${quiet.provider.capabilities.join(", ")} in ${quiet.provider.regions.join(", ")}) was notified of a tender for ${capability} in ${region}`,
    );
    await page.close();
    assert.deepEqual(watcher.problems(), []);
  });
});

// The pages a buyer, evaluator, supplier, operator and the public reach
// beyond the procurement itself, in Chromium: My tenders with a draft
// edited (and a stale save refused in words), cancelling with a reason,
// assigning an evaluator, a conflict naming a supplier, scores read back
// into the form, moderation, the public market figures, the audit trail
// with its chain verified, and a supplier's bids. Each main page is
// checked by axe and photographed at 1280 and 320 px.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import { checkPage, closeBrowser, openBrowser, resultsDir, screenshots, watch } from "./harness.mjs";

const password = "demo commissioning passphrase";
const buyer = "buyer@birmingham-crosscity-ccg.example.nhs.uk";
const evaluator = { email: "evaluator@birmingham-crosscity-ccg.example.nhs.uk", name: "Evan Evaluator" };
const operator = "operator@csmarket.example.org";
const jointBuyer = { email: "buyer@coventry-rugby-ccg.example.nhs.uk", name: "Cara Commissioner", org: "NHS Coventry and Rugby CCG" };
const supplier = { email: "bids@arden.example.nhs.uk", org: "Arden Commissioning Support Unit" };
const other = { email: "bids@hartwellanalytics.example.com", org: "Hartwell Analytics Ltd" };
const run = Date.now().toString(36);

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
  return { body: text ? JSON.parse(text) : null, etag: res.headers.get("etag") };
}

const login = async (email) => (await api("POST", "/api/v1/auth/login", null, { email, password })).body.access_token;

function tenderBody(title, clarSeconds, bidSeconds) {
  const now = Date.now();
  return {
    title,
    description: "Analysts for the boards.",
    capabilities: ["business_intelligence"],
    regions: ["midlands"],
    contract_months: 12,
    budget_pence: 30_000_000,
    clarification_deadline: new Date(now + clarSeconds * 1000).toISOString(),
    bid_deadline: new Date(now + bidSeconds * 1000).toISOString(),
    criteria: [
      { key: "price", name: "Price", kind: "price", weight: 40 },
      { key: "approach", name: "Approach", kind: "quality", weight: 45 },
      { key: "social_value", name: "Social value", kind: "quality", weight: 15 },
    ],
  };
}

async function signIn(page, email, heading) {
  await page.goto(`${base}?page=sign-in`);
  await page.getByLabel("E-mail address").waitFor();
  await checkPage(page);
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  await checkPage(page);
}

/** go follows a header link, as a user would. */
async function go(page, link, heading) {
  await page.locator("#site-nav").getByRole("link", { name: link, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  await page.locator("main > .loading").waitFor({ state: "detached" });
}

describe("every journey's pages in Chromium", () => {
  let buyerToken;
  let closed; // a closed tender with two bids, scored by the buyer through the API

  before(async () => {
    ({ server, base, context, userDataDir } = await openBrowser());
    buyerToken = await login(buyer);
    const t = (await api("POST", "/api/v1/tenders", buyerToken, tenderBody(`Read back ${run}`, 3, 6))).body;
    await api("POST", `/api/v1/tenders/${t.id}/publish`, buyerToken);
    const users = (await api("GET", `/api/v1/organisations/${t.buyer_id}/users`, buyerToken)).body.items;
    const evan = users.find((u) => u.email === evaluator.email);
    await api("POST", `/api/v1/tenders/${t.id}/evaluators`, buyerToken, { user_id: evan.id });
    const bids = [];
    for (const [i, s] of [supplier, other].entries()) {
      bids.push((await api("POST", `/api/v1/tenders/${t.id}/bids`, await login(s.email), { price_pence: 20_000_000 + i * 1_000_000, responses: { approach: "A plan.", social_value: "Jobs." } })).body);
    }
    await new Promise((r) => setTimeout(r, 6500));
    await api("POST", `/api/v1/tenders/${t.id}/conflict-declaration`, buyerToken, { conflict: false });
    await api("PUT", `/api/v1/tenders/${t.id}/bids/${bids[0].id}/scores`, buyerToken, { scores: { approach: { score: 3, justification: "A clear plan, read back." }, social_value: { score: 1, justification: "Little on jobs." } } });
    closed = { id: t.id, bids };
  });

  after(async () => {
    await closeBrowser({ server, context, userDataDir });
  });

  test("a buyer's tenders: a draft edited, a stale save refused in words, an evaluator assigned, a tender cancelled", async () => {
    const draft = (await api("POST", "/api/v1/tenders", buyerToken, { ...tenderBody(`Draft ${run}`, 3600, 7200) })).body;
    const open = (await api("POST", "/api/v1/tenders", buyerToken, tenderBody(`To cancel ${run}`, 3600, 7200))).body;
    await api("POST", `/api/v1/tenders/${open.id}/publish`, buyerToken);

    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page, buyer, "Your account");
    await go(page, "My tenders", "My tenders");
    const drafts = page.getByRole("table", { name: "Drafts" });
    await drafts.getByRole("link", { name: `Draft ${run}`, exact: true }).waitFor();
    assert.ok(await page.getByRole("table", { name: "Open" }).getByRole("link", { name: `To cancel ${run}` }).isVisible());
    assert.match(await page.getByRole("status").first().innerText(), /draft/);
    await screenshots(page, "my-tenders");

    // Edit the draft, save it; then someone else changes it, and a save of the old copy is refused.
    await drafts.getByRole("link", { name: `Edit Draft ${run}` }).click();
    await page.getByRole("heading", { level: 1, name: "Edit the draft tender" }).waitFor();
    assert.equal(await page.getByLabel("Title").inputValue(), `Draft ${run}`);
    assert.equal(await page.getByLabel("Budget ceiling").inputValue(), "300000");
    await page.getByLabel("Title").fill(`Draft ${run}, renamed`);
    await page.getByRole("button", { name: "Save as a draft" }).click();
    await page.getByRole("heading", { level: 2, name: "Your draft is saved" }).waitFor();
    await checkPage(page);
    const now = await api("GET", `/api/v1/tenders/${draft.id}`, buyerToken);
    assert.equal(now.body.title, `Draft ${run}, renamed`);
    await api("PATCH", `/api/v1/tenders/${draft.id}`, buyerToken, { title: `Draft ${run}, changed elsewhere` }, { "If-Match": now.etag });
    await page.getByLabel("Title").fill(`Draft ${run}, mine`);
    await page.getByRole("button", { name: "Save as a draft" }).click();
    const summary = page.locator(".nhsuk-error-summary");
    await summary.waitFor();
    assert.match(await summary.innerText(), /changed somewhere else .* Reload the page/);
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("nhsuk-error-summary")), true);
    await checkPage(page);

    // The open tender: assign the evaluator, then cancel with a reason.
    await page.goto(`${base}?page=tender&id=${open.id}`);
    await page.getByRole("heading", { level: 1, name: `To cancel ${run}` }).waitFor();
    await page.getByLabel("Assign an evaluator").selectOption({ label: `${evaluator.name} (evaluator)` });
    await page.getByRole("button", { name: "Assign" }).click();
    await page.getByRole("heading", { level: 2, name: `${evaluator.name} is assigned` }).waitFor();
    assert.match(await page.locator("#evaluators").innerText(), new RegExp(`${evaluator.name}\\s+NHS Birmingham CrossCity CCG\\s+Not declared yet`));
    await page.getByRole("button", { name: "Cancel the tender" }).click();
    await page.locator("#field-cancel-reason .nhsuk-error-message").getByText("Enter the reason for cancelling").waitFor();
    assert.equal(await page.getByLabel("Reason for cancelling").getAttribute("aria-invalid"), "true");
    assert.match(await page.getByLabel("Reason for cancelling").getAttribute("aria-describedby"), /cancel-reason-error/);
    await page.getByLabel("Reason for cancelling").fill("The need is now met by a regional contract.");
    await page.getByRole("button", { name: "Cancel the tender" }).click();
    await page.getByRole("heading", { level: 2, name: "The tender is cancelled" }).waitFor();
    assert.match(await page.locator(".nhsuk-inset-text").innerText(), /Cancelled\s+The need is now met/);
    await checkPage(page);
    assert.deepEqual(watcher.problems([412, `/api/v1/tenders/${draft.id}`]), []);
  });

  test("a lead buyer assigns a joint commissioner's user by name, listed under that CCG", async () => {
    const cara = await login(jointBuyer.email);
    const jointOrg = (await api("GET", "/api/v1/me", cara)).body.organisation.id;
    const t = (await api("POST", "/api/v1/tenders", buyerToken, { ...tenderBody(`Joint ${run}`, 3600, 7200), joint_commissioners: [jointOrg] })).body;
    await api("POST", `/api/v1/tenders/${t.id}/publish`, buyerToken);

    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page, buyer, "Your account");
    await page.goto(`${base}?page=tender&id=${t.id}`);
    await page.getByRole("heading", { level: 1, name: `Joint ${run}` }).waitFor();
    const select = page.getByLabel("Assign an evaluator");
    await select.waitFor();
    // Each organisation's people under its name: the lead's, then the joint commissioner's.
    const groups = await page.locator("#assign-user optgroup").evaluateAll((gs) => gs.map((g) => [g.label, [...g.querySelectorAll("option")].map((o) => o.textContent)]));
    assert.deepEqual(groups, [
      ["NHS Birmingham CrossCity CCG (your CCG)", [`${evaluator.name} (evaluator)`]],
      [`${jointBuyer.org} (joint commissioner)`, [`${jointBuyer.name} (buyer)`]],
    ]);
    await checkPage(page);
    await select.selectOption({ label: `${jointBuyer.name} (buyer)` });
    await page.getByRole("button", { name: "Assign" }).click();
    await page.getByRole("heading", { level: 2, name: `${jointBuyer.name} is assigned` }).waitFor();
    const rows = await page.getByRole("table", { name: "The tender's evaluators" }).getByRole("row").allInnerTexts();
    assert.deepEqual(
      rows.slice(1).map((r) => r.split(/\t|\n/).map((c) => c.trim()).filter(Boolean)),
      [
        ["Bina Buyer", "NHS Birmingham CrossCity CCG", "Not declared yet"],
        [jointBuyer.name, jointBuyer.org, "Not declared yet"],
      ],
    );
    // The joint commissioner's buyer is no longer offered; the API has it as an evaluator.
    assert.deepEqual(await page.locator("#assign-user option").allInnerTexts(), ["Choose who will evaluate", `${evaluator.name} (evaluator)`]);
    const evs = (await api("GET", `/api/v1/tenders/${t.id}/evaluators`, buyerToken)).body.items;
    assert.ok(evs.some((e) => e.organisation_id === jointOrg && e.assigned), JSON.stringify(evs));
    await screenshots(page, "tender-evaluators");
    assert.deepEqual(watcher.problems(), []);
    // Each signed-in page holds a notification stream open: close it, so
    // that the pages left open stay within Chromium's connections per host.
    await page.close();
  });

  test("at a phone's width the header keeps its first links and folds the rest into More", async () => {
    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page, buyer, "Your account");
    await page.setViewportSize({ width: 320, height: 800 });
    const nav = page.locator("#site-nav");
    const more = nav.getByRole("button", { name: /More$/ });
    await more.waitFor();
    assert.equal(await more.getAttribute("aria-expanded"), "false");
    assert.ok(await nav.getByRole("link", { name: "Providers", exact: true }).isVisible());
    assert.equal(await nav.getByRole("link", { name: "Publish a tender", exact: true }).isVisible(), false);
    assert.ok(await page.getByRole("link", { name: "NHS csmarket homepage" }).isVisible());
    await more.click();
    assert.equal(await more.getAttribute("aria-expanded"), "true");
    await nav.getByRole("link", { name: "My tenders", exact: true }).waitFor();
    await checkPage(page);
    await nav.getByRole("link", { name: "My tenders", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "My tenders" }).waitFor();
    assert.equal(await more.getAttribute("aria-expanded"), "false", "following a link closes the menu");
    // The current page is marked, folded into More or not.
    assert.equal(await nav.locator("a[aria-current=page]").innerText(), "My tenders");
    await page.locator("main > .loading").waitFor({ state: "detached" });
    await checkPage(page);
    // Wide again, every link is back in the bar and More is gone.
    await page.setViewportSize({ width: 1280, height: 900 });
    await nav.getByRole("link", { name: "Publish a tender", exact: true }).waitFor();
    assert.equal(await more.isVisible(), false);
    assert.deepEqual(watcher.problems(), []);
    await page.close();
  });

  test("an evaluator declares a conflict naming a supplier, and is barred", async () => {
    const t = (await api("POST", "/api/v1/tenders", buyerToken, tenderBody(`Conflict ${run}`, 3600, 7200))).body;
    await api("POST", `/api/v1/tenders/${t.id}/publish`, buyerToken);
    const users = (await api("GET", `/api/v1/organisations/${t.buyer_id}/users`, buyerToken)).body.items;
    await api("POST", `/api/v1/tenders/${t.id}/evaluators`, buyerToken, { user_id: users.find((u) => u.email === evaluator.email).id });
    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page, evaluator.email, "Your account");
    await go(page, "Tenders to score", "Tenders to evaluate");
    await page.getByRole("link", { name: `Conflict ${run}` }).click();
    await page.getByRole("heading", { level: 1, name: `Conflict ${run}` }).waitFor();
    await page.getByRole("button", { name: "Record my declaration" }).click();
    await page.locator(".nhsuk-error-summary").getByRole("link", { name: /Say whether you have a conflict/ }).waitFor();
    await page.getByRole("radio", { name: "Yes, I have a conflict of interest" }).check();
    // Any supplier can be named: search the directory, tick one, search again; the ticked one stays.
    const found = page.locator("#declare-suppliers-status");
    await page.getByLabel("Search suppliers by name").fill("Arden");
    await page.waitForFunction(() => /found for “Arden”/.test(document.querySelector("#declare-suppliers-status")?.textContent ?? ""));
    assert.equal(await found.getAttribute("role"), "status");
    await page.getByRole("checkbox", { name: supplier.org }).check();
    await page.getByLabel("Search suppliers by name").fill("Hartwell");
    await page.waitForFunction(() => /found for “Hartwell”/.test(document.querySelector("#declare-suppliers-status")?.textContent ?? ""));
    assert.ok(await page.getByRole("checkbox", { name: supplier.org }).isChecked(), "the chosen supplier stays ticked across searches");
    assert.ok(await page.getByRole("checkbox", { name: other.org }).isVisible());
    await page.getByLabel("Search suppliers by name").fill("zzqx no such supplier");
    await page.waitForFunction(() => /No supplier found/.test(document.querySelector("#declare-suppliers-status")?.textContent ?? ""));
    assert.ok(await page.getByRole("checkbox", { name: supplier.org }).isChecked());
    await checkPage(page);
    await page.getByLabel("Details of the conflict").fill("My sister leads its analytics team.");
    await screenshots(page, "tender-declaration");
    await page.getByRole("button", { name: "Record my declaration" }).click();
    await page.getByRole("heading", { level: 2, name: "Your conflict of interest is recorded" }).waitFor();
    assert.match(await page.locator("#evaluation").innerText(), /declared a conflict of interest/);
    const ev = (await api("GET", `/api/v1/tenders/${t.id}/evaluators`, buyerToken)).body.items.find((e) => e.conflict);
    assert.equal(ev.conflict_suppliers.length, 1);
    assert.equal(ev.conflict_details, "My sister leads its analytics team.");
    await checkPage(page);
    assert.deepEqual(watcher.problems(), []);
  });

  test("saved scores are read back into the form, and the lead buyer moderates from everyone's", async () => {
    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page, buyer, "Your account");
    await page.goto(`${base}?page=comparison&id=${closed.id}`);
    await page.getByRole("heading", { level: 1, name: "Compare the bids" }).waitFor();
    const form = page.locator(".score-form", { has: page.getByRole("heading", { level: 3, name: supplier.org }) });
    await form.getByText(/Your saved scores are shown/).waitFor();
    assert.equal(await form.getByLabel("Approach: score").inputValue(), "3");
    assert.equal(await form.getByLabel("Approach: justification").inputValue(), "A clear plan, read back.");
    assert.equal(await form.getByLabel("Social value: score").inputValue(), "1");
    const blank = page.locator(".score-form", { has: page.getByRole("heading", { level: 3, name: other.org }) });
    assert.equal(await blank.getByLabel("Approach: score").inputValue(), "");

    const mod = page.locator(".moderation", { has: page.getByRole("heading", { level: 3, name: supplier.org }) });
    await mod.getByText("1 evaluator scored this bid.").waitFor();
    assert.match(await mod.locator("table").innerText(), /3: A clear plan, read back\./);
    await mod.getByLabel("Moderated score").selectOption("2");
    await mod.getByRole("button", { name: `Moderate the score for ${supplier.org}` }).click();
    await mod.locator(".nhsuk-error-message").getByText("Enter the reason").waitFor();
    await mod.getByLabel("Reason for moderating").fill("Agreed at the panel: the plan lacks a timetable.");
    await mod.getByRole("button", { name: `Moderate the score for ${supplier.org}` }).click();
    await page.getByRole("heading", { level: 2, name: `The score for ${supplier.org} is moderated` }).waitFor({ timeout: 5000 }).catch(async (err) => {
      throw new Error(`${err.message}\n${await mod.innerText()}`);
    });
    await page.locator(".moderation .nhsuk-inset-text", { hasText: "Approach moderated to 2: Agreed at the panel" }).waitFor();
    await screenshots(page, "comparison-scoring");
    assert.deepEqual(watcher.problems(), []);
  });

  test("the public market figures: charts with their tables, and each award's open data", async () => {
    const page = await context.newPage();
    const watcher = watch(page);
    await page.goto(base);
    await page.getByRole("heading", { level: 1, name: "Find commissioning support" }).waitFor();
    await page.locator(".app-cards:not([aria-busy])").waitFor();
    await screenshots(page, "directory");
    await go(page, "Opportunities", "Opportunities");
    await screenshots(page, "opportunities");
    await go(page, "Market", "Market figures");
    const want = (await api("GET", "/api/v1/market/choice", null)).body;
    for (const h2 of ["Bids by sector", "Awards by sector", "Competition for tenders", "Awarded tenders"]) {
      assert.ok(await page.getByRole("heading", { level: 2, name: h2 }).isVisible(), h2);
    }
    assert.equal(await page.locator("svg.app-chart").count(), 3);
    const bids = page.getByRole("table", { name: "Bids and listings by sector" });
    assert.match(await bids.getByRole("row", { name: /^NHS/ }).innerText(), new RegExp(`NHS\\s+${want.sectors.nhs.bids}\\s+${want.sectors.nhs.listings}`));
    assert.match(await page.getByRole("status").first().innerText(), new RegExp(`${want.single_bid_tenders} had a single bid`));
    const ocds = page.getByRole("link", { name: /^OCDS release for / });
    if ((await ocds.count()) > 0) assert.match(await ocds.first().getAttribute("href"), /\/api\/v1\/tenders\/[^/]+\/ocds$/);
    await screenshots(page, "market");
    // The README's picture: the top of the market figures on a phone.
    await page.setViewportSize({ width: 320, height: 1000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(resultsDir, "screenshots", "readme-market-320.png") });
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual(watcher.problems(), []);
  });

  test("the operator reads the audit trail, filters it by tender, event type, user and time, and verifies the chain", async () => {
    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page, operator, "CCGs waiting for approval");
    await go(page, "Audit trail", "Audit trail");
    const status = page.locator("#audit-status");
    await status.getByText(/^\d+ events shown/).waitFor();
    assert.equal(await status.getAttribute("role"), "status");
    await page.getByRole("button", { name: "Verify the chain" }).click();
    await page.locator("#audit-verify-result").getByText(/^Intact: all \d+ events link to the one before\.$/).waitFor();

    // By object: every event of the closed tender.
    await page.getByLabel("Object ID").fill(closed.id);
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL((u) => u.searchParams.get("object") === closed.id);
    // The live region says so once the filtered events are in place (until
    // then the table still holds every event).
    await status.getByText(new RegExp(`events shown, about ${closed.id}\\.$`)).waitFor();
    await page.getByRole("rowheader", { name: "tender.published" }).waitFor();
    const actions = await page.getByRole("rowheader").allInnerTexts();
    assert.ok(actions.includes("tender.created") && actions.includes("tender.published"), actions.join(", "));

    // And by event type: the live region says what matched.
    await page.getByLabel("Event type").fill("bid.scored");
    await page.getByRole("button", { name: "Filter" }).click();
    await status.getByText(`1 event shown, about ${closed.id}, of type bid.scored.`).waitFor();
    assert.deepEqual(await page.getByRole("rowheader").allInnerTexts(), ["bid.scored"]);
    const u = new URL(page.url());
    assert.equal(u.searchParams.get("action"), "bid.scored");
    // The scorer's ID leads to everything that user did.
    const by = page.getByRole("link", { name: /: show this user's events$/ });
    const scorer = (await by.innerText()).split(":")[0].trim();
    await by.click();
    await page.waitForURL((x) => x.searchParams.get("actor") === scorer && !x.searchParams.has("object"));
    await status.getByText(new RegExp(`events? shown, by ${scorer}`)).waitFor();
    assert.equal(await page.getByLabel("Made by (user ID)").inputValue(), scorer);
    const byCells = await page.getByRole("table", { name: "Audit events" }).locator("tbody tr td:nth-child(5)").allInnerTexts();
    assert.ok(byCells.length > 1 && byCells.every((c) => c.startsWith(scorer)), byCells.join(", "));
    await checkPage(page);

    // A time window in the future matches nothing, and says so.
    const local = (d) => {
      const p = (n) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    };
    const soon = new Date(Date.now() + 24 * 3600 * 1000);
    await page.getByLabel("From").fill(local(soon));
    await page.getByRole("button", { name: "Filter" }).click();
    await status.getByText(new RegExp(`^No events match: by ${scorer}, from `)).waitFor();
    assert.equal(await page.getByRole("table", { name: "Audit events" }).count(), 0);
    await checkPage(page);

    // Bad input: a time range that ends before it starts, then a name where an ID goes.
    await page.getByLabel("Before").fill(local(new Date(soon.getTime() - 3600 * 1000)));
    await page.getByRole("button", { name: "Filter" }).click();
    const summary = page.locator(".nhsuk-error-summary");
    await summary.getByRole("link", { name: "Before: Enter a time after the From time" }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("nhsuk-error-summary")), true);
    assert.equal(await page.getByLabel("Before").getAttribute("aria-invalid"), "true");
    await page.getByLabel("From").fill("");
    await page.getByLabel("Before").fill("");
    await page.getByLabel("Made by (user ID)").fill("Bina Buyer");
    await page.getByRole("button", { name: "Filter" }).click();
    await summary.getByRole("link", { name: "Made by (user ID): is not an ID this API gave out" }).waitFor();
    assert.equal(await page.getByLabel("Made by (user ID)").getAttribute("aria-invalid"), "true");
    assert.match(await page.getByLabel("Made by (user ID)").getAttribute("aria-describedby"), /audit-actor-error/);
    await checkPage(page);
    await summary.getByRole("link", { name: /^Made by/ }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "audit-actor");
    // Put right, the errors go and the results come back.
    await page.getByLabel("Made by (user ID)").fill("");
    await page.getByLabel("Event type").fill("tender.published");
    await page.getByRole("button", { name: "Filter" }).click();
    await status.getByText(/events? shown, of type tender\.published/).waitFor();
    assert.equal(await summary.count(), 0);
    assert.equal(await page.getByLabel("Made by (user ID)").getAttribute("aria-invalid"), null);
    assert.ok((await page.getByRole("rowheader").allInnerTexts()).every((a) => a === "tender.published"));
    await screenshots(page, "audit");
    assert.deepEqual(watcher.problems([400, "/api/v1/audit"]), []);
  });

  test("a supplier's bids across tenders, with status, versions and feedback links", async () => {
    const page = await context.newPage();
    const watcher = watch(page);
    await signIn(page, supplier.email, "Your listing");
    await go(page, "My bids", "My bids");
    const row = page.getByRole("row", { name: new RegExp(`Read back ${run}`) });
    await row.waitFor();
    assert.match(await row.innerText(), /Closed\s+Submitted\s+£200,000\s+1\s+After the award decision/);
    await screenshots(page, "my-bids");
    assert.deepEqual(watcher.problems(), []);
  });
});

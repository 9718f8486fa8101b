// Browser test of the marketplace levy in real Chromium. A whole procurement
// runs through the API (publish, two bids, the deadline, declaration,
// scores, award, confirmation) against a csmarket with invoicing through
// Stripe off, so the winner's levy is recorded `not_sent`. Then the winning
// supplier sees it on its Levies page and downloads it as CSV, the losing
// supplier sees none, and the operator filters the list by status and is
// told, when it presses Retry, why the levy cannot be sent. With
// CSM_E2E_URL the server named must run without CSM_STRIPE_KEY and with a
// levy of 100 basis points, uncapped, waiving no sector.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkPage, closeBrowser, openBrowser, watch } from "./harness.mjs";

const resultsDir = fileURLToPath(new URL("../test-results/", import.meta.url));

const password = "demo commissioning passphrase";
const buyer = "buyer@birmingham-crosscity-ccg.example.nhs.uk";
const operator = "operator@csmarket.example.org";
// The winning price ends in 50p, so that 1% of it is half a penny: rounded half up.
const winner = { email: "bids@arden.example.nhs.uk", org: "Arden Commissioning Support Unit", price: 12_345_650 };
const loser = { email: "bids@hartwellanalytics.example.com", org: "Hartwell Analytics Ltd", price: 13_000_000 };
const basisPoints = 100;
const levyPence = Math.floor((winner.price * basisPoints + 5_000) / 10_000);
const run = Date.now().toString(36);
const tenderTitle = `Levy on a population health contract ${run}`;
// Seconds from publication to the bid deadline: the bids go in through the API first.
const bidsOpenFor = 5;
const retryPath = /^\/api\/v1\/billing\/levies\/[^/]+\/retry$/;

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

async function newPage() {
  const page = await context.newPage();
  return { page, watcher: watch(page) };
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

/** openLevies follows the header's Levies link, as a user would. */
async function openLevies(page, heading) {
  await page.locator("#site-nav").getByRole("link", { name: "Levies", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

/** cellTexts maps each column heading of the levy table to the row's cell text. */
async function cellTexts(page, row) {
  const headings = await page.locator("table.levies thead th").allInnerTexts();
  const cells = await row.locator("th, td").allInnerTexts();
  assert.equal(cells.length, headings.length);
  return Object.fromEntries(headings.map((heading, i) => [heading.split("\n")[0].trim(), cells[i].trim()]));
}

describe("the marketplace levy in Chromium", () => {
  let tenderId;

  before(async () => {
    mkdirSync(resultsDir, { recursive: true });
    // Invoicing off, and the levy's defaults whatever the environment says.
    ({ server, base, context, userDataDir } = await openBrowser({
      env: { CSM_STRIPE_KEY: "", CSM_LEVY_BASIS_POINTS: String(basisPoints), CSM_LEVY_CAP_PENCE: "0", CSM_LEVY_WAIVED_SECTORS: "" },
    }));

    const buyerToken = await token(buyer);
    const now = Date.now();
    const bidDeadline = now + bidsOpenFor * 1000;
    const draft = await api(
      "POST",
      "/api/v1/tenders",
      buyerToken,
      {
        title: tenderTitle,
        description: "Population health analytics for the CCG's primary care networks.",
        capabilities: ["business_intelligence"],
        regions: ["midlands"],
        contract_months: 12,
        budget_pence: 15_000_000,
        clarification_deadline: new Date(now + 2000).toISOString(),
        bid_deadline: new Date(bidDeadline).toISOString(),
        criteria: [
          { key: "price", name: "Price", kind: "price", weight: 40 },
          { key: "approach", name: "Approach", kind: "quality", weight: 60 },
        ],
      },
      { "Idempotency-Key": crypto.randomUUID() },
    );
    tenderId = draft.id;
    await api("POST", `/api/v1/tenders/${tenderId}/publish`, buyerToken);
    const bids = {};
    for (const s of [winner, loser]) {
      const bid = await api(
        "POST",
        `/api/v1/tenders/${tenderId}/bids`,
        await token(s.email),
        { price_pence: s.price, responses: { approach: `${s.org}'s analysts, in eight weeks.` } },
        { "Idempotency-Key": crypto.randomUUID() },
      );
      bids[s.email] = bid.id;
    }

    const wait = bidDeadline + 500 - Date.now();
    assert.ok(wait < 20_000, `the test would wait ${wait} ms`);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));

    await api("POST", `/api/v1/tenders/${tenderId}/conflict-declaration`, buyerToken, { conflict: false });
    for (const [email, score] of [
      [winner.email, 4],
      [loser.email, 2],
    ]) {
      await api("PUT", `/api/v1/tenders/${tenderId}/bids/${bids[email]}/scores`, buyerToken, {
        scores: { approach: { score, justification: "Scored against the published criteria." } },
      });
    }
    await api("POST", `/api/v1/tenders/${tenderId}/award`, buyerToken, { bid_id: bids[winner.email], reason: "The highest total, within budget." });
    const awarded = await api("POST", `/api/v1/tenders/${tenderId}/award/confirm`, buyerToken);
    assert.equal(awarded.status, "awarded");
  });

  after(async () => {
    await closeBrowser({ server, context, userDataDir });
  });

  test("the winning supplier sees its levy, 1% of the price rounded half up, and downloads it as CSV", async () => {
    assert.equal(levyPence, 123_457); // £123,456.50 at 1% is £1,234.565, which rounds up
    const { page, watcher } = await newPage();
    await signIn(page, winner.email);
    await openLevies(page, "Your levies");

    const row = page.locator("table.levies tbody tr", { has: page.getByRole("link", { name: tenderTitle }) });
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    const text = await cellTexts(page, row);
    assert.match(text.Tender, new RegExp(`^${tenderTitle}\\s+Recorded \\d{1,2} [A-Z][a-z]+ \\d{4}$`));
    assert.equal(text["Award value"], "£123,456.50");
    assert.match(text["Basis points"], /^100\s+1%$/);
    assert.equal(text.Levy, "£1,234.57");
    assert.equal(await row.locator(".nhsuk-tag").innerText(), "Not sent");
    assert.equal(text["Stripe invoice"], "None yet");
    assert.equal(await row.getByRole("link", { name: /Pay invoice/ }).count(), 0);
    // What the worker tried and Stripe said is the operator's alone.
    assert.equal(await page.getByRole("columnheader", { name: /Attempts|Last error/ }).count(), 0);
    assert.equal(
      await row.getByRole("link", { name: tenderTitle }).getAttribute("href"),
      `?page=tender&id=${encodeURIComponent(tenderId)}`,
    );

    // The history unfolds, naming when the levy was recorded and how.
    const history = row.locator("details");
    assert.equal(await history.locator("ol").isVisible(), false);
    await row.getByText(/^History/).click();
    const changes = history.locator("ol li");
    await changes.first().waitFor();
    assert.match(await changes.first().innerText(), /\d{4}.*: Not sent/);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "levies-supplier.png"), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    assert.equal(download.suggestedFilename(), "levies.csv");
    const [header, ...lines] = readFileSync(await download.path(), "utf8").trim().split(/\r?\n/).map((l) => l.split(","));
    const ours = lines.filter((l) => l[header.indexOf("tender_id")] === tenderId);
    assert.equal(ours.length, 1, `${lines.length} levies in the CSV, ${ours.length} on the tender`);
    const cell = (name) => ours[0][header.indexOf(name)];
    assert.equal(cell("tender_title"), tenderTitle);
    assert.equal(cell("amount_pence"), String(levyPence));
    assert.equal(cell("status"), "not_sent");

    assert.deepEqual(watcher.problems(), []);
    await page.close();
  });

  test("the losing supplier has no levy", async () => {
    const { page, watcher } = await newPage();
    await signIn(page, loser.email);
    // The page is shown once its levies are loaded.
    await openLevies(page, "Your levies");
    assert.equal(await page.getByText(tenderTitle).count(), 0);
    // On this server it has won nothing, and the page says so.
    if (!process.env.CSM_E2E_URL) {
      assert.equal(await page.locator("table.levies tbody tr").count(), 0);
      assert.equal(await page.getByRole("heading", { level: 2, name: "You have no levies" }).isVisible(), true);
      assert.equal(await page.getByRole("button", { name: "Download CSV" }).isVisible(), false);
    }
    assert.deepEqual(watcher.problems(), []);
    await page.close();
  });

  test("the operator filters by status, sees the levy not sent, and is told why Retry cannot send it", async () => {
    const { page, watcher } = await newPage();
    await signIn(page, operator);
    await openLevies(page, "Marketplace levies");
    const rows = page.locator("table.levies tbody tr");
    const row = rows.filter({ has: page.getByRole("link", { name: tenderTitle }) });
    await row.waitFor();

    // Filtered by a status the levy does not have, it is not listed; on this
    // server no levy is paid, and the page says so.
    await page.getByLabel("Status", { exact: true }).selectOption({ label: "Paid" });
    await page.getByRole("button", { name: "Apply filter" }).click();
    await page.waitForFunction(() => document.title.startsWith("Marketplace levies: Paid"));
    assert.equal(new URL(page.url()).searchParams.get("status"), "paid");
    assert.equal(await row.count(), 0);
    if (!process.env.CSM_E2E_URL) {
      assert.equal(await rows.count(), 0);
      assert.equal(await page.getByRole("heading", { level: 2, name: "No levies are paid" }).isVisible(), true);
    }
    for (const status of await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.status))) assert.equal(status, "paid");

    await page.getByLabel("Status", { exact: true }).selectOption({ label: "Not sent" });
    await page.getByRole("button", { name: "Apply filter" }).click();
    await page.waitForURL((u) => u.searchParams.get("status") === "not_sent");
    await row.waitFor();
    // The filter lives in the address, so a reload (or a shared link) keeps it.
    await page.reload();
    await row.waitFor();
    assert.equal(await page.getByLabel("Status", { exact: true }).inputValue(), "not_sent");
    assert.equal(await row.count(), 1);
    for (const status of await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.status))) assert.equal(status, "not_sent");
    const text = await cellTexts(page, row);
    assert.equal(text.Supplier, winner.org);
    assert.equal(text.Levy, "£1,234.57");
    assert.equal(await row.locator(".nhsuk-tag").innerText(), "Not sent");
    assert.equal(text.Attempts, "0");
    assert.equal(text["Last error"], "None");

    const retry = row.getByRole("button", { name: `Retry the levy on ${tenderTitle}` });
    const answered = page.waitForResponse((r) => retryPath.test(new URL(r.url()).pathname));
    await retry.click();
    assert.equal((await answered).status(), 409);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /Invoicing through Stripe is off/);
    assert.match(await alert.innerText(), new RegExp(`The levy on ${tenderTitle} was not retried`));
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("role")), "alert");
    // Nothing changed: the levy is still not sent, and Retry can be pressed again.
    assert.equal(await row.locator(".nhsuk-tag").innerText(), "Not sent");
    assert.equal(await retry.isEnabled(), true);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "levies-operator.png"), fullPage: true });

    assert.deepEqual(watcher.problems([409, retryPath]), []);
    await page.close();
  });
});

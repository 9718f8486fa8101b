// Browser test of a whole procurement in real Chromium, against a running
// csmarket whose minimum tender period is 0s (see server.mjs): the demo CCG
// publishes a tender closing in seconds, the demo supplier finds it, asks a
// question and bids, the CCG answers in public and, after the deadline,
// declares no conflict and compares the bids.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkPage, closeBrowser, openBrowser, watch } from "./harness.mjs";

const resultsDir = fileURLToPath(new URL("../test-results/", import.meta.url));

const password = "demo commissioning passphrase";
const buyer = { email: "buyer@birmingham-crosscity-ccg.example.nhs.uk" };
const supplier = { email: "bids@arden.example.nhs.uk", org: "Arden Commissioning Support Unit" };
const run = Date.now().toString(36);
const tenderTitle = `Population health dashboards ${run}`;
const question = `Which data warehouse do the practices use? (${run})`;
const answer = "The CCG's own SQL Server warehouse, refreshed nightly.";

// Seconds from publication to each deadline: the supplier must ask and bid
// in the first window; the test then waits out the rest.
const questionsOpenFor = 12;
const bidsOpenFor = 18;

let server;
let context;
let userDataDir;
let base;

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

/** localInput is the datetime-local value, in the browser's own zone, seconds from now. */
function localInput(page, seconds) {
  return page.evaluate((s) => {
    const d = new Date(Date.now() + s * 1000);
    const p = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, seconds);
}

describe("a procurement in Chromium", () => {
  // Shared along the story, in order.
  let buyerPage;
  let buyerWatch;
  let supplierPage;
  let supplierWatch;
  let tenderUrl;
  let bidDeadline;

  before(async () => {
    mkdirSync(resultsDir, { recursive: true });
    ({ server, base, context, userDataDir } = await openBrowser());
  });

  after(async () => {
    await closeBrowser({ server, context, userDataDir });
  });

  test("a CCG buyer publishes a tender; weights not adding up to 100 are named first", async () => {
    ({ page: buyerPage, watcher: buyerWatch } = await newPage());
    const page = buyerPage;
    await signIn(page, buyer.email);
    await page.getByRole("link", { name: "Publish a tender" }).click();
    await page.getByRole("heading", { level: 1, name: "Publish a tender" }).waitFor();

    await page.getByLabel("Title").fill(tenderTitle);
    await page.getByLabel("Description").fill("Dashboards of population health for the CCG's board and its practices.");
    await page.locator("#tender-capabilities").check();
    if ((await page.locator("input[name=tender-regions]:checked").count()) === 0) await page.locator("#tender-regions").check();
    await page.getByLabel("Contract length in months").fill("24");
    await page.getByLabel("Budget ceiling").fill("250,000");
    await page.getByLabel("Questions close").fill(await localInput(page, 600));
    await page.getByLabel("Bids close").fill(await localInput(page, 1200));
    // Price 40 + approach 45 + social value 25 = 110.
    await page.locator("#crit3-weight").fill("25");
    await page.getByLabel("In-house cost (optional)").fill("230000");
    await page.locator("#crit2-baseline").selectOption("2");
    await page.locator("#crit3-baseline").selectOption("3");
    await page.getByRole("button", { name: "Publish the tender" }).click();

    const summary = page.locator(".nhsuk-error-summary");
    await summary.waitFor();
    const message = page.locator("#field-tender-criteria .nhsuk-error-message");
    assert.match(await message.innerText(), /add up to 100/);
    assert.match(await summary.innerText(), /Criteria: .*add up to 100/);
    assert.match(await page.title(), /Publish a tender/);
    assert.ok(await page.getByText("Your tender is saved as a draft").isVisible());
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "tender-form-error.png"), fullPage: true });

    // Corrected, and with deadlines seconds away, the same draft is published.
    await page.locator("#crit3-weight").fill("15");
    await page.getByLabel("Questions close").fill(await localInput(page, questionsOpenFor));
    await page.getByLabel("Bids close").fill(await localInput(page, bidsOpenFor));
    bidDeadline = Date.now() + bidsOpenFor * 1000;
    await page.getByRole("button", { name: "Publish the tender" }).click();
    await page.getByRole("heading", { level: 2, name: "Your tender is published" }).waitFor();
    tenderUrl = page.url();
    assert.match(tenderUrl, /[?&]page=tender&id=/);
    assert.equal(await page.getByRole("heading", { level: 1 }).innerText(), tenderTitle);
    const facts = await page.locator(".nhsuk-summary-list").first().innerText();
    assert.match(facts, /Budget\s+Up to £250,000/);
    assert.match(facts, /Bids close\s+\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d(:\d\d)? (GMT|BST)/);
    assert.match(await page.locator("#evaluation").innerText(), /Bids are sealed/);
    assert.match(await page.locator(".tender").innerText(), /In-house option[\s\S]*£230,000/);
    assert.deepEqual(buyerWatch.problems([400, /^\/api\/v1\/tenders\/[^/]+\/publish$/]), []);
  });

  test("the supplier finds it in Opportunities, asks a question and bids", async () => {
    ({ page: supplierPage, watcher: supplierWatch } = await newPage());
    const page = supplierPage;
    await signIn(page, supplier.email);
    await page.getByRole("link", { name: "Opportunities" }).click();
    await page.getByRole("heading", { level: 1, name: "Opportunities" }).waitFor();
    await page.getByLabel("Search by keyword").fill(run);
    await page.getByLabel("Status", { exact: true }).selectOption("open");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL((u) => u.searchParams.get("q") === run && u.searchParams.get("status") === "open");
    const card = page.locator(".tender-card", { hasText: tenderTitle });
    await card.waitFor();
    assert.equal(await page.locator(".tender-card").count(), 1);
    assert.equal(await card.locator(".nhsuk-tag").innerText(), "Open");
    assert.match(await card.innerText(), /Bids close \d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d(:\d\d)? (GMT|BST)/);
    assert.match(await card.innerText(), /Up to £250,000/);

    await card.getByRole("link", { name: tenderTitle }).click();
    await page.getByRole("heading", { level: 1, name: tenderTitle }).waitFor();
    // The public view never shows the CCG's in-house option.
    assert.doesNotMatch(await page.locator(".tender").innerText(), /In-house option|£230,000/);

    await page.getByLabel("Ask a question").fill(question);
    await page.getByRole("button", { name: "Send your question" }).click();
    await page.getByRole("heading", { level: 2, name: "Your question has been sent" }).waitFor();
    assert.match(await page.locator("#questions").innerText(), /Your questions waiting for an answer[\s\S]*data warehouse/);

    await page.getByLabel("Total price").fill("200,000");
    await page.getByLabel("Approach (45%)").fill("Analysts embedded with the CCG's BI team; dashboards in twelve weeks.");
    await page.getByLabel("Social value (15%)").fill("Two apprenticeships for local people.");
    await page.getByRole("button", { name: "Submit your bid" }).click();
    await page.getByRole("heading", { level: 2, name: "Your bid has been submitted" }).waitFor();
    assert.match(await page.locator("#your-bid").innerText(), /Price\s+£200,000/);

    // A revision makes version 2.
    await page.getByLabel("Total price").fill("195000.50");
    await page.getByRole("button", { name: "Save the changes to your bid" }).click();
    await page.getByRole("heading", { level: 2, name: "Your bid has been changed" }).waitFor();
    const bid = await page.locator("#your-bid").innerText();
    assert.match(bid, /Price\s+£195,000\.50/);
    assert.match(bid, /Version\s+2/);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "tender-supplier.png"), fullPage: true });
    assert.deepEqual(supplierWatch.problems(), []);
  });

  test("the buyer answers; anyone may read the answer, never who asked", async () => {
    const page = buyerPage;
    await page.reload();
    const waiting = page.locator(".qa--waiting", { hasText: question });
    await waiting.waitFor();
    await waiting.getByLabel("Your answer").fill(answer);
    await waiting.getByRole("button", { name: "Publish the answer" }).click();
    await page.getByRole("heading", { level: 2, name: "Your answer is published" }).waitFor();

    const { page: anon, watcher } = await newPage();
    await anon.goto(tenderUrl);
    await anon.getByRole("heading", { level: 1, name: tenderTitle }).waitFor();
    assert.equal(await anon.getByRole("button", { name: "Sign out" }).count(), 0);
    const qa = await anon.locator("#questions").innerText();
    assert.match(qa, new RegExp(`Q: ${question.replace(/[()?.]/g, "\\$&")}\\s+A: ${answer.replace(/[.']/g, "\\$&")}`));
    const all = await anon.locator(".tender").innerText();
    assert.doesNotMatch(all, /Arden|Nia Supplier|bids@arden/);
    assert.match(all, /Criterion\s+Kind\s+Weight[\s\S]*Price\s+Price\s+40%[\s\S]*Approach\s+Quality\s+45%/);
    assert.match(all, /Cost share[\s\S]*100%/);
    await checkPage(anon);
    await anon.screenshot({ path: join(resultsDir, "tender.png"), fullPage: true });

    await anon.goto(`${base}?page=opportunities`);
    await anon.locator(".tender-card").first().waitFor();
    await checkPage(anon);
    await anon.screenshot({ path: join(resultsDir, "opportunities.png"), fullPage: true });
    await anon.close();
    assert.deepEqual(watcher.problems(), []);
  });

  test("after the deadline a bid cannot change, and the buyer declares and compares", async () => {
    const wait = bidDeadline + 1000 - Date.now();
    assert.ok(wait < 25_000, `the test would wait ${wait} ms`);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));

    // The supplier's page still shows the form from before the deadline.
    const sp = supplierPage;
    await sp.getByLabel("Total price").fill("190000");
    await sp.getByRole("button", { name: "Save the changes to your bid" }).click();
    const refused = sp.locator("#your-bid .nhsuk-error-summary");
    await refused.waitFor();
    assert.match(await refused.innerText(), /deadline/i);
    assert.deepEqual(supplierWatch.problems([409, /^\/api\/v1\/tenders\/[^/]+\/bids\/[^/]+$/]), []);

    const page = buyerPage;
    await page.reload();
    await page.getByRole("radio", { name: "No, I have no conflict of interest" }).check();
    await page.getByRole("button", { name: "Record my declaration" }).click();
    await page.getByRole("heading", { level: 2, name: "Your declaration is recorded" }).waitFor();
    await page.getByRole("link", { name: "Compare and score the bids" }).click();
    await page.getByRole("heading", { level: 1, name: "Compare the bids" }).waitFor();
    const rows = page.locator("table.comparison tbody tr");
    assert.equal(await rows.count(), 2);
    const bidRow = page.locator("table.comparison tbody tr", { hasText: supplier.org });
    const text = await bidRow.innerText();
    assert.match(text, /NHS/);
    assert.match(text, /£195,000\.50/);
    // The lowest price scores the whole price weight; nobody has scored quality yet.
    assert.match(text, /40\.00/);
    assert.match(text, /Scoring incomplete/);
    assert.match(await page.locator("table.comparison tbody").innerText(), /In-house option/);
    const csv = page.getByRole("link", { name: "Download the comparison as CSV" });
    await csv.waitFor();
    assert.match(await csv.getAttribute("href"), /^blob:/);
    const [download] = await Promise.all([page.waitForEvent("download"), csv.click()]);
    assert.match(download.suggestedFilename(), /^comparison-.+\.csv$/);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "comparison.png"), fullPage: true });
    assert.deepEqual(buyerWatch.problems([400, /^\/api\/v1\/tenders\/[^/]+\/publish$/]), []);
  });
});

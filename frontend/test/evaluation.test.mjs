// Browser test of evaluation and award in real Chromium, against a csmarket
// with no standstill (see server.mjs): a tender closes with bids from two
// demo suppliers, the demo CCG declares no conflict, scores both bids,
// awards one and confirms; the public page shows the winner, and the losing
// supplier reads its feedback.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkPage, closeBrowser, openBrowser, watch } from "./harness.mjs";

const resultsDir = fileURLToPath(new URL("../test-results/", import.meta.url));

const password = "demo commissioning passphrase";
const buyer = "buyer@birmingham-crosscity-ccg.example.nhs.uk";
const winner = { email: "bids@arden.example.nhs.uk", org: "Arden Commissioning Support Unit", price: 19_500_000 };
const loser = { email: "bids@hartwellanalytics.example.com", org: "Hartwell Analytics Ltd", price: 21_000_000 };
const run = Date.now().toString(36);
const tenderTitle = `Evaluation of risk stratification ${run}`;
// Seconds from publication to the bid deadline: the bids go in through the API first.
const bidsOpenFor = 5;

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

describe("evaluation and award in Chromium", () => {
  let tenderId;
  let bidDeadline;
  let buyerPage;
  let buyerWatch;

  before(async () => {
    mkdirSync(resultsDir, { recursive: true });
    ({ server, base, context, userDataDir } = await openBrowser());

    // The tender and its bids are set up through the API; the browser does the evaluation.
    const buyerToken = await token(buyer);
    const now = Date.now();
    bidDeadline = now + bidsOpenFor * 1000;
    const draft = await api(
      "POST",
      "/api/v1/tenders",
      buyerToken,
      {
        title: tenderTitle,
        description: "Risk stratification of the registered population for the CCG's care coordinators.",
        capabilities: ["business_intelligence"],
        regions: ["midlands"],
        contract_months: 12,
        budget_pence: 25_000_000,
        clarification_deadline: new Date(now + 2000).toISOString(),
        bid_deadline: new Date(bidDeadline).toISOString(),
        criteria: [
          { key: "price", name: "Price", kind: "price", weight: 40 },
          { key: "approach", name: "Approach", kind: "quality", weight: 45 },
          { key: "social_value", name: "Social value", kind: "quality", weight: 15 },
        ],
        in_house_baseline: { price_pence: 23_000_000, scores: { approach: 2, social_value: 2 } },
      },
      { "Idempotency-Key": crypto.randomUUID() },
    );
    tenderId = draft.id;
    await api("POST", `/api/v1/tenders/${tenderId}/publish`, buyerToken);
    for (const s of [winner, loser]) {
      await api(
        "POST",
        `/api/v1/tenders/${tenderId}/bids`,
        await token(s.email),
        { price_pence: s.price, responses: { approach: `${s.org}'s analysts, in eight weeks.`, social_value: "One apprenticeship." } },
        { "Idempotency-Key": crypto.randomUUID() },
      );
    }
  });

  after(async () => {
    await closeBrowser({ server, context, userDataDir });
  });

  test("the buyer declares, scores both bids (a missing justification is named), awards and confirms", async () => {
    const wait = bidDeadline + 500 - Date.now();
    assert.ok(wait < 20_000, `the test would wait ${wait} ms`);
    buyerPage = await context.newPage();
    buyerWatch = watch(buyerPage);
    const page = buyerPage;
    await signIn(page, buyer);
    if (bidDeadline + 500 > Date.now()) await new Promise((r) => setTimeout(r, bidDeadline + 500 - Date.now()));
    await page.goto(`${base}?page=tender&id=${tenderId}`);
    await page.getByRole("radio", { name: "No, I have no conflict of interest" }).check();
    await page.getByRole("button", { name: "Record my declaration" }).click();
    await page.getByRole("heading", { level: 2, name: "Your declaration is recorded" }).waitFor();
    await page.getByRole("link", { name: "Compare and score the bids" }).click();
    await page.getByRole("heading", { level: 1, name: "Compare the bids" }).waitFor();

    // First the winner's bid, without a justification for social value: the API names the field.
    const form = page.locator(".score-form", { hasText: winner.org });
    await form.getByLabel("Approach: score").selectOption("4");
    await form.getByLabel("Approach: justification").fill("A clear plan with named analysts and dates.");
    await form.getByLabel("Social value: score").selectOption("3");
    await form.getByRole("button", { name: `Save the scores for ${winner.org}` }).click();
    const message = form.locator("[id^=field-why-][id$=-social_value] .nhsuk-error-message");
    await message.waitFor();
    assert.ok((await message.innerText()).length > 8);
    assert.equal(await form.locator(".nhsuk-error-message").count(), 1);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "scoring-form.png"), fullPage: true });

    await form.getByLabel("Social value: justification").fill("One apprenticeship, without numbers.");
    await form.getByRole("button", { name: `Save the scores for ${winner.org}` }).click();
    await page.getByRole("heading", { level: 2, name: `Your scores for ${winner.org} are saved` }).waitFor();
    const winnerRow = page.locator("table.comparison tbody tr", { hasText: winner.org });
    // Price 40.00 (lowest) + approach 45.00 + social value 11.25 = 96.25, and scoring is complete.
    assert.match(await winnerRow.innerText(), /96\.25/);
    assert.doesNotMatch(await winnerRow.innerText(), /Scoring incomplete/);

    const other = page.locator(".score-form", { hasText: loser.org });
    await other.getByLabel("Approach: score").selectOption("2");
    await other.getByLabel("Approach: justification").fill("A generic plan.");
    await other.getByLabel("Social value: score").selectOption("1");
    await other.getByLabel("Social value: justification").fill("No commitments.");
    await other.getByRole("button", { name: `Save the scores for ${loser.org}` }).click();
    await page.getByRole("heading", { level: 2, name: `Your scores for ${loser.org} are saved` }).waitFor();
    assert.match(await page.locator("table.comparison tbody tr").first().locator("th").innerText(), new RegExp(`^${winner.org}`));

    // The award needs a reason; then the standstill (none here) and confirmation.
    await page.getByRole("button", { name: `Award to ${winner.org}` }).click();
    await page.getByRole("button", { name: "Decide the award" }).click();
    await page.locator("#field-award-reason .nhsuk-error-message").waitFor();
    await page.getByLabel("Reason for the award").fill("The highest total, within budget.");
    await page.getByRole("button", { name: "Decide the award" }).click();
    await page.getByRole("heading", { level: 2, name: `The award to ${winner.org} is decided` }).waitFor();
    assert.match(await page.locator("#decision").innerText(), /standstill ends \d{1,2} [A-Z][a-z]+ \d{4}/);
    await page.getByRole("button", { name: "Confirm award" }).click();
    await page.getByRole("heading", { level: 2, name: "The award is final" }).waitFor();
    assert.deepEqual(buyerWatch.problems([400, /^\/api\/v1\/tenders\/[^/]+\/bids\/[^/]+\/scores$/]), []);
  });

  test("anyone sees the winner and value, never the losing price; the loser reads its feedback", async () => {
    const anon = await context.newPage();
    const anonWatch = watch(anon);
    // A fresh context has no session: sign out of the shared one first.
    await buyerPage.getByRole("button", { name: "Sign out" }).click();
    await anon.goto(`${base}?page=tender&id=${tenderId}`);
    await anon.getByRole("heading", { level: 1, name: tenderTitle }).waitFor();
    const award = await anon.locator(".award").innerText();
    assert.match(award, new RegExp(`awarded to ${winner.org}[\\s\\S]*£195,000`));
    assert.doesNotMatch(await anon.locator(".tender").innerText(), /£210,000|Hartwell/);
    const ocds = anon.getByRole("link", { name: /open data/ });
    assert.match(await ocds.getAttribute("href"), new RegExp(`/api/v1/tenders/${tenderId}/ocds$`));
    const pkg = await (await fetch(new URL(await ocds.getAttribute("href"), base))).json();
    assert.ok(Array.isArray(pkg.releases) && pkg.releases.length > 0);
    await checkPage(anon);
    await anon.screenshot({ path: join(resultsDir, "tender-awarded.png"), fullPage: true });
    assert.deepEqual(anonWatch.problems(), []);

    await signIn(anon, loser.email);
    await anon.goto(`${base}?page=tender&id=${tenderId}`);
    const feedback = anon.locator("#feedback");
    await feedback.waitFor();
    const text = await feedback.innerText();
    assert.match(text, /ranked 2 of 2/);
    assert.match(text, new RegExp(`${winner.org}, scored 96\\.25 points`));
    assert.match(text, /Your price\s+£210,000/);
    await checkPage(anon);
    await anon.screenshot({ path: join(resultsDir, "tender-feedback.png"), fullPage: true });
    await anon.close();
    assert.deepEqual(anonWatch.problems(), []);
  });
});

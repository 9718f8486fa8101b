// Browser test of the directory and profile pages in real Chromium, against
// a running csmarket (see server.mjs for how one is found or started).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkPage, closeBrowser, openBrowser, watch } from "./harness.mjs";

const resultsDir = fileURLToPath(new URL("../test-results/", import.meta.url));

let server;
let context;
let userDataDir;
let base;

async function cardNames(page) {
  return page.locator(".nhsuk-card__heading").allInnerTexts();
}

async function waitForResults(page) {
  await page.locator(".app-cards:not([aria-busy]), .nhsuk-error-summary").first().waitFor({ state: "attached" });
  await page.waitForFunction(() => {
    const s = document.querySelector(".results__status")?.textContent ?? "";
    return !s.startsWith("Loading") && !document.querySelector(".app-cards[aria-busy]");
  });
}

describe("csmarket in Chromium", () => {
  let page;
  let watcher;

  before(async () => {
    mkdirSync(resultsDir, { recursive: true });
    ({ server, base, context, userDataDir } = await openBrowser());
    page = context.pages()[0] ?? (await context.newPage());
    watcher = watch(page);
  });

  after(async () => {
    await closeBrowser({ server, context, userDataDir });
  });

  test("the directory lists providers", async () => {
    await page.goto(base);
    await waitForResults(page);
    await assert.doesNotReject(page.getByRole("heading", { level: 1, name: "Find commissioning support" }).waitFor());
    const names = await cardNames(page);
    assert.ok(names.length > 0, "no provider cards");
    const first = page.locator(".nhsuk-card").first();
    assert.match(await first.locator(".nhsuk-tag").innerText(), /^(NHS|Local authority|Third sector|Independent)$/);
    assert.match(await first.innerText(), /£[\d,]+(\.\d\d)? (to £[\d,]+(\.\d\d)? )?a day/);
    for (const label of ["Search by keyword", "Sector", "Capability", "Region", "Organisation size"]) {
      assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, `no control labelled ${label}`);
    }
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "directory.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "directory-narrow.png") });
    await page.setViewportSize({ width: 1280, height: 900 });
    // The skip link is the first stop for keyboard users.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to main content");
  });

  test("filtering by sector shows only that sector and is kept in the URL", async () => {
    await page.goto(base);
    await waitForResults(page);
    const before = await cardNames(page);
    await page.getByLabel("Sector", { exact: true }).selectOption({ label: "Third sector" });
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL((u) => u.searchParams.get("sector") === "third_sector");
    await waitForResults(page);
    const tags = await page.locator(".nhsuk-card .nhsuk-tag").allInnerTexts();
    assert.ok(tags.length > 0, "no third-sector providers shown");
    assert.deepEqual([...new Set(tags)], ["Third sector"]);

    // A shared link opens the same search.
    await page.reload();
    await waitForResults(page);
    assert.equal(await page.getByLabel("Sector", { exact: true }).inputValue(), "third_sector");
    assert.deepEqual([...new Set(await page.locator(".nhsuk-card .nhsuk-tag").allInnerTexts())], ["Third sector"]);

    // The back button returns to the unfiltered directory.
    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.has("sector"));
    await waitForResults(page);
    assert.equal(await page.getByLabel("Sector", { exact: true }).inputValue(), "");
    assert.deepEqual(await cardNames(page), before);
  });

  test("a search for a word finds a provider", async () => {
    await page.goto(base);
    await waitForResults(page);
    const names = await cardNames(page);
    const target = names[names.length - 1];
    const word = target
      .split(/[^A-Za-z]+/)
      .filter((w) => w.length >= 5)
      .sort((a, b) => b.length - a.length)[0];
    assert.ok(word, `no searchable word in ${target}`);
    await page.getByLabel("Search by keyword").fill(word);
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.searchParams.get("q") === word);
    await waitForResults(page);
    assert.ok((await cardNames(page)).includes(target), `search for ${word} did not find ${target}`);
  });

  test("Load more adds the next page", async () => {
    await page.goto(base);
    await waitForResults(page);
    const first = await cardNames(page);
    const more = page.getByRole("button", { name: "Load more providers" });
    assert.ok(await more.isVisible(), `no Load more button with ${first.length} providers shown`);
    await more.click();
    await page.waitForFunction((n) => document.querySelectorAll(".nhsuk-card").length > n, first.length);
    await waitForResults(page);
    const all = await cardNames(page);
    assert.deepEqual(all.slice(0, first.length), first);
    const added = all.slice(first.length);
    assert.ok(added.length > 0);
    assert.ok(!added.some((n) => first.includes(n)), "the next page repeats providers");
    // Focus moves to the first new card, for keyboard users.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), added[0]);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "load-more.png") });
  });

  test("opening a provider shows its profile", async () => {
    await page.goto(base);
    await waitForResults(page);
    const link = page.locator(".nhsuk-card__heading a").first();
    const name = await link.innerText();
    await link.click();
    await page.waitForURL((u) => u.searchParams.has("provider"));
    const h1 = page.getByRole("heading", { level: 1 });
    await h1.waitFor();
    assert.equal(await h1.innerText(), name);
    assert.equal(await page.title(), `${name} – csmarket`);
    for (const heading of ["At a glance", "Case studies", "Contact"]) {
      assert.equal(await page.getByRole("heading", { level: 2, name: heading }).count(), 1, `no ${heading} section`);
    }
    const ids = await page.locator(".org-id").allInnerTexts();
    assert.ok(ids.length > 0, "no identifiers");
    for (const id of ids) assert.match(id, /^GB-(NHS|COH|CHC|LAE)-[A-Z0-9]+$/);
    assert.match(await page.locator(".nhsuk-summary-list").first().innerText(), /Day rate\s+£/);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "profile.png"), fullPage: true });

    // The profile's address works on its own.
    await page.reload();
    await page.getByRole("heading", { level: 1, name }).waitFor();

    await page.getByRole("link", { name: "Back to the directory" }).click();
    await page.waitForURL((u) => !u.searchParams.has("provider"));
    await waitForResults(page);
    assert.ok((await cardNames(page)).includes(name));
  });

  test("a filter that matches nothing shows the empty state", async () => {
    await page.goto(base);
    await waitForResults(page);
    await page.getByLabel("Search by keyword").fill("zqxjv");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL((u) => u.searchParams.get("q") === "zqxjv");
    await waitForResults(page);
    assert.equal(await page.locator(".nhsuk-card").count(), 0);
    await page.getByRole("heading", { name: "No providers match your search" }).waitFor();
    assert.ok(await page.getByRole("link", { name: /Clear all filters/ }).isVisible());
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "empty.png") });
  });

  test("no console errors and no failed requests", () => {
    assert.deepEqual(watcher.problems(), []);
  });

  test("a bad parameter shows the problem's detail and field message", async () => {
    const bad = await context.newPage();
    const seen = watch(bad);
    await bad.goto(`${base}?sector=not_a_sector`);
    const summary = bad.locator(".nhsuk-error-summary");
    await summary.waitFor();
    const text = await summary.innerText();
    assert.match(text, /sector/i);
    assert.ok(await bad.getByRole("link", { name: /^Sector: / }).isVisible(), "no link from the field message to the control");
    assert.equal(await bad.getByLabel("Sector", { exact: true }).getAttribute("aria-invalid"), "true");
    assert.match(await bad.title(), /^Error: /);
    await checkPage(bad);
    await bad.screenshot({ path: join(resultsDir, "error.png"), fullPage: true });
    await bad.close();
    // The only failure is the one asked for.
    assert.deepEqual(seen.problems([400, "/api/v1/providers"]), []);
  });
});

// Browser test of the account pages in real Chromium, against a running
// csmarket with its demo users (see server.mjs): signing in and out,
// registering suppliers and CCGs, editing a listing with If-Match, and the
// operator's approvals.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { checkPage, closeBrowser, openBrowser, watch } from "./harness.mjs";

const resultsDir = fileURLToPath(new URL("../test-results/", import.meta.url));

// The demo users `csmarket seed` creates.
const password = "demo commissioning passphrase";
const supplier = { email: "bids@arden.example.nhs.uk", name: "Nia Supplier", org: "Arden Commissioning Support Unit" };
const operator = { email: "operator@csmarket.example.org" };

let server;
let context;
let userDataDir;
let base;
// A different run of the tests on a shared server must not collide.
const run = Date.now().toString(36);

async function newPage() {
  const page = await context.newPage();
  return { page, watcher: watch(page) };
}

async function signIn(page, email, pass = password) {
  await page.goto(`${base}?page=sign-in`);
  await page.getByLabel("E-mail address").fill(email);
  await page.getByLabel("Password").fill(pass);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function headerText(page) {
  return page.locator("#account-nav").innerText();
}

async function signOut(page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You have signed out.").waitFor();
  await page.getByRole("link", { name: "Sign in", exact: true }).waitFor();
}

/** api calls the API from Node, as a second client would. */
async function api(path, init = {}) {
  const res = await fetch(new URL(path, server.url), {
    ...init,
    headers: { "Content-Type": "application/json", ...(init.headers ?? {}) },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function apiSignIn(email, pass = password) {
  const res = await api("/api/v1/auth/login", { method: "POST", body: JSON.stringify({ email, password: pass }) });
  assert.equal(res.status, 200);
  return res.body.access_token;
}

async function myOrganisationId(token) {
  const me = await api("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  return me.body.organisation.id;
}

describe("accounts in Chromium", () => {
  before(async () => {
    mkdirSync(resultsDir, { recursive: true });
    ({ server, base, context, userDataDir } = await openBrowser());
  });

  after(async () => {
    await closeBrowser({ server, context, userDataDir });
  });

  test("a wrong password is refused in words, and a rate limit says how long to wait", async () => {
    const { page, watcher } = await newPage();
    await page.goto(`${base}?page=sign-in`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    assert.equal(await page.title(), "Sign in – csmarket");
    assert.equal(await page.getByLabel("E-mail address").getAttribute("autocomplete"), "username");
    assert.equal(await page.getByLabel("Password").getAttribute("type"), "password");
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "sign-in.png") });

    await signIn(page, supplier.email, "not the right passphrase");
    const summary = page.locator(".nhsuk-error-summary");
    await summary.waitFor();
    assert.match(await summary.innerText(), /The e-mail address or password is not right\./);
    assert.equal(await page.getByLabel("Password").inputValue(), "", "the wrong password stays in the box");
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("nhsuk-error-summary")), true);
    assert.match(await headerText(page), /Sign in/);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "sign-in-error.png") });

    // Empty answers are caught before sending, next to each box.
    await page.getByLabel("E-mail address").fill("");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#field-signin-email .nhsuk-error-message").getByText("Enter your e-mail address").waitFor();
    assert.equal(await page.getByLabel("E-mail address").getAttribute("aria-invalid"), "true");

    // Over the limit, the API answers 429 with Retry-After; the page says how long.
    await page.route("**/api/v1/auth/login", (route) =>
      route.fulfill({
        status: 429,
        headers: { "Content-Type": "application/problem+json", "Retry-After": "42" },
        body: JSON.stringify({ type: "about:blank", title: "Too Many Requests", status: 429, code: "rate_limited", detail: "Too many requests.", instance: "/api/v1/auth/login", request_id: "x" }),
      }),
    );
    await signIn(page, supplier.email);
    await page.getByText("Too many attempts to sign in. Wait 42 seconds, then try again.").waitFor();
    await page.unroute("**/api/v1/auth/login");

    assert.deepEqual(watcher.problems([401, "/api/v1/auth/login"], [429, "/api/v1/auth/login"]), []);
    await page.close();
  });

  test("a supplier edits its listing and the public profile shows the change", async () => {
    const { page, watcher } = await newPage();
    await signIn(page, supplier.email);
    await page.waitForURL((u) => u.searchParams.get("page") === "listing");
    await page.getByRole("heading", { level: 1, name: "Your listing" }).waitFor();
    const header = await headerText(page);
    for (const want of [supplier.name, supplier.org, "Supplier", "Sign out"]) assert.ok(header.includes(want), `header lacks ${want}: ${header}`);
    // The refresh token is in sessionStorage, and nothing is in cookies.
    assert.match(await page.evaluate(() => sessionStorage.getItem("csmarket.refresh_token") ?? ""), /\S/);
    assert.deepEqual(await context.cookies(), []);

    const summary = page.getByLabel("Summary");
    assert.match(await summary.inputValue(), /commissioning support unit/i);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "listing-editor.png"), fullPage: true });
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "listing-editor-top.png") });
    await page.setViewportSize({ width: 390, height: 844 });
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "listing-editor-narrow.png") });
    await page.setViewportSize({ width: 1280, height: 900 });

    // Answers the API refuses are shown next to their boxes.
    await page.getByLabel("Website").fill("javascript:alert(1)");
    await page.getByLabel("Lowest day rate").fill("lots");
    await page.getByRole("button", { name: "Save your listing" }).click();
    await page.locator("#field-listing-rate-min .nhsuk-error-message").waitFor();
    await page.getByLabel("Lowest day rate").fill("550");
    await page.getByRole("button", { name: "Save your listing" }).click();
    await page.locator("#field-listing-contact-website .nhsuk-error-message").getByText("must be an http or https address").waitFor();
    assert.equal(await page.getByLabel("Website").getAttribute("aria-invalid"), "true");
    assert.ok(await page.locator(".nhsuk-error-summary").getByRole("link", { name: /^Website: / }).isVisible());
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "listing-errors.png"), fullPage: true });
    await page.getByLabel("Website").fill("https://www.arden.example.nhs.uk");

    const newSummary = `Arden now offers population health management for primary care networks (${run}).`;
    await summary.fill(newSummary);
    await page.getByRole("button", { name: "Add a case study" }).click();
    const caseTitle = `Primary care network dashboards ${run}`;
    // Focus moves to the new case study's title.
    assert.equal(await page.evaluate(() => document.activeElement?.closest(".case-study-edit")?.querySelector("legend")?.textContent), "Case study 3");
    await page.keyboard.type(caseTitle);
    await page.locator(".case-study-edit").nth(2).getByLabel("Client").fill("NHS Example CCG");
    // Removing the first case study renumbers the rest.
    const firstTitle = await page.locator(".case-study-edit").first().getByLabel("Title").inputValue();
    await page.getByRole("button", { name: "Remove case study 1" }).click();
    assert.equal(await page.locator(".case-study-edit").count(), 2);
    await page.getByRole("button", { name: "Save your listing" }).click();
    await page.getByRole("heading", { name: "Your listing is saved" }).waitFor();
    assert.equal(await page.locator(".nhsuk-error-summary").count(), 0);
    assert.equal(await page.getByLabel("Summary").inputValue(), newSummary);

    await page.locator(".nhsuk-notification-banner").getByRole("link", { name: "See your public profile" }).click();
    await page.waitForURL((u) => u.searchParams.has("provider"));
    await page.getByRole("heading", { level: 1, name: supplier.org }).waitFor();
    assert.equal(await page.locator(".profile .nhsuk-lede-text").first().innerText(), newSummary);
    await page.getByRole("heading", { level: 3, name: caseTitle }).waitFor();
    assert.equal(await page.getByRole("heading", { level: 3, name: firstTitle }).count(), 0, "the removed case study is still shown");
    assert.match(await page.locator(".profile").innerText(), /Day rate\s+£550 to £950 a day/);
    // Its own supplier sees a way back to the editor.
    assert.ok(await page.getByRole("link", { name: "Edit your listing" }).isVisible());
    await checkPage(page);

    // Any other client sees the change too.
    const token = await apiSignIn(supplier.email);
    const id = await myOrganisationId(token);
    assert.equal((await api(`/api/v1/providers/${id}`)).body.summary, newSummary);

    assert.deepEqual(watcher.problems([400, `/api/v1/providers/${id}`]), []);
    await page.close();
  });

  test("saving a listing changed elsewhere meanwhile shows 412 and offers to reload", async () => {
    const { page, watcher } = await newPage();
    await signIn(page, supplier.email);
    await page.getByRole("heading", { level: 1, name: "Your listing" }).waitFor();
    await page.getByLabel("Summary").fill(`An edit that will be stale (${run}).`);

    // Meanwhile, a colleague saves through the API.
    const token = await apiSignIn(supplier.email);
    const id = await myOrganisationId(token);
    const got = await api(`/api/v1/providers/${id}`);
    const p = got.body;
    const theirs = `A colleague's summary, saved first (${run}).`;
    const put = await api(`/api/v1/providers/${id}`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "If-Match": got.headers.get("etag") },
      body: JSON.stringify({
        summary: theirs,
        capabilities: p.capabilities,
        regions: p.regions,
        size: p.size,
        accreditations: p.accreditations,
        day_rate_min_pence: p.day_rate_min_pence,
        day_rate_max_pence: p.day_rate_max_pence,
        case_studies: p.case_studies,
        contact: p.contact,
      }),
    });
    assert.equal(put.status, 200);

    await page.getByRole("button", { name: "Save your listing" }).click();
    const alert = page.locator(".nhsuk-error-summary");
    await alert.getByText("Your listing has changed since you opened it").waitFor();
    assert.match(await alert.innerText(), /Your edits have not been saved/);
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "listing-stale.png") });
    await alert.getByRole("button", { name: "Reload the listing" }).click();
    await page.waitForFunction((want) => document.querySelector("#listing-summary")?.value === want, theirs);
    assert.equal(await page.locator(".nhsuk-error-summary").count(), 0);

    // Saved on top of the reloaded version, the edit goes through.
    const mine = `The summary after reloading (${run}).`;
    await page.getByLabel("Summary").fill(mine);
    await page.getByRole("button", { name: "Save your listing" }).click();
    await page.getByRole("heading", { name: "Your listing is saved" }).waitFor();
    assert.equal((await api(`/api/v1/providers/${id}`)).body.summary, mine);

    assert.deepEqual(watcher.problems([412, `/api/v1/providers/${id}`]), []);
    await page.close();
  });

  test("a reload keeps the session, a refused token is renewed once, and a refused renewal signs out", async () => {
    const { page, watcher } = await newPage();
    await signIn(page, supplier.email);
    await page.getByRole("heading", { level: 1, name: "Your listing" }).waitFor();

    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Your listing" }).waitFor();
    assert.ok((await headerText(page)).includes(supplier.name));

    // One 401 from the API: the page renews the access token and retries.
    let refused = 0;
    await page.route("**/api/v1/me", async (route) => {
      if (refused++ === 0) {
        await route.fulfill({ status: 401, headers: { "Content-Type": "application/problem+json" }, body: "{}" });
      } else {
        await route.continue();
      }
    });
    const renewed = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/refresh") && r.status() === 200);
    await page.getByRole("link", { name: "Your account" }).click();
    await renewed;
    await page.getByRole("heading", { level: 1, name: "Your account" }).waitFor();
    assert.match(await page.locator(".nhsuk-summary-list").innerText(), new RegExp(supplier.org));
    await page.unroute("**/api/v1/me");

    // When renewing is refused too, the session ends cleanly.
    await page.route("**/api/v1/me", (route) => route.fulfill({ status: 401, headers: { "Content-Type": "application/problem+json" }, body: "{}" }));
    await page.route("**/api/v1/auth/refresh", (route) => route.fulfill({ status: 401, headers: { "Content-Type": "application/problem+json" }, body: "{}" }));
    await page.getByRole("link", { name: "Your account" }).click();
    await page.getByText("Your session has ended. Sign in again to carry on.").waitFor();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    assert.match(await headerText(page), /Sign in/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("csmarket.refresh_token")), null);
    await page.unroute("**/api/v1/me");
    await page.unroute("**/api/v1/auth/refresh");

    assert.deepEqual(watcher.problems([401, "/api/v1/me"], [401, "/api/v1/auth/refresh"]), []);
    await page.close();
  });

  test("a new supplier registers, is signed in, and publishes its listing", async () => {
    const { page, watcher } = await newPage();
    await page.goto(`${base}?page=register`);
    await page.getByRole("heading", { level: 1, name: "Register your organisation" }).waitFor();
    await page.getByLabel("A supplier of commissioning support").check();
    const name = `Fenwick Analytics ${run}`;
    const email = `owner-${run}@fenwick.example.com`;
    await page.getByLabel("Organisation name").fill(name);
    await page.getByLabel("Sector").selectOption({ label: "Independent" });
    await page.getByLabel("Register", { exact: true }).selectOption("GB-COH");
    await page.getByLabel("Number or code").fill("12");
    await page.getByLabel("Midlands").check();
    await page.getByLabel("Your full name").fill("Fen Wick");
    await page.getByLabel("Your work e-mail address").fill(email);
    await page.getByLabel("Choose a password").fill("short");
    await page.getByRole("button", { name: "Register" }).click();

    // The API's field errors land next to the right boxes.
    await page.locator("#field-sup-id .nhsuk-error-message").getByText(/Companies House number/).waitFor();
    await page.locator("#field-user-password .nhsuk-error-message").getByText(/at least 12 characters/).waitFor();
    assert.equal(await page.getByLabel("Number or code").getAttribute("aria-invalid"), "true");
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "register-errors.png"), fullPage: true });

    const companyNumber = String(10_000_000 + (Date.now() % 89_999_999)).slice(0, 8);
    await page.getByLabel("Number or code").fill(companyNumber);
    await page.getByLabel("Choose a password").fill("fenwick dashboards for every ccg");
    await page.getByRole("button", { name: "Register" }).click();
    await page.getByRole("heading", { name: `${name} is registered` }).waitFor();
    const header = await headerText(page);
    for (const want of ["Fen Wick", name, "Supplier"]) assert.ok(header.includes(want), `header lacks ${want}: ${header}`);

    // Its listing does not exist yet: publishing creates it.
    await page.getByRole("link", { name: "Your listing", exact: true }).click();
    await page.getByText("You have no listing yet.", { exact: false }).waitFor();
    await page.getByLabel("Summary").fill(`Dashboards and analysis for CCGs (${run}).`);
    await page.getByLabel("Business intelligence and analytics").check();
    await page.getByLabel("Organisation size").selectOption("micro");
    await page.getByRole("button", { name: "Publish your listing" }).click();
    await page.getByRole("heading", { name: "Your listing is published" }).waitFor();
    // The next save is an edit of what was published.
    await page.getByRole("button", { name: "Save your listing" }).waitFor();

    assert.deepEqual(watcher.problems([400, "/api/v1/auth/register"], [404, `/api/v1/providers/${await orgIdFromHeader(page)}`]), []);
    await page.close();
  });

  test("a CCG registered from a non-nhs.net address waits, and the operator approves it", async () => {
    const { page, watcher } = await newPage();
    await page.goto(`${base}?page=register&kind=buyer`);
    const ccg = `NHS Ambridge ${run} CCG`;
    const email = `commissioning-${run}@ambridge-ccg.example.org`;
    const ods = `Q${run.slice(-5).toUpperCase()}`.replace(/[^A-Z0-9]/g, "9");
    await page.getByLabel("CCG name").fill(ccg);
    await page.getByLabel("ODS code").fill(ods.toLowerCase());
    await page.getByLabel("NHS England region").selectOption({ label: "Midlands" });
    await page.getByLabel("Registered population").fill("not many");
    await page.getByLabel("Running-cost allowance per head").fill("22.50");
    await page.getByLabel("Your full name").fill("Amy Bridge");
    await page.getByLabel("Your work e-mail address").fill(email);
    await page.getByLabel("Choose a password").fill("ambridge commissioning passphrase");
    await page.getByRole("button", { name: "Register" }).click();
    await page.locator("#field-ccg-population .nhsuk-error-message").waitFor();
    await page.getByLabel("Registered population").fill("180,000");
    await page.getByRole("button", { name: "Register" }).click();

    await page.getByRole("heading", { name: `${ccg} is registered` }).waitFor();
    assert.match(await page.locator(".nhsuk-notification-banner").innerText(), /Your CCG is pending approval/);
    assert.equal(await page.locator("[data-status]").innerText(), "Waiting for approval");
    // Later visits say so too.
    await page.reload();
    await page.getByRole("heading", { name: "Your CCG is pending approval" }).waitFor();
    assert.ok((await headerText(page)).includes("Buyer"));
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "ccg-pending.png"), fullPage: true });
    // What was sent: pounds became pence, the ODS code capitals.
    const token = await apiSignIn(email, "ambridge commissioning passphrase");
    const me = (await api("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } })).body;
    assert.equal(me.organisation.running_cost_allowance_per_head_pence, 2250);
    assert.equal(me.organisation.population, 180000);
    assert.equal(me.organisation.identifiers[0].id, ods);
    assert.equal(me.organisation.status, "pending");

    await signOut(page);

    await signIn(page, operator.email);
    await page.waitForURL((u) => u.searchParams.get("page") === "operator");
    await page.getByRole("heading", { level: 1, name: "CCGs waiting for approval" }).waitFor();
    const card = page.locator(".nhsuk-card", { has: page.getByRole("heading", { name: ccg }) });
    await card.waitFor();
    await card.getByText(email).waitFor();
    await checkPage(page);
    await page.screenshot({ path: join(resultsDir, "operator.png"), fullPage: true });
    await card.getByRole("button", { name: `Approve ${ccg}` }).click();
    await card.getByText(`${ccg} is active`).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("card__outcome")), true);
    await signOut(page);

    await signIn(page, email, "ambridge commissioning passphrase");
    await page.getByRole("heading", { level: 1, name: "Your account" }).waitFor();
    assert.equal(await page.locator("[data-status]").innerText(), "Active");
    assert.equal(await page.getByRole("heading", { name: "Your CCG is pending approval" }).count(), 0);

    assert.deepEqual(watcher.problems([400, "/api/v1/auth/register"]), []);
    await page.close();
  });

  test("signing out returns to anonymous and ends the session at the API", async () => {
    const { page, watcher } = await newPage();
    await signIn(page, supplier.email);
    await page.getByRole("heading", { level: 1, name: "Your listing" }).waitFor();
    const refreshToken = await page.evaluate(() => sessionStorage.getItem("csmarket.refresh_token"));
    assert.ok(refreshToken);

    const loggedOut = page.waitForResponse((r) => r.url().endsWith("/api/v1/auth/logout"));
    await signOut(page);
    assert.equal((await loggedOut).status(), 204);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("csmarket.refresh_token")), null);
    assert.doesNotMatch(await headerText(page), /Sign out|Nia/);

    // The spent session cannot be picked up again, here or anywhere.
    assert.equal((await api("/api/v1/auth/refresh", { method: "POST", body: JSON.stringify({ refresh_token: refreshToken }) })).status, 401);
    await page.goto(`${base}?page=listing`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get("next"), "?page=listing");
    // Signing in from there returns to the page asked for.
    await page.getByLabel("E-mail address").fill(supplier.email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Your listing" }).waitFor();

    assert.deepEqual(watcher.problems(), []);
    await page.close();
  });
});

async function orgIdFromHeader(page) {
  return page.evaluate(() => {
    const a = document.querySelector('a[href^="?provider="]');
    return a ? decodeURIComponent(a.getAttribute("href").slice("?provider=".length)) : "";
  });
}

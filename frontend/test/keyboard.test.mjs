// A whole procurement driven by the keyboard alone (Tab, Enter, Space and
// typing into the focused field; no click, no fill): the demo CCG's buyer
// signs in, publishes a tender, declares no conflict, scores both bids,
// decides the award and confirms it. The two bids go in through the API,
// as the suppliers' part is not this journey. Then the comparison's price
// weight slider is checked against the API's own comparison.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import { checkPage, closeBrowser, openBrowser, resultsDir, screenshots, watch } from "./harness.mjs";

const password = "demo commissioning passphrase";
const buyer = "buyer@birmingham-crosscity-ccg.example.nhs.uk";
const suppliers = [
  { email: "bids@arden.example.nhs.uk", org: "Arden Commissioning Support Unit", price: 21_000_000 },
  { email: "bids@hartwellanalytics.example.com", org: "Hartwell Analytics Ltd", price: 18_500_000 },
];
const run = Date.now().toString(36);
const title = `Keyboard-only tender ${run}`;

let server;
let context;
let userDataDir;
let base;

async function api(method, path, token, body) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const login = async (email) => (await api("POST", "/api/v1/auth/login", null, { email, password })).access_token;

/** focused describes the focused element: its tag, id, type and accessible name as a user would read it. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const label = el.labels?.[0]?.textContent ?? "";
    const name = (el.getAttribute("aria-label") || label || el.textContent || "").replace(/\s+/g, " ").trim();
    return { tag: el.tagName.toLowerCase(), id: el.id, type: el.getAttribute("type") ?? "", name };
  });
}

/** tabTo presses Tab until the focused element matches, as a keyboard user moves through the page. */
async function tabTo(page, match, what, max = 500) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    const f = await focused(page);
    if (f && match(f)) return f;
  }
  throw new Error(`Tab never reached ${what}`);
}

const byId = (id) => (f) => f.id === id;
const byName = (tag, name) => (f) => f.tag === tag && (name instanceof RegExp ? name.test(f.name) : f.name === name);

/** typeAt tabs to the control with id and types text into it. */
async function typeAt(page, id, text) {
  await tabTo(page, byId(id), `#${id}`);
  await page.keyboard.type(text);
}

/**
 * dateFormat finds, on a scratch page, how this Chromium's date and time
 * fields read (month or day first; 24-hour, or 12-hour with AM/PM) by
 * typing into one.
 */
async function dateFormat() {
  const scratch = await context.newPage();
  const tryTyping = async (suffix) => {
    await scratch.setContent(`<input id="a"><input id="d" type="datetime-local" step="1">`);
    await scratch.focus("#a");
    await scratch.keyboard.press("Tab");
    await scratch.keyboard.type("0312");
    await scratch.keyboard.type("2026");
    await scratch.keyboard.press("Tab");
    await scratch.keyboard.type(`101010${suffix}`);
    return scratch.inputValue("#d");
  };
  let ampm = false;
  let v = await tryTyping("");
  if (!v) {
    ampm = true;
    v = await tryTyping("A");
  }
  await scratch.close();
  assert.match(v, /^2026-(03-12|12-03)T10:10:10$/, `a datetime-local typed by keyboard reads ${v}`);
  return { mdy: v.startsWith("2026-03"), ampm };
}

/** typeDateTime types a time seconds from now into the focused datetime-local, in the browser's zone. */
async function typeDateTime(page, format, seconds) {
  const d = new Date(Date.now() + seconds * 1000);
  const p = (n) => String(n).padStart(2, "0");
  const hour = format.ampm ? p(d.getHours() % 12 || 12) : p(d.getHours());
  await page.keyboard.type(format.mdy ? p(d.getMonth() + 1) + p(d.getDate()) : p(d.getDate()) + p(d.getMonth() + 1));
  await page.keyboard.type(String(d.getFullYear()));
  await page.keyboard.press("Tab");
  await page.keyboard.type(`${hour}${p(d.getMinutes())}${p(d.getSeconds())}${format.ampm ? (d.getHours() < 12 ? "A" : "P") : ""}`);
}

describe("the keyboard alone in Chromium", () => {
  let tenderId;

  before(async () => {
    ({ server, base, context, userDataDir } = await openBrowser());
  });

  after(async () => {
    await closeBrowser({ server, context, userDataDir });
  });

  test("a buyer publishes a tender and awards it with Tab, Enter and Space only", async () => {
    const order = await dateFormat();
    const page = await context.newPage();
    const watcher = watch(page);
    await page.goto(`${base}?page=sign-in`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await checkPage(page);
    await typeAt(page, "signin-email", buyer);
    await typeAt(page, "signin-password", password);
    await tabTo(page, byName("button", "Sign in"), "Sign in");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Your account" }).waitFor();
    await checkPage(page);

    // The header's Publish a tender.
    await tabTo(page, byName("a", "Publish a tender"), "Publish a tender");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Publish a tender" }).waitFor();
    await checkPage(page);
    await typeAt(page, "tender-title", title);
    await typeAt(page, "tender-description", "Dashboards for the boards of two CCGs, built with their analysts.");
    await tabTo(page, (f) => f.type === "checkbox" && f.name === "Business intelligence and analytics", "the capability");
    await page.keyboard.press("Space");
    await typeAt(page, "tender-months", "24");
    await typeAt(page, "tender-budget", "250000");
    // Deadlines seconds away (the server allows it): time to publish, then the bids go in.
    await tabTo(page, byId("tender-clarification"), "Questions close");
    await typeDateTime(page, order, 25);
    await tabTo(page, byId("tender-bid-deadline"), "Bids close");
    const bidDeadline = Date.now() + 35_000;
    await typeDateTime(page, order, 35);
    await tabTo(page, byName("button", "Publish the tender"), "Publish the tender");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: "Your tender is published" }).waitFor();
    tenderId = new URL(page.url()).searchParams.get("id");
    assert.ok(tenderId, page.url());
    await checkPage(page);

    for (const s of suppliers) {
      const tok = await login(s.email);
      await api("POST", `/api/v1/tenders/${tenderId}/bids`, tok, { price_pence: s.price, responses: { approach: `${s.org}'s approach.`, social_value: `${s.org}'s social value.` } });
    }
    await new Promise((r) => setTimeout(r, Math.max(0, bidDeadline - Date.now() + 1500)));

    // My tenders, then the tender (now closed): declare no conflict.
    await tabTo(page, byName("a", "My tenders"), "My tenders");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "My tenders" }).waitFor();
    await checkPage(page);
    await tabTo(page, byName("a", title), "the tender's link");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: title }).waitFor();
    await tabTo(page, (f) => f.type === "radio" && f.name === "No, I have no conflict of interest", "no conflict");
    await page.keyboard.press("Space");
    await tabTo(page, byName("button", "Record my declaration"), "Record my declaration");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: "Your declaration is recorded" }).waitFor();
    await checkPage(page);
    await tabTo(page, byName("a", "Compare and score the bids"), "the comparison");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Compare the bids" }).waitFor();
    await checkPage(page);

    // Score each bid: a score chosen by its first character, a justification typed.
    for (const [i, s] of suppliers.entries()) {
      const form = page.locator(".score-form", { has: page.getByRole("heading", { level: 3, name: s.org }) });
      await form.waitFor();
      const n = (await form.locator("select").first().getAttribute("id")).split("-")[1];
      await tabTo(page, byId(`score-${n}-approach`), `${s.org}: approach score`);
      await page.keyboard.type(String(3 - i));
      await typeAt(page, `why-${n}-approach`, `Clear plan from ${s.org}.`);
      await tabTo(page, byId(`score-${n}-social_value`), `${s.org}: social value score`);
      await page.keyboard.type("2");
      await typeAt(page, `why-${n}-social_value`, "Local apprenticeships.");
      await tabTo(page, byName("button", `Save the scores for ${s.org}`), "Save the scores");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 2, name: `Your scores for ${s.org} are saved` }).waitFor();
    }
    await checkPage(page);

    // Award to the first-ranked bid, with a reason; the decision starts the standstill.
    const comparison = await api("GET", `/api/v1/tenders/${tenderId}/comparison`, await login(buyer));
    const winner = comparison.rows.find((r) => !r.in_house && r.rank === Math.min(...comparison.rows.filter((x) => !x.in_house).map((x) => x.rank)));
    await tabTo(page, byName("button", `Award to ${winner.supplier.name}`), "Award");
    await page.keyboard.press("Space");
    // Choosing Award moves focus to the reason.
    assert.equal((await focused(page)).id, "award-reason");
    await page.keyboard.type("The best value for money at these weights.");
    await tabTo(page, byName("button", "Decide the award"), "Decide the award");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 2, name: `The award to ${winner.supplier.name} is decided` }).waitFor();
    assert.match(await page.locator("#decision").innerText(), /The standstill ends .*\(.*(left|ended)/s);
    await checkPage(page);
    await tabTo(page, byName("button", "Confirm award"), "Confirm award");
    await page.keyboard.press("Space");
    await page.getByRole("heading", { level: 2, name: "The award is final" }).waitFor();
    await checkPage(page);

    const t = await api("GET", `/api/v1/tenders/${tenderId}`, null);
    assert.equal(t.status, "awarded");
    assert.equal(t.award.supplier.name, winner.supplier.name);
    assert.deepEqual(watcher.problems(), []);
  });

  test("the price weight slider re-ranks as the API does: the same ranks and totals at the tender's weights", async () => {
    // A second tender, closed, scored and moderated through the API.
    const tok = await login(buyer);
    const now = Date.now();
    const draft = await api("POST", "/api/v1/tenders", tok, {
      title: `Slider ${run}`,
      description: "Re-ranked in the browser.",
      capabilities: ["business_intelligence"],
      regions: ["midlands"],
      contract_months: 12,
      budget_pence: 30_000_000,
      clarification_deadline: new Date(now + 3_000).toISOString(),
      bid_deadline: new Date(now + 6_000).toISOString(),
      criteria: [
        { key: "price", name: "Price", kind: "price", weight: 30 },
        { key: "approach", name: "Approach", kind: "quality", weight: 50 },
        { key: "social_value", name: "Social value", kind: "quality", weight: 20 },
      ],
      in_house_baseline: { price_pence: 26_000_000, scores: { approach: 2, social_value: 2 } },
    });
    await api("POST", `/api/v1/tenders/${draft.id}/publish`, tok);
    const bids = [];
    for (const [i, s] of suppliers.entries()) {
      const st = await login(s.email);
      bids.push(await api("POST", `/api/v1/tenders/${draft.id}/bids`, st, { price_pence: 15_000_000 + i * 9_000_000, responses: { approach: "A plan.", social_value: "Jobs." } }));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, now + 7_000 - Date.now())));
    await api("POST", `/api/v1/tenders/${draft.id}/conflict-declaration`, tok, { conflict: false });
    await api("PUT", `/api/v1/tenders/${draft.id}/bids/${bids[0].id}/scores`, tok, { scores: { approach: { score: 1, justification: "Thin." }, social_value: { score: 2, justification: "Fair." } } });
    await api("PUT", `/api/v1/tenders/${draft.id}/bids/${bids[1].id}/scores`, tok, { scores: { approach: { score: 4, justification: "Strong." }, social_value: { score: 3, justification: "Good." } } });
    const want = await api("GET", `/api/v1/tenders/${draft.id}/comparison`, tok);

    const page = await context.newPage();
    const watcher = watch(page);
    await page.goto(`${base}?page=sign-in&next=${encodeURIComponent(`?page=comparison&id=${draft.id}`)}`);
    await page.getByLabel("E-mail address").waitFor();
    await checkPage(page);
    await page.getByLabel("E-mail address").fill(buyer);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Compare the bids" }).waitFor();
    await page.locator("#reweight-table tbody tr").first().waitFor();
    const shown = async () =>
      page.$$eval("#reweight-table tbody tr", (trs) =>
        trs.map((tr) => ({ bid: tr.dataset.bid, rank: Number(tr.cells[0].textContent), total: tr.cells[4].textContent.trim() })),
      );
    const two = (x) => x.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    // At the tender's own weights, the API's ranks and totals, to two decimals.
    assert.deepEqual(
      await shown(),
      [...want.rows].sort((a, b) => a.rank - b.rank).map((r) => ({ bid: r.bid_id ?? "in-house", rank: r.rank, total: two(r.total) })),
    );
    assert.equal(await page.locator("#price-weight").inputValue(), String(want.sensitivity.price_weight));
    assert.match(await page.locator("#reweight").innerText(), new RegExp(`from ${want.sensitivity.price_weight_low}% to ${want.sensitivity.price_weight_high}%`));

    // At the ends of the range, the rows re-rank by DESIGN.md's formulas, worked out here.
    const w0 = want.sensitivity.price_weight;
    const expectAt = (w) =>
      want.rows
        .map((r) => {
          const q = Math.round(((r.quality_total * (100 - w)) / (100 - w0)) * 100) / 100;
          const total = Math.round(((r.scores.price * w) / w0 + q) * 100) / 100;
          return { bid: r.bid_id ?? "in-house", total, q, inHouse: r.in_house, at: r.submitted_at ?? "" };
        })
        .sort((a, b) => b.total - a.total || b.q - a.q || Number(a.inHouse) - Number(b.inHouse) || a.at.localeCompare(b.at))
        .map((r, i) => ({ bid: r.bid, rank: i + 1, total: two(r.total) }));
    await page.locator("#price-weight").focus();
    await page.keyboard.press("End");
    assert.deepEqual(await shown(), expectAt(90));
    await page.keyboard.press("Home");
    assert.deepEqual(await shown(), expectAt(10));
    assert.match(await page.locator("#price-weight-status").innerText(), /At a price weight of 10% \(quality 90%\)/);
    // Inside the API's range, its leader stays first.
    const leader = want.sensitivity.leader_in_house ? "in-house" : want.sensitivity.leader_bid_id;
    for (let w = 10; w < want.sensitivity.price_weight_low; w++) await page.keyboard.press("ArrowRight");
    assert.equal((await shown())[0].bid, leader);
    await page.keyboard.press("End");
    for (let w = 90; w > want.sensitivity.price_weight_high; w--) await page.keyboard.press("ArrowLeft");
    assert.equal((await shown())[0].bid, leader);
    // The chart has a bar per row, the in-house one marked, beside the table of the same figures.
    assert.match(await page.locator("#points-chart").innerText(), /Price[\s\S]*Approach[\s\S]*Social value/);
    assert.equal(await page.locator("#points-chart svg.app-chart text", { hasText: "(in house)" }).count(), 1);
    await screenshots(page, "comparison");
    // The README's picture: the chart and the slider, at 1280 px.
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator("#points-chart").scrollIntoViewIfNeeded();
    const top = await page.locator("#points-chart").evaluate((el) => el.getBoundingClientRect().top + window.scrollY - 16);
    await page.screenshot({ path: join(resultsDir, "screenshots", "readme-comparison-1280.png"), clip: { x: 0, y: top, width: 1280, height: 1000 }, fullPage: true });
    assert.deepEqual(watcher.problems(), []);
  });
});

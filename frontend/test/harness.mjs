// The shared set-up of the browser tests: a seeded csmarket and a fresh
// Debian Chromium profile, and their tear-down.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import AxeBuilder from "@axe-core/playwright";
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";

/** resultsDir is the test output directory (not committed). */
export const resultsDir = fileURLToPath(new URL("../test-results/", import.meta.url));
const screenshotsDir = join(resultsDir, "screenshots");

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// The closed network refuses Chromium's own background connections; these
// flags keep it from trying, and --no-sandbox lets it run as root in CI.
const launchArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Starts a seeded server (with options.env added to its settings) and a Chromium context with a new profile. */
export async function openBrowser(options = {}) {
  const server = await startServer(options);
  const userDataDir = mkdtempSync(join(tmpdir(), "csm-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: launchArgs,
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
  });
  return { server, base: `${server.url}/`, context, userDataDir };
}

/** Closes what openBrowser opened; safe on a partial start. Before it does,
 * every watched page still open is checked by axe as it stands, and it fails
 * when a kind of page was visited that no check covered. */
export async function closeBrowser({ server, context, userDataDir }) {
  let uncovered = [];
  try {
    for (const page of watched) if (!page.isClosed()) await checkPage(page);
    uncovered = [...visited].filter((k) => !checked.has(k));
  } finally {
    watched.clear();
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await server?.stop();
  }
  if (uncovered.length) throw new Error(`axe: pages visited but never checked: ${uncovered.join(", ")}`);
}

// The accessibility check: axe-core on each page the tests visit, with the
// WCAG 2.0, 2.1 and 2.2 A and AA rules; a serious or critical violation
// fails the test. Counts are per test file (one process each).
const axeTags = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"];
const watched = new Set();
const visited = new Set();
const checked = new Set();
let pagesChecked = 0;
let seriousFound = 0;
const testFile = basename(process.argv[1] ?? "test");

/** kindOf names the app's page at url: its ?page=, "provider" or "directory". */
export function kindOf(url) {
  const u = new URL(url);
  return u.searchParams.get("page") ?? (u.searchParams.has("provider") ? "provider" : "directory");
}

/**
 * checkPage runs axe on page as it is now (once its "Loading…" is gone) and
 * fails on any serious or critical violation, listing each with the
 * elements it found.
 */
export async function checkPage(page) {
  await page.waitForFunction(() => !document.querySelector("main > .loading"), null, { timeout: 10_000 }).catch(() => {});
  const { violations } = await new AxeBuilder({ page }).withTags(axeTags).analyze();
  pagesChecked++;
  const kind = kindOf(page.url());
  checked.add(kind);
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) {
    seriousFound += bad.length;
    const lines = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 5).join("; ")})`);
    throw new Error(`axe on ${kind} (${page.url()}):\n  ${lines.join("\n  ")}`);
  }
  return violations;
}

const shots = [];

/**
 * settle waits, after the viewport changed, until the page has answered
 * it: resize observers (the header folding links into More) run in the
 * next frames.
 */
function settle(page) {
  return page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50)))));
}

/** sidewaysCulprits names the elements that reach past width, outside a table's scroll box. */
function sidewaysCulprits(page, width) {
  return page.evaluate((w) => {
    const out = [];
    for (const el of document.body.querySelectorAll("*")) {
      if (el.getBoundingClientRect().right > w + 1 && !el.closest(".nhsuk-table-container, .nhsuk-scroll__content") && !out.some((o) => o.contains(el))) out.push(el);
    }
    return out.slice(0, 5).map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}.${[...el.classList].join(".")} (${Math.round(el.getBoundingClientRect().right)} px)`);
  }, width);
}

/**
 * zoom200 checks page as a user sees it at 200% browser zoom of a 1280 px
 * window. Chromium implements zoom as a smaller layout viewport at a higher
 * device pixel ratio: 200% of 1280 x 900 is a viewport of 640 x 450 CSS px
 * with deviceScaleFactor 2, set here through the DevTools protocol on the
 * running page (Playwright sets deviceScaleFactor only for a new context).
 * WCAG 1.4.4 and 1.4.10: the page must not scroll sideways (the document's
 * scrollWidth is at most the viewport's width; a wide table scrolls in its
 * own box), and every main control seen at 1280 px (the main heading, the
 * main content's buttons, links styled as buttons and form fields, the
 * header's home link) must still be shown whole within the width, and each
 * header link either shown or behind the header's visible More button.
 */
export async function zoom200(page, name) {
  const before = page.viewportSize() ?? { width: 1280, height: 900 };
  const controls = `main h1, main button, main input:not([type=hidden]), main select, main textarea, main a.nhsuk-button, header .nhsuk-header__service-logo`;
  const marked = await page.evaluate((sel) => {
    let n = 0;
    for (const el of document.querySelectorAll(sel)) {
      const st = getComputedStyle(el);
      if (!el.getClientRects().length || st.visibility === "hidden" || el.closest(".nhsuk-scroll__content, .nhsuk-header__menu-list")) continue;
      el.setAttribute("data-zoom-check", String(n++));
    }
    return n;
  }, controls);
  const cdp = await page.context().newCDPSession(page);
  let problems = [];
  try {
    await cdp.send("Emulation.setDeviceMetricsOverride", { width: before.width / 2, height: before.height / 2, deviceScaleFactor: 2, mobile: false });
    await page.waitForFunction((w) => window.innerWidth === w && window.devicePixelRatio === 2, before.width / 2, { timeout: 5000 });
    await settle(page);
    const width = await page.evaluate(() => window.innerWidth);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    if (wide > width) problems.push(`the page is ${wide} px wide, it scrolls sideways (${(await sidewaysCulprits(page, width)).join("; ")})`);
    problems = problems.concat(
      await page.evaluate((w) => {
        const out = [];
        const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} "${(el.getAttribute("aria-label") ?? el.textContent ?? el.getAttribute("name") ?? "").trim().slice(0, 40)}"`;
        for (const el of document.querySelectorAll("[data-zoom-check]")) {
          const r = el.getBoundingClientRect();
          if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") out.push(`${describe(el)} is hidden`);
          else if (r.left < -1 || r.right > w + 1) out.push(`${describe(el)} is cut off (${Math.round(r.left)} to ${Math.round(r.right)} px)`);
        }
        const toggle = document.querySelector(".nhsuk-header__menu-toggle");
        const more = toggle && toggle.getClientRects().length > 0 && !toggle.closest("[hidden]");
        for (const a of document.querySelectorAll("header .nhsuk-header__navigation-item > a")) {
          const shown = a.getClientRects().length > 0 && a.getBoundingClientRect().right <= w + 1;
          if (!shown && !(more && a.closest(".nhsuk-header__menu-list"))) out.push(`the header link ${describe(a)} is neither shown nor behind More`);
        }
        return out;
      }, width),
    );
  } finally {
    await cdp.send("Emulation.clearDeviceMetricsOverride").catch(() => {});
    await cdp.detach().catch(() => {});
    await page.evaluate(() => document.querySelectorAll("[data-zoom-check]").forEach((el) => el.removeAttribute("data-zoom-check")));
    await page.setViewportSize(before);
  }
  if (marked === 0) problems.push("no main control was found to check");
  if (problems.length) throw new Error(`${name} at 200% zoom (640 CSS px, deviceScaleFactor 2): ${problems.join("; ")}`);
}

/**
 * screenshots writes page, full length, at 1280 and 320 px wide into
 * test-results/screenshots/<name>-<width>.png (after checking it with
 * axe), fails when the page scrolls sideways at 1280 or 320 px (WCAG
 * 1.4.10: 320 px is 400% zoom of 1280), checks it at 200% zoom (zoom200),
 * and puts the viewport back.
 */
export async function screenshots(page, name) {
  await checkPage(page);
  mkdirSync(screenshotsDir, { recursive: true });
  const before = page.viewportSize();
  for (const width of [1280, 320]) {
    if (width === 320) await zoom200(page, name);
    await page.setViewportSize({ width, height: 900 });
    await settle(page);
    // Nothing but a table in its own scrolling box may need a horizontal scroll.
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    if (wide > width) throw new Error(`${name} at ${width} px is ${wide} px wide: it scrolls sideways (${(await sidewaysCulprits(page, width)).join("; ")})`);
    const path = join(screenshotsDir, `${name}-${width}.png`);
    await page.screenshot({ path, fullPage: true });
    shots.push(path);
  }
  if (before) await page.setViewportSize(before);
}

process.on("exit", () => {
  if (pagesChecked === 0 && shots.length === 0) return;
  const line = `axe (${axeTags.join(", ")}): ${testFile}: ${pagesChecked} pages checked (${checked.size} kinds: ${[...checked].sort().join(", ")}), ${seriousFound} serious or critical violations`;
  process.stdout.write(`${line}\n`);
  try {
    mkdirSync(resultsDir, { recursive: true });
    appendFileSync(join(resultsDir, "axe.txt"), `${testFile} ${pagesChecked}\n`);
  } catch {
    // the count is also in the log above
  }
  if (shots.length) process.stdout.write(`screenshots:\n${shots.map((s) => `  ${s}`).join("\n")}\n`);
});


/**
 * Watches a page for what a user would count as a fault: console errors,
 * page errors, failed requests and HTTP errors. A request the browser
 * itself abandoned (net::ERR_ABORTED: a navigation or a newer request made
 * it moot) is not one. problems(...expected) lists what was seen, less the
 * deliberate [status, path] answers named, a path being a string or RegExp.
 */
export function watch(page) {
  const seen = [];
  watched.add(page);
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame() && /^https?:\/\/[^/]+\/(\?|$)/.test(frame.url())) visited.add(kindOf(frame.url()));
  });
  page.on("close", () => watched.delete(page));
  const statusIn = (text) => {
    const m = /status of (\d{3})/.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  page.on("console", (m) => {
    if (m.type() === "error") seen.push({ text: `console error: ${m.text()} (${m.location().url})`, url: m.location().url, status: statusIn(m.text()) });
  });
  page.on("pageerror", (e) => seen.push({ text: `page error: ${e.message}` }));
  page.on("requestfailed", (r) => {
    const why = r.failure()?.errorText;
    if (why !== "net::ERR_ABORTED") seen.push({ text: `request failed: ${r.url()} ${why}` });
  });
  page.on("response", (r) => {
    if (r.status() >= 400) seen.push({ text: `HTTP ${r.status()}: ${r.request().method()} ${r.url()}`, url: r.url(), status: r.status() });
  });
  const matches = (path, pathname) => (path instanceof RegExp ? path.test(pathname) : path === pathname);
  return {
    problems(...expected) {
      return seen
        .filter((p) => !expected.some(([status, path]) => p.status === status && p.url && matches(path, new URL(p.url).pathname)))
        .map((p) => p.text);
    },
  };
}

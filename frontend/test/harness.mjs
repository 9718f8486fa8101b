// The shared set-up of the browser tests: a seeded csmarket and a fresh
// Debian Chromium profile, and their tear-down.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";

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

/** Closes what openBrowser opened; safe on a partial start. */
export async function closeBrowser({ server, context, userDataDir }) {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await server?.stop();
}

/**
 * Watches a page for what a user would count as a fault: console errors,
 * page errors, failed requests and HTTP errors. A request the browser
 * itself abandoned (net::ERR_ABORTED: a navigation or a newer request made
 * it moot) is not one. problems(...expected) lists what was seen, less the
 * deliberate [status, path] answers named, a path being a string or RegExp.
 */
export function watch(page) {
  const seen = [];
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

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

/** Starts a seeded server and a Chromium context with a new profile. */
export async function openBrowser() {
  const server = await startServer();
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

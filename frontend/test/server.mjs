// Starts the csmarket server the browser test runs against, unless
// CSM_E2E_URL names one that is already running.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const frontendDir = fileURLToPath(new URL("..", import.meta.url));
const repoDir = join(frontendDir, "..");

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url, server, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (server?.exitCode !== null && server?.exitCode !== undefined) {
      throw new Error(`csmarket serve exited with code ${server.exitCode} before it was ready:\n${server.output()}`);
    }
    try {
      const res = await fetch(new URL("/readyz", url), { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url}/readyz not ready after ${timeoutMs} ms (${last})${server ? `:\n${server.output()}` : ""}`);
}

/**
 * startServer returns {url, stop}. With CSM_E2E_URL it uses that server; else
 * it runs `$CSM_BIN seed` and `$CSM_BIN serve` on a fresh SQLite file and a
 * free loopback port. Without CSM_BIN it builds cmd/csmarket first, which
 * embeds frontend/dist, so `npm run build` must have run. extraEnv adds to
 * (or overrides) the server's settings, e.g. the levy's.
 */
export async function startServer({ env: extraEnv = {} } = {}) {
  if (process.env.CSM_E2E_URL) {
    const url = process.env.CSM_E2E_URL.replace(/\/+$/, "");
    await waitReady(url, null, 10_000);
    return { url, stop: async () => {} };
  }

  const dir = mkdtempSync(join(tmpdir(), "csm-e2e-"));
  let bin = process.env.CSM_BIN;
  if (!bin) {
    if (!existsSync(join(frontendDir, "dist", "index.html"))) {
      throw new Error("frontend/dist is not built: run `npm run build` first (or set CSM_BIN or CSM_E2E_URL)");
    }
    bin = join(dir, "csmarket");
    const build = spawnSync("go", ["build", "-o", bin, "./cmd/csmarket"], { cwd: repoDir, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`go build ./cmd/csmarket failed:\n${build.stderr}`);
  }

  const port = await freePort();
  const env = {
    ...process.env,
    CSM_DATABASE_URL: `sqlite:${join(dir, "e2e.db")}`,
    CSM_ADDR: `127.0.0.1:${port}`,
    CSM_REDIS_URL: "",
    // Signing keys live with the database, not in the working directory.
    CSM_JWT_KEY_FILE: join(dir, "jwt-keys.pem"),
    // The tests sign in many times from one address; the limit itself is
    // tested in the API, and its message here with a stubbed answer.
    CSM_RATE_LOGIN: process.env.CSM_RATE_LOGIN ?? "1000/1m",
    // A tender may be published with a bid deadline seconds away, so that
    // the browser tests can run a whole procurement while they wait.
    CSM_MIN_TENDER_PERIOD: "0s",
    // No standstill, so that a browser test can confirm an award at once.
    CSM_STANDSTILL: "0s",
    ...extraEnv,
  };
  const seed = spawnSync(bin, ["seed"], { env, encoding: "utf8", timeout: 120_000 });
  if (seed.status !== 0) {
    throw new Error(`${bin} seed failed (${seed.status ?? seed.signal}):\n${seed.stdout}${seed.stderr}`);
  }

  const child = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (b) => {
    output = (output + b.toString()).slice(-8000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const server = {
    get exitCode() {
      return child.exitCode;
    },
    output: () => output,
  };
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, server, 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

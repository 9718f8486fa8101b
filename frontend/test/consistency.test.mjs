// Read your writes across replicas, in Chromium: on Redis a write's answer
// carries a Consistency-Token, and the app sends the newest one back with
// every later read, so that any replica shows the user's own edit.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { checkPage, closeBrowser, openBrowser, watch } from "./harness.mjs";

const redisURL = process.env.TEST_REDIS_URL;
const supplier = { email: "bids@arden.example.nhs.uk", password: "demo commissioning passphrase" };

describe("consistency tokens in Chromium", { skip: redisURL ? false : "TEST_REDIS_URL not set: the tokens need the cache on Redis" }, () => {
  let opened;

  before(async () => {
    opened = await openBrowser({
      env: { CSM_REDIS_URL: redisURL, CSM_REDIS_PREFIX: `csmtest:browser:${randomBytes(6).toString("hex")}:` },
    });
  });

  after(async () => {
    await closeBrowser(opened ?? {});
  });

  test("a saved listing's token goes with the next reads, and survives a reload", async () => {
    const page = await opened.context.newPage();
    const watcher = watch(page);
    const sent = [];
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith("/api/")) sent.push({ method: r.method(), path: u.pathname, token: r.headers()["consistency-token"] ?? "" });
    });
    await page.goto(`${opened.base}?page=sign-in`);
    await page.getByLabel("E-mail address").waitFor();
    await checkPage(page);
    await page.getByLabel("E-mail address").fill(supplier.email);
    await page.getByLabel("Password").fill(supplier.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => u.searchParams.get("page") === "listing");
    await page.getByRole("heading", { level: 1, name: "Your listing" }).waitFor();
    await checkPage(page);
    assert.deepEqual(sent.filter((s) => s.token), [], "a token was sent before any write");

    const saved = page.waitForResponse((r) => r.request().method() === "PUT" && new URL(r.url()).pathname.startsWith("/api/v1/providers/"));
    await page.getByLabel("Summary").fill(`Arden, consistent on every replica (${Date.now()}).`);
    await page.getByRole("button", { name: "Save your listing" }).click();
    const put = await saved;
    const token = (await put.allHeaders())["consistency-token"] ?? "";
    assert.match(token, /^(?:[a-z]+:\d+,)*providers:\d+(?:,[a-z]+:\d+)*$/, `the save answered Consistency-Token ${token}`);
    await page.getByRole("heading", { name: "Your listing is saved" }).waitFor();

    const before = sent.length;
    await page.locator(".nhsuk-notification-banner").getByRole("link", { name: "See your public profile" }).click();
    await page.waitForURL((u) => u.searchParams.has("provider"));
    await page.locator(".profile").waitFor();
    await checkPage(page);
    const reads = sent.slice(before).filter((s) => s.method === "GET");
    assert.ok(reads.length > 0, "the profile made no API reads");
    const gen = (t) => BigInt((/providers:(\d+)/.exec(t) ?? [, "0"])[1]);
    for (const r of reads) assert.ok(gen(r.token) >= gen(token), `GET ${r.path} sent Consistency-Token "${r.token}", want providers at least ${gen(token)}`);

    await page.reload();
    await page.locator(".profile").waitFor();
    const afterReload = sent.slice(before + reads.length).filter((s) => s.method === "GET" && s.path.startsWith("/api/v1/providers/"));
    assert.ok(afterReload.length > 0 && afterReload.every((r) => gen(r.token) >= gen(token)), "the token was lost on reload");
    await checkPage(page);

    assert.deepEqual(watcher.problems(), []);
    await page.close();
  });
});

// Fails when src/api/schema.d.ts is not what `npm run gen` makes from
// api/openapi.yaml, so the committed types cannot drift from the contract.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "csm-schema-"));
try {
  const out = join(dir, "schema.d.ts");
  const run = spawnSync(
    process.execPath,
    [join(root, "node_modules/openapi-typescript/bin/cli.js"), join(root, "../api/openapi.yaml"), "-o", out],
    { encoding: "utf8" },
  );
  if (run.status !== 0) {
    console.error(run.stderr || run.stdout);
    process.exit(1);
  }
  if (readFileSync(out, "utf8") !== readFileSync(join(root, "src/api/schema.d.ts"), "utf8")) {
    console.error("src/api/schema.d.ts is out of date with api/openapi.yaml: run `npm run gen` and commit it");
    process.exit(1);
  }
  console.log("src/api/schema.d.ts matches api/openapi.yaml");
} finally {
  rmSync(dir, { recursive: true, force: true });
}

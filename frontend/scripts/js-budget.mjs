// The JavaScript budget: the gzip size of every script in dist/, printed,
// and the build failing above 150 KB.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const budget = 150 * 1024;
const dir = new URL("../dist/assets/", import.meta.url);
let total = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith(".js"))) {
  const size = gzipSync(readFileSync(join(dir.pathname, name)), { level: 9 }).length;
  total += size;
  console.log(`js budget: ${name} ${(size / 1024).toFixed(1)} KB gzip`);
}
console.log(`js budget: ${(total / 1024).toFixed(1)} KB gzip of ${budget / 1024} KB`);
if (total > budget) {
  console.error(`js budget: the shipped JavaScript is ${(total / 1024).toFixed(1)} KB gzip, over the ${budget / 1024} KB budget`);
  process.exit(1);
}

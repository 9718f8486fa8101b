// Vite empties dist/ on every build; the Go package embeds dist/ and needs
// the committed placeholder so that `go build` works before any build.
import { writeFileSync, existsSync } from "node:fs";

const keep = new URL("../dist/.gitkeep", import.meta.url);
if (!existsSync(keep)) writeFileSync(keep, "");

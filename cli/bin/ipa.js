#!/usr/bin/env node
// Installed from the package, `ipa` runs its build (dist/ipa.js, any Node 20+). In the project's
// checkout it runs the TypeScript sources on the Node the project brings (node_modules/.bin/node,
// Node 22), so an edit takes effect at once; every argument and the exit code pass through.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = fileURLToPath(new URL("../src/main.ts", import.meta.url));
if (existsSync(source)) {
  const projectNode = fileURLToPath(new URL("../../node_modules/node/bin/node", import.meta.url));
  const node = existsSync(projectNode) ? projectNode : process.execPath;
  const run = spawnSync(node, [source, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(run.status ?? 1);
} else {
  await import(new URL("../dist/ipa.js", import.meta.url).href);
}

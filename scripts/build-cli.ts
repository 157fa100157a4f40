/**
 * `npm run build:cli` (and `npm pack` in cli/): bundles the `ipa` command line into one JavaScript
 * file, cli/dist/ipa.js, that runs on Node 20 or later with nothing else installed, so cli/ can be
 * published as a package and installed globally. In this checkout `ipa` runs the TypeScript
 * sources instead (cli/bin/ipa.js), so a build never goes stale under a developer.
 */
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const CLI = fileURLToPath(new URL("../cli/", import.meta.url));
await build({
  entryPoints: [`${CLI}src/main.ts`],
  outfile: `${CLI}dist/ipa.js`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  legalComments: "none",
});
console.log("cli/dist/ipa.js built");

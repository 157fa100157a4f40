/**
 * The dashboard: Preact, built by Vite into dist/assets, which the Worker serves as Workers Static
 * Assets (wrangler.toml `[assets]`). Swagger UI's files are copied beside it so the API docs page
 * loads nothing from another origin (its CSP allows 'self' only).
 */
import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, "../dist/assets");

/** Copies Swagger UI's bundle and stylesheet into docs/ (a copy, not bundled: it is large and only /docs needs it). */
function swaggerUiFiles(): Plugin {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve("swagger-ui-dist/package.json"));
  let outDir = OUT;
  return {
    name: "swagger-ui-files",
    apply: "build",
    configResolved(config) {
      // `--outDir` (the deploy builds beside the dev server's copy) moves the docs files too.
      outDir = config.build.outDir;
    },
    async writeBundle() {
      await mkdir(join(outDir, "docs"), { recursive: true });
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"])
        await copyFile(join(dist, file), join(outDir, "docs", file));
    },
  };
}

export default defineConfig({
  root: here,
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  plugins: [swaggerUiFiles()],
  build: {
    outDir: OUT,
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    // One entry, split per page by dynamic imports.
    chunkSizeWarningLimit: 200,
  },
});

import { defineConfig } from "vitest/config";

/**
 * The dashboard in a real headless Chromium against `npm run dev` (`npm run test:browser`). Apart
 * from `npm test` because it needs the system's Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
 */
export default defineConfig({
  test: {
    name: "browser",
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});

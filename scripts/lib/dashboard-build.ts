/**
 * The dashboard's assets for `npm run dev`: built once before wrangler starts (it serves
 * dist/assets), then rebuilt by Vite's watcher whenever a file under dashboard/ changes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONFIG = "dashboard/vite.config.ts";

export function buildDashboard(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("vite", ["build", "--config", CONFIG, "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`the dashboard build failed (${code})`))));
  });
}

export function watchDashboard(): ChildProcess {
  return spawn("vite", ["build", "--config", CONFIG, "--watch", "--logLevel", "warn"], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

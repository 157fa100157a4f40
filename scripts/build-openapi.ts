/**
 * `npm run build:openapi`: writes openapi.json, the API description the Worker serves at
 * /api/v1/openapi.json, generated from the route schemas by the Worker itself (in workerd,
 * through wrangler's test harness; no database needed). It is committed: CI regenerates it and
 * fails on a difference, so an API change is always a visible one. The dashboard's and the CLI's
 * API types are generated from it (`npm run build:api-types`).
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createTestHarness } from "wrangler";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
// Miniflare would fetch request.cf data from Cloudflare; a build must not need the network.
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
// The document needs no secret, but the Worker checks its settings on every request: throwaway ones.
const secrets = {
  DATABASE_URL: "postgres://openapi@127.0.0.1:1/unused",
  JWT_SECRET: randomBytes(48).toString("base64url"),
  ENCRYPTION_KEYS: JSON.stringify({ build: randomBytes(32).toString("base64") }),
};
// wrangler.toml serves the dashboard from dist/assets; a fresh clone has not built it (nor needs it here).
await mkdir(`${ROOT}dist/assets`, { recursive: true });
const server = createTestHarness({
  workers: [{ configPath: `${ROOT}wrangler.toml`, secrets, vars: { ENCRYPTION_KEY_ID: "build" } }],
});
try {
  await server.listen();
  const res = await server.fetch("/api/v1/openapi.json");
  if (!res.ok) throw new Error(`GET /api/v1/openapi.json answered ${res.status}: ${await res.text()}`);
  await writeFile(`${ROOT}openapi.json`, `${JSON.stringify(await res.json(), null, 2)}\n`);
  console.log("openapi.json written");
} finally {
  await server.close();
}

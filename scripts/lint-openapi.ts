/**
 * `npm run lint:openapi`: the OpenAPI document the Worker serves, linted by Redocly's recommended
 * rules (0 errors required). Against IPA_URL when set, otherwise a `npm run dev` of its own.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { type DevStack, startDevStack } from "./lib/dev-stack.ts";

const scratch = await mkdtemp(`${tmpdir()}/ipa-openapi-`);
let stack: DevStack | undefined;
try {
  let base = process.env.IPA_URL;
  if (!base) {
    stack = await startDevStack({
      dataDir: `${scratch}/data`,
      admin: { email: "lint@example.test", password: "lint-password-123" },
    });
    base = stack.url;
  }
  const res = await fetch(`${base.replace(/\/$/, "")}/api/v1/openapi.json`);
  if (!res.ok) throw new Error(`GET /api/v1/openapi.json: ${res.status}`);
  const file = `${scratch}/openapi.json`;
  await writeFile(file, await res.text());
  const code = await new Promise<number | null>((resolve) =>
    spawn("redocly", ["lint", file], { stdio: "inherit" }).on("exit", resolve),
  );
  process.exitCode = code ?? 1;
} finally {
  await stack?.stop();
  await rm(scratch, { recursive: true, force: true });
}

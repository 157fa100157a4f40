/**
 * `npm run dev` end to end: embedded Postgres, relay, migrations, first admin and wrangler dev
 * come up; Ctrl-C stops every process; a second start reuses the data.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { type DevStack, startDevStack } from "../../scripts/lib/dev-stack.ts";
import { freePort } from "../../scripts/lib/ports.ts";

const dataDir = await mkdtemp(`${tmpdir()}/ipa-dev-test-`);
const admin = { email: "launcher@example.test", password: "launcher-password-123" };
let stack: DevStack | undefined;

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("npm run dev", () => {
  it("starts everything, logs the admin in, stops everything on Ctrl-C, and restarts on the same data", async () => {
    const port = await freePort(18800);
    stack = await startDevStack({ dataDir, admin, port });
    expect(stack.output()).toContain("first admin created: launcher@example.test");
    expect(stack.output()).toContain("model providers:");
    const login = await fetch(`${stack.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(admin),
    });
    expect(login.status).toBe(200);

    expect(await stack.stop()).toBe(0);
    expect(existsSync(`${dataDir}/postgres/postmaster.pid`)).toBe(false);
    await expect(fetch(`${stack.url}/health/live`)).rejects.toThrow();

    stack = await startDevStack({ dataDir, admin, port });
    expect(stack.output()).not.toContain("first admin created");
    expect(stack.output()).toContain(`admin: ${admin.email}`);
    await stack.stop();
  }, 400_000);

  it("refuses to start on a port that is taken", async () => {
    const port = await freePort(18900);
    const blocker = createServer().listen(port, "127.0.0.1");
    try {
      const result = spawn(process.execPath, ["scripts/dev.ts"], {
        env: { ...process.env, PORT: String(port), IPA_DATA_DIR: dataDir },
      });
      let text = "";
      result.stderr?.on("data", (d) => (text += d));
      const code = await new Promise<number | null>((resolve) => result.on("exit", resolve));
      expect(code).toBe(1);
      expect(text).toContain(`port ${port} is in use`);
    } finally {
      blocker.close();
    }
  });

  it("refuses to start with a clear sentence when a setting is invalid", async () => {
    const port = await freePort(18950);
    const result = spawn(process.execPath, ["scripts/dev.ts"], {
      env: { ...process.env, PORT: String(port), IPA_DATA_DIR: dataDir, JWT_SECRET: "too-short" },
    });
    let text = "";
    result.stderr?.on("data", (d) => (text += d));
    const code = await new Promise<number | null>((resolve) => result.on("exit", resolve));
    expect(code).toBe(1);
    expect(text).toContain("cannot start: the Worker's settings are invalid");
    expect(text).toContain("JWT_SECRET: must be at least 32 bytes");
    expect(text).not.toContain("too-short");
  });
});

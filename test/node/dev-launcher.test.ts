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
import { startPostgres } from "../../scripts/lib/postgres.ts";

const dataDir = await mkdtemp(`${tmpdir()}/ipa-dev-test-`);
const admin = { email: "launcher@example.test", password: "launcher-password-123" };
let stack: DevStack | undefined;

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function waitUntil(done: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100));
}

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

    // Ctrl-C reaches every process of the terminal's group at once; all of them are gone in seconds.
    const interrupted = Date.now();
    expect(await stack.stop()).toBe(0);
    await waitUntil(() => !stack?.anyProcessLeft(), 3_000);
    expect(Date.now() - interrupted).toBeLessThan(10_000);
    expect(existsSync(`${dataDir}/postgres/postmaster.pid`)).toBe(false);
    await expect(fetch(`${stack.url}/health/live`)).rejects.toThrow();

    stack = await startDevStack({ dataDir, admin, port });
    expect(stack.output()).not.toContain("first admin created");
    expect(stack.output()).toContain(`admin: ${admin.email}`);
    await stack.stop();
  }, 400_000);

  it("runs against a plain PostgreSQL named by DATABASE_URL (SCRAM passwords, no Neon proxy)", async () => {
    const server = await startPostgres({
      dataDir: `${dataDir}/plain-postgres`,
      port: await freePort(55432),
      password: "plain-password",
      authMethod: "scram-sha-256",
    });
    try {
      await server.createDatabase("platform");
      const plain = await startDevStack({
        dataDir: `${dataDir}/plain-stack`,
        admin,
        env: { DATABASE_URL: server.url("platform") },
      });
      try {
        expect(plain.output()).toContain("using DATABASE_URL from the environment (PostgreSQL at localhost:");
        expect(plain.output()).not.toContain("PostgreSQL 18 on");
        const login = await fetch(`${plain.url}/api/v1/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(admin),
        });
        expect(login.status).toBe(200);
      } finally {
        await plain.stop();
      }
    } finally {
      await server.stop();
    }
  }, 300_000);

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

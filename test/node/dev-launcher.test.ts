/**
 * `npm run dev` end to end: embedded Postgres, relay, migrations, first admin and wrangler dev
 * come up; Ctrl-C stops every process; a second start reuses the data.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.ts";

const dataDir = await mkdtemp(`${tmpdir()}/ipa-dev-test-`);
const admin = { email: "launcher@example.test", password: "launcher-password-123" };
let child: ChildProcess | undefined;
let output = "";

async function start(port: number, extraEnv: Record<string, string> = {}) {
  output = "";
  child = spawn(process.execPath, ["scripts/dev.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      IPA_DATA_DIR: dataDir,
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  for (let i = 0; i < 180; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) throw new Error(`launcher exited: ${output}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`never ready: ${output}`);
}

async function stop() {
  const running = child;
  if (!running || running.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    running.once("exit", () => resolve());
    running.kill("SIGINT");
  });
}

afterAll(async () => {
  await stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("npm run dev", () => {
  it("starts everything, logs the admin in, stops everything on Ctrl-C, and restarts on the same data", async () => {
    const port = await freePort(18800);
    await start(port);
    expect(output).toContain("first admin created: launcher@example.test");
    const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(admin),
    });
    expect(login.status).toBe(200);

    await stop();
    expect(child?.exitCode).toBe(0);
    expect(existsSync(`${dataDir}/postgres/postmaster.pid`)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();

    await start(port);
    expect(output).not.toContain("first admin created");
    expect(output).toContain(`admin: ${admin.email}`);
    await stop();
  }, 400_000);

  it("refuses to start on a port that is taken", async () => {
    const port = await freePort(18900);
    const { createServer } = await import("node:net");
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
});

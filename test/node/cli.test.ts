/**
 * The `ipa` CLI against a real platform (`npm run dev`), run the way a person runs it: the npm bin,
 * a config directory of its own, the exit codes scripts rely on.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevStack, startDevStack } from "../../scripts/lib/dev-stack.ts";

const admin = { email: "cli@example.test", password: "cli-password-123" };
let dataDir: string;
let configHome: string;
let stack: DevStack;

beforeAll(async () => {
  dataDir = await mkdtemp(`${tmpdir()}/ipa-cli-test-`);
  configHome = await mkdtemp(`${tmpdir()}/ipa-cli-config-`);
  stack = await startDevStack({ dataDir, admin });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(configHome, { recursive: true, force: true });
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function ipa(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: configHome, ...options.env };
    delete env.IPA_URL;
    delete env.IPA_TOKEN;
    Object.assign(env, options.env);
    const child = spawn("node_modules/.bin/ipa", args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.stdin.end(options.stdin ?? "");
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const json = (ran: Ran) => JSON.parse(ran.stdout);

describe("ipa", () => {
  it("explains itself, and says what is wrong with exit codes that mean it", async () => {
    const help = await ipa(["--help"]);
    expect(help.code).toBe(0);
    for (const command of [
      "login",
      "workflows apply",
      "run",
      "executions rerun",
      "approve",
      "events send",
      "backups verify",
      "secrets set",
    ])
      expect(help.stdout).toContain(command);
    expect((await ipa(["run", "--help"])).stdout).toContain("Usage: ipa run WORKFLOW");
    const unknown = await ipa(["flows", "list"]);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toContain('unknown command "flows list"');
    const badFlag = await ipa(["workflows", "list", "--colour"]);
    expect(badFlag.code).toBe(2);
    const anonymous = await ipa(["workflows", "list"], { env: { IPA_URL: stack.url } });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toContain("ipa login");
  });

  it("logs in with a personal API token kept 0600 in the config directory, never the password", async () => {
    const login = await ipa(["login", "--url", stack.url, "--email", admin.email], {
      env: { IPA_PASSWORD: admin.password },
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("Signed in to");
    const file = `${configHome}/ipa/config.json`;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = await readFile(file, "utf8");
    expect(stored).not.toContain(admin.password);
    expect(JSON.parse(stored)).toMatchObject({ url: stack.url, user: expect.any(String), token: expect.any(String) });
    const wrong = await ipa(["login", "--url", stack.url, "--email", admin.email], {
      env: { IPA_PASSWORD: "not-it-1234" },
    });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain("401");
    expect((await ipa(["whoami", "--json"])).stdout).toContain(admin.email);
  });

  it("applies a workflow file once, then only when it changed, and runs it live to completion", async () => {
    const first = await ipa(["workflows", "apply", "-f", "examples/greeting.json", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(json(first)).toMatchObject({ created: true, version: 1, changed: true });
    expect(json(await ipa(["workflows", "apply", "-f", "examples/greeting.json", "--json"]))).toMatchObject({
      created: false,
      version: 1,
      changed: false,
    });
    expect((await ipa(["workflows", "list"])).stdout).toMatch(/greeting\s+draft\s+1/);

    const run = await ipa(["run", "greeting", "--input", '{"name":"Ada"}', "--watch"]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split("\n");
    const at = (text: string) => lines.findIndex((line) => line.includes(text));
    expect(
      at("greet (transform) completed") === -1 ? at("greet completed") : at("greet (transform) completed"),
    ).toBeGreaterThan(-1);
    expect(at("shout completed")).toBeGreaterThan(at("pause completed"));
    expect(at("[3/3] execution completed")).toBeGreaterThan(at("shout completed"));

    const refused = await ipa(["run", "greeting", "--input", "{}"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("422 VALIDATION_FAILED");
    expect(refused.stderr).toContain("input.name");
    expect((await ipa(["run", "greeting", "--input", "{not json"])).code).toBe(2);
  });

  it("approves and rejects from the terminal; a watched run that does not complete exits 3", async () => {
    expect((await ipa(["workflows", "apply", "-f", "examples/review.json"])).code).toBe(0);
    const started = json(await ipa(["run", "review", "--input", '{"name":"Bo"}', "--json"]));
    const waiting = await waitFor(
      async () => json(await ipa(["executions", "show", started.id, "--json"])),
      (e) => e.steps.some((s: { stepId: string; status: string }) => s.stepId === "review" && s.status === "waiting"),
    );
    expect(waiting.status).toBe("running");
    const approved = await ipa(["approve", started.id, "review", "-m", "fine"]);
    expect(approved.code, approved.stderr).toBe(0);
    expect((await ipa(["executions", "watch", started.id])).code).toBe(0);

    const second = json(await ipa(["run", "review", "--input", '{"name":"Cy"}', "--json"]));
    const watching = ipa(["executions", "watch", second.id]);
    await waitFor(
      async () => json(await ipa(["executions", "show", second.id, "--json"])),
      (e) => e.steps.some((s: { status: string }) => s.status === "waiting"),
    );
    expect((await ipa(["reject", second.id, "review", "-m", "no"])).code).toBe(0);
    const watched = await watching;
    expect(watched.code).toBe(3);
    expect(watched.stdout).toContain("execution failed");
    const listed = json(await ipa(["executions", "list", "--workflow", "review", "--json"]));
    expect(listed.map((e: { status: string }) => e.status).sort()).toEqual(["completed", "failed"]);
    expect((await ipa(["executions", "logs", second.id])).stdout).toContain("step.failed");
  });

  it("takes and verifies a backup, and sets secrets from stdin only", async () => {
    const backup = await ipa(["backups", "start", "--kind", "full", "--wait", "--json"]);
    expect(backup.code, backup.stderr).toBe(0);
    const { id, status } = json(backup);
    expect(["completed", "verified"]).toContain(status);
    expect((await ipa(["backups", "list"])).stdout).toContain(id);
    const verified = await ipa(["backups", "verify", id]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain("verified");

    const set = await ipa(["secrets", "set", "CRM_KEY", "--hosts", "crm.example.com", "--shared"], {
      stdin: "crm-live-value-42\n",
    });
    expect(set.code, set.stderr).toBe(0);
    const listed = await ipa(["secrets", "list", "--json"]);
    expect(json(listed).find((s: { name: string }) => s.name === "CRM_KEY")).toMatchObject({
      allowedHosts: ["crm.example.com"],
      sharedWithUsers: true,
    });
    expect(listed.stdout).not.toContain("crm-live-value-42");
    expect((await ipa(["secrets", "set", "EMPTY"])).code).toBe(2);
  });

  it("logs in with a token narrowed to --scopes, which reads but may not write", async () => {
    const otherConfig = await mkdtemp(`${tmpdir()}/ipa-cli-scoped-`);
    const env = { IPA_PASSWORD: admin.password, XDG_CONFIG_HOME: otherConfig };
    try {
      const login = await ipa(["login", "--url", stack.url, "--email", admin.email, "--scopes", "workflows:read"], {
        env,
      });
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout).toContain("scopes workflows:read");
      expect((await ipa(["workflows", "list"], { env })).code).toBe(0);
      const run = await ipa(["run", "review", "--input", '{"name":"Di"}'], { env });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("403 INSUFFICIENT_SCOPE");
    } finally {
      await rm(otherConfig, { recursive: true, force: true });
    }
  });

  it("lets IPA_URL and IPA_TOKEN override the login, and logout revokes the stored token", async () => {
    const stored = JSON.parse(await readFile(`${configHome}/ipa/config.json`, "utf8"));
    expect((await ipa(["whoami"], { env: { IPA_TOKEN: "ipa_not-a-token" } })).code).toBe(4);
    expect((await ipa(["whoami"], { env: { IPA_URL: "http://127.0.0.1:9" } })).code).toBe(1);
    const logout = await ipa(["logout"]);
    expect(logout.code, logout.stderr).toBe(0);
    const reused = await ipa(["whoami"], { env: { IPA_URL: stack.url, IPA_TOKEN: stored.token } });
    expect(reused.code).toBe(4);
    expect((await ipa(["whoami"])).code).toBe(4);
  });
});

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("timed out");
}

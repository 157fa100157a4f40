/**
 * The `ipa` CLI against a real platform (`npm run dev`), run the way a person runs it: the npm bin,
 * a config directory of its own, the exit codes scripts rely on.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
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
    expect(JSON.parse(stored).profiles.default).toMatchObject({
      url: stack.url,
      user: expect.any(String),
      token: expect.any(String),
    });
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

  it("applies every example, and runs the agent and condition ones to completion", async () => {
    const secret = await ipa(["secrets", "set", "TICKETS_API_TOKEN", "--hosts", "tickets.example.com"], {
      stdin: "example-token",
    });
    expect(secret.code, secret.stderr).toBe(0);
    const agent = await ipa(["agents", "apply", "-f", "examples/agents/summarizer.json", "--json"]);
    expect(agent.code, agent.stderr).toBe(0);
    expect(json(agent)).toMatchObject({ name: "summarizer", tools: ["now", "calculate"] });
    expect(json(await ipa(["agents", "apply", "-f", "examples/agents/summarizer.json", "--json"]))).toMatchObject({
      created: false,
    });
    const files = (await readdir("examples")).filter((name) => name.endsWith(".json"));
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) {
      const applied = await ipa(["workflows", "apply", "-f", `examples/${file}`]);
      expect(applied.code, `${file}: ${applied.stderr}`).toBe(0);
    }
    const scheduled = json(await ipa(["workflows", "list", "--json"])).find(
      (w: { name: string }) => w.name === "weekday-digest",
    );
    expect(scheduled).toMatchObject({ status: "active", schedule: { cron: "0 9 * * 1-5", timezone: "Europe/Berlin" } });
    const summarized = await ipa([
      "run",
      "summarize",
      "--input",
      '{"text":"Edge platforms run close to users."}',
      "--watch",
    ]);
    expect(summarized.code, summarized.stderr).toBe(0);
    const refund = await ipa(["run", "refund", "--input", '{"amount":5}', "--watch"]);
    expect(refund.code, refund.stderr).toBe(0);
    expect(refund.stdout).toContain("refund");
    // A map watched: one line per change of its counts, none per item.
    const documents = Array.from({ length: 6 }, (_, i) => ({ title: `doc ${i}`, text: `Text number ${i}.` }));
    const mapped = await ipa(["run", "summarize-documents", "--input", JSON.stringify({ documents }), "--watch"]);
    expect(mapped.code, mapped.stderr).toBe(0);
    // Whether the watch saw it run or only its end (a snapshot), it says the counts once, at the end.
    expect(mapped.stdout).toMatch(/summaries( \(map\) completed:)? 6 done of 6, 0 running, 0 failed/);
    expect(mapped.stdout).not.toMatch(/summaries\[\d+\]/);
    expect(mapped.stdout.split("\n").filter((line) => line.includes("done of 6")).length).toBeLessThanOrEqual(13);
    const secretOut = await ipa(["workflows", "webhook-secret", "on-signup", "--json"]);
    expect(json(secretOut).secret).toMatch(/.{32,}/);
  }, 120_000);

  it("takes global flags before the command, keeps a token per profile, and never sends one to another --url", async () => {
    const env = { IPA_PASSWORD: admin.password };
    const login = await ipa(["--url", stack.url, "--profile", "second", "login", "--email", admin.email], { env });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain("(profile second)");
    const config = JSON.parse(await readFile(`${configHome}/ipa/config.json`, "utf8"));
    expect(Object.keys(config.profiles).sort()).toEqual(["default", "second"]);
    expect(config.profiles.second.token).not.toBe(config.profiles.default.token);
    expect(json(await ipa(["--profile", "second", "whoami", "--json"]))).toMatchObject({ email: admin.email });
    expect(json(await ipa(["whoami", "--json"], { env: { IPA_PROFILE: "second" } }))).toMatchObject({ url: stack.url });
    expect((await ipa(["--profile", "third", "whoami"])).code).toBe(4);
    expect((await ipa(["--profile", "second", "--url", "http://127.0.0.1:9", "whoami"])).code).toBe(4);
    expect((await ipa(["--profile", "second", "logout"])).code).toBe(0);
    expect(Object.keys(JSON.parse(await readFile(`${configHome}/ipa/config.json`, "utf8")).profiles)).toEqual([
      "default",
    ]);
    expect((await ipa(["whoami"])).code).toBe(0);
  });

  it("prints its version and a completion script for bash, zsh and fish naming every command", async () => {
    const version = await ipa(["--version"]);
    expect(version).toMatchObject({
      code: 0,
      stdout: `${JSON.parse(await readFile("cli/package.json", "utf8")).version}\n`,
    });
    const bash = await ipa(["completion", "bash"]);
    expect(bash.code).toBe(0);
    for (const word of ["workflows", "executions", "backups", "secrets", "events", "approve", "completion"])
      expect(bash.stdout).toContain(word);
    const checked = spawnSync("bash", ["-n"], { input: bash.stdout });
    expect(checked.status, String(checked.stderr)).toBe(0);
    const completed = spawnSync("bash", [
      "-c",
      `${bash.stdout}\nCOMP_WORDS=(ipa --url x executions ""); COMP_CWORD=4; _ipa; echo "\${COMPREPLY[*]}"`,
    ]);
    expect(String(completed.stdout)).toContain("rerun");
    expect((await ipa(["completion", "zsh"])).stdout).toContain("#compdef ipa");
    expect((await ipa(["completion", "fish"])).stdout).toContain('complete -c ipa -n "__fish_use_subcommand"');
    expect((await ipa(["completion", "tcsh"])).code).toBe(2);
  });

  it("packs into a package that installs globally and runs on the system's Node", async () => {
    const scratch = await mkdtemp(`${tmpdir()}/ipa-cli-pack-`);
    try {
      const packed = spawnSync("npm", ["pack", "--pack-destination", scratch, "./cli"], { encoding: "utf8" });
      expect(packed.status, packed.stderr).toBe(0);
      const tarball = `${scratch}/${packed.stdout.trim().split("\n").pop()}`;
      const installed = spawnSync("npm", ["install", "-g", "--prefix", `${scratch}/global`, tarball], {
        encoding: "utf8",
      });
      expect(installed.status, installed.stderr).toBe(0);
      const bin = `${scratch}/global/bin/ipa`;
      const systemNode = existsSync("/usr/bin/node") ? "/usr/bin/node" : process.execPath;
      const token = JSON.parse(await readFile(`${configHome}/ipa/config.json`, "utf8")).profiles.default.token;
      const ran = spawnSync(systemNode, [bin, "--url", stack.url, "whoami", "--json"], {
        encoding: "utf8",
        env: { ...process.env, IPA_TOKEN: token, XDG_CONFIG_HOME: scratch },
      });
      expect(ran.status, ran.stderr).toBe(0);
      expect(JSON.parse(ran.stdout)).toMatchObject({ email: admin.email });
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, 120_000);

  it("lets IPA_URL and IPA_TOKEN override the login, and logout revokes the stored token", async () => {
    const stored = JSON.parse(await readFile(`${configHome}/ipa/config.json`, "utf8")).profiles.default;
    expect((await ipa(["whoami"], { env: { IPA_TOKEN: "ipa_not-a-token" } })).code).toBe(4);
    // The stored token goes only to the platform that issued it: another URL is "not signed in".
    const elsewhere = await ipa(["whoami"], { env: { IPA_URL: "http://127.0.0.1:9" } });
    expect(elsewhere.code).toBe(4);
    expect(elsewhere.stderr).toContain("not signed in to http://127.0.0.1:9");
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

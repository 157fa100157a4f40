/**
 * Secrets reach the outside world and nothing else. Planted values (a platform secret, a workflow
 * secret, a tool's write-only header, an agent's API key) are sent by http steps and an http tool
 * to a target that echoes everything back; then every place a copy could land is searched for
 * them: each API answer, the stream, the log lines, the audit rows, every row of every table,
 * a backup of the database, and the error messages.
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { backupHarness } from "../helpers/backup";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution } from "../helpers/executions";
import { createVersion, createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { addTool, completion, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { connect, ticketFor } from "../helpers/stream";
import { spansUntil } from "../helpers/traces";
import { signIn } from "../helpers/users";

const suffix = crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase();
const names = {
  platform: `LEAK_PLATFORM_${suffix}`,
  workflow: `LEAK_WORKFLOW_${suffix}`,
  missing: `NOT_SET_${suffix}`,
};
const planted = {
  platform: `plat-value-${crypto.randomUUID()}`,
  workflow: `wf value/${crypto.randomUUID()}&?`,
  header: `hdr-value-${crypto.randomUUID()}`,
  apiKey: `sk-value-${crypto.randomUUID()}`,
};
const PLANTED = Object.values(planted).flatMap((value) => [value, encodeURIComponent(value)]);

/** The planted values that occur in `text`. */
const leaked = (text: string) => PLANTED.filter((value) => text.includes(value));

const logLines: string[] = [];
const traceId = crypto.randomUUID().replace(/-/g, "");
let execution: any;
let streamText = "";
let echo: Awaited<ReturnType<typeof scriptEndpoint>>;
let model: Awaited<ReturnType<typeof fakeModelAgent>>["endpoint"];
let owner: Awaited<ReturnType<typeof signIn>>;
let admin: Awaited<ReturnType<typeof signIn>>;
let workflowId: string;
let agentId: string;

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logLines.push(args.map(String).join(" "));
    });
  }
  admin = await signIn("admin");
  owner = await signIn("user");
  echo = await scriptEndpoint([{ status: 200, echo: true }]);
  const refused = await scriptEndpoint([{ status: 502, echo: true }]);

  expect(
    (
      await callJson(`/api/v1/secrets/${names.platform}`, {
        method: "PUT",
        token: admin.token,
        body: { value: planted.platform, sharedWithUsers: true },
      })
    ).status,
  ).toBe(201);
  const made = await fakeModelAgent(
    admin.token,
    [completion({ toolCalls: [{ name: "lookup", arguments: { q: "42" } }] }), completion({ content: "done" })],
    { apiKey: planted.apiKey },
  );
  model = made.endpoint;
  agentId = made.agent.id;
  await addTool(admin.token, agentId, {
    toolName: "lookup",
    toolType: "http",
    configuration: {
      url: `${echo.url}/tool/{{q}}`,
      method: "GET",
      headers: { "x-tool-key": planted.header, authorization: `Bearer {{secrets.${names.platform}}}` },
    },
  });

  const request = (url: string) => ({
    url,
    method: "POST",
    headers: { authorization: `Bearer {{secrets.${names.platform}}}`, "x-token": `{{secrets.${names.workflow}}}` },
    body: { token: `{{secrets.${names.workflow}}}`, note: `key {{secrets.${names.platform}}}` },
  });
  // Versions name only secrets the workflow may use: its own are set first (the one that goes
  // missing is deleted after the version, to fail at send time).
  workflowId = (await createWorkflow(owner.token)).id;
  for (const [name, value] of [
    [names.workflow, planted.workflow],
    [names.missing, "soon-deleted-value"],
  ]) {
    const put = await callJson(`/api/v1/workflows/${workflowId}/secrets/${name}`, {
      method: "PUT",
      token: owner.token,
      body: { value },
    });
    expect(put.status).toBe(201);
  }
  await createVersion(owner.token, workflowId, {
    steps: [
      {
        id: "call",
        type: "http",
        request: request(`${echo.url}/{{secrets.${names.workflow}}}?k={{secrets.${names.platform}}}`),
      },
      {
        id: "refused",
        type: "http",
        request: request(`${refused.url}/{{secrets.${names.workflow}}}`),
        retry: { maxAttempts: 1 },
        continueOnError: true,
      },
      {
        id: "missing",
        type: "http",
        request: { url: `${echo.url}/m`, method: "GET", headers: { "x-key": `{{secrets.${names.missing}}}` } },
        continueOnError: true,
      },
      { id: "ask", type: "agent", agentId, prompt: "Look up 42", dependsOn: ["call"] },
    ],
  });
  const deleted = await callJson(`/api/v1/workflows/${workflowId}/secrets/${names.missing}`, {
    method: "DELETE",
    token: owner.token,
  });
  expect(deleted.status).toBe(204);

  const id = await start(owner.token, workflowId, {}, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  const live = await connect(id, await ticketFor(owner.token, id));
  execution = await waitForExecution(owner.token, id);
  await live.waitFor((message) => message.event === "execution.completed");
  // And the whole history again from the start, as a viewer resuming from seq 0 gets it.
  const replay = await connect(id, await ticketFor(owner.token, id), 0);
  await replay.waitFor((message) => message.event === "execution.completed");
  streamText = JSON.stringify([live.messages, replay.messages]);
  live.close();
  replay.close();
}, 90_000);

afterAll(() => {
  vi.restoreAllMocks();
});

describe("secrets never leak", () => {
  it("are sent to the outside world where the templates say (the control for everything below)", async () => {
    expect(execution.status).toBe("completed");
    const [sent] = (await echo.requests()).filter((r) => r.method === "POST");
    expect(sent.headers.authorization).toBe(`Bearer ${planted.platform}`);
    expect(sent.headers["x-token"]).toBe(planted.workflow);
    expect(sent.path).toBe(`/s/${echo.name}/${encodeURIComponent(planted.workflow)}?k=${planted.platform}`);
    expect(JSON.parse(sent.body)).toEqual({ token: planted.workflow, note: `key ${planted.platform}` });
    const [tool] = (await echo.requests()).filter((r) => r.path.includes("/tool/"));
    expect(tool.headers["x-tool-key"]).toBe(planted.header);
    expect((await model.requests())[0].headers.authorization).toBe(`Bearer ${planted.apiKey}`);
    // What came back is scrubbed: the echo's copy of each value is replaced by its name.
    expect(JSON.stringify(stepOf(execution, "call").output)).toContain(`[secret:${names.workflow}]`);
  });

  it("fails a step whose secret is not set with secret_missing, naming the secret only", () => {
    expect(stepOf(execution, "missing")).toMatchObject({
      status: "failed",
      error: { reason: "secret_missing", message: expect.stringContaining(names.missing) },
    });
  });

  it("appear in no API answer", async () => {
    const paths = [
      `/api/v1/executions/${execution.id}`,
      `/api/v1/executions/${execution.id}/logs?limit=200`,
      ...execution.steps.map(
        (step: { stepId: string }) => `/api/v1/executions/${execution.id}/steps/${step.stepId}/output`,
      ),
      `/api/v1/workflows/${workflowId}/secrets`,
      `/api/v1/workflows/${workflowId}/versions`,
      "/api/v1/secrets",
      `/api/v1/agents/${agentId}`,
      `/api/v1/agents/${agentId}/tools`,
      "/api/v1/audit?limit=200",
    ];
    for (const path of paths) {
      const res = await callJson(path, { token: admin.token });
      expect(res.status, path).toBe(200);
      expect(leaked(JSON.stringify(res.body)), path).toEqual([]);
    }
    const tools = await callJson(`/api/v1/agents/${agentId}/tools`, { token: admin.token });
    // Header values are write-only (a value that is only a secret reference would show as written).
    expect(tools.body.items[0].configuration.headers).toEqual({ "x-tool-key": "***", authorization: "***" });
  });

  it("appear in no stream message, and not in what went back to the model", async () => {
    expect(streamText.length).toBeGreaterThan(100);
    expect(leaked(streamText)).toEqual([]);
    const toolResult = JSON.stringify((await model.requests())[1].body);
    expect(toolResult).toContain("[secret:header x-tool-key]");
    expect(leaked(toolResult)).toEqual([]);
  });

  it("appear in no span of the execution's trace", async () => {
    const spans = await spansUntil(traceId, (all) => all.some((s) => s.name.startsWith("execute_tool ")));
    expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(["step call", "step refused"]));
    expect(leaked(JSON.stringify(spans))).toEqual([]);
  });

  it("appear in no log line", () => {
    // Request lines carry paths and query strings: the places a value would show first.
    expect(logLines.length).toBeGreaterThan(0);
    expect(leaked(logLines.join("\n"))).toEqual([]);
  });

  it("appear in no row of any table (audit rows, steps, logs, outbox, snapshots included)", async () => {
    const tables = await query<{ name: string }>(
      "select tablename as name from pg_tables where schemaname = 'public' order by tablename",
    );
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["audit_logs", "execution_steps", "secrets"]));
    for (const { name } of tables) {
      const rows = await query<{ row: string }>(`select t::text as row from "${name}" t`);
      expect(leaked(rows.map((r) => r.row).join("\n")), name).toEqual([]);
    }
  });

  it("appear in no backup of the database", async () => {
    const { takeBackup } = backupHarness(env.DATABASE_URL);
    // The backups project may hold the database's one backup lock right now: wait for it.
    const backup = await takeBackup("full", { BACKUP_ENCRYPTION: "off" }, { waitIfBusy: true });
    expect(backup.status).toBe("completed");
    let text = "";
    for (const object of backup.manifest.objects) {
      const body = (await env.STORAGE.get(`${backup.prefix}${object.name}`)) as R2ObjectBody;
      text += await new Response(body.body.pipeThrough(new DecompressionStream("gzip"))).text();
    }
    expect(text).toContain(execution.id);
    expect(leaked(text)).toEqual([]);
  });
});

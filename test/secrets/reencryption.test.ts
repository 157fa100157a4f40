/**
 * Key rotation and retirement: values sealed under the old key k1 (as they were written before
 * ENCRYPTION_KEY_ID became k2) are re-sealed by the re-encryption job, after which a keyring
 * without k1 opens every one of them, and steps whose execution took its copy before the job
 * still send them.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agentKeyBinding } from "../../src/agents/sealed-key";
import { settings } from "../../src/config";
import { reencryptAll } from "../../src/cron/reencrypt";
import { Keyring, KeyringError } from "../../src/crypto/keyring";
import { secretBinding } from "../../src/secrets/sealed";
import { webhookSecretBinding } from "../../src/services/webhooks";
import { runHttpStep } from "../../src/steps/http/run";
import type { StepTask } from "../../src/steps/task";
import { query, withDb } from "../helpers/db";
import { createWorkflow } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { addTool, fakeModelAgent } from "../helpers/openai";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const keys = JSON.parse(env.ENCRYPTION_KEYS) as Record<string, string>;
/** The keyring as it was before the rotation, and as it is once k1 is retired. */
const before = Keyring.fromSettings(JSON.stringify(keys), "k1");
const retired = Keyring.fromSettings(JSON.stringify({ k2: keys.k2 }), "k2");
const retiredEnv = { ...env, ENCRYPTION_KEYS: JSON.stringify({ k2: keys.k2 }), ENCRYPTION_KEY_ID: "k2" };

/** What the rows held before the rotation: every value sealed under k1. */
async function sealedUnderOldKey() {
  const admin = await signIn("admin");
  const values = {
    apiKey: `sk-${crypto.randomUUID()}`,
    webhook: `whsec-${crypto.randomUUID()}`,
    secret: `secret-${crypto.randomUUID()}`,
    header: `header-${crypto.randomUUID()}`,
  };
  const { agent } = await fakeModelAgent(admin.token, [], { apiKey: "placeholder" });
  const tool = await addTool(admin.token, agent.id, {
    toolName: "lookup",
    toolType: "http",
    configuration: { url: "http://127.0.0.1/x", method: "GET", headers: { "x-key": "placeholder" } },
  });
  const workflow = await createWorkflow(admin.token);
  const name = `ROTATED_${crypto.randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
  const put = await callJson(`/api/v1/workflows/${workflow.id}/secrets/${name}`, {
    method: "PUT",
    token: admin.token,
    body: { value: "placeholder" },
  });
  expect(put.status).toBe(201);
  const [secret] = await query<{ id: string }>("select id from secrets where workflow_id = $1", [workflow.id]);
  await query("update agents set api_key = $2 where id = $1", [
    agent.id,
    await before.encrypt(values.apiKey, agentKeyBinding(agent.id)),
  ]);
  await query("update workflows set webhook_secret = $2 where id = $1", [
    workflow.id,
    await before.encrypt(values.webhook, webhookSecretBinding(workflow.id)),
  ]);
  await query("update secrets set value = $2 where id = $1", [
    secret.id,
    await before.encrypt(values.secret, secretBinding(secret.id)),
  ]);
  const sealedHeader = await before.encrypt(values.header, {
    table: "agent_tools",
    column: "headers.x-key",
    rowId: tool.id,
  });
  await query(`update agent_tools set configuration = jsonb_set(configuration, '{headers}', $2::jsonb) where id = $1`, [
    tool.id,
    JSON.stringify({ "x-key": { $sealed: sealedHeader } }),
  ]);
  return { values, agentId: agent.id, toolId: tool.id, workflowId: workflow.id, secretId: secret.id, name };
}

async function rowsNow(old: Awaited<ReturnType<typeof sealedUnderOldKey>>) {
  const [agent] = await query<{ api_key: string }>("select api_key from agents where id = $1", [old.agentId]);
  const [workflow] = await query<{ webhook_secret: string }>("select webhook_secret from workflows where id = $1", [
    old.workflowId,
  ]);
  const [secret] = await query<{ value: string }>("select value from secrets where id = $1", [old.secretId]);
  const [tool] = await query<{ header: string }>(
    `select configuration->'headers'->'x-key'->>'$sealed' as header from agent_tools where id = $1`,
    [old.toolId],
  );
  return { apiKey: agent.api_key, webhook: workflow.webhook_secret, secret: secret.value, header: tool.header };
}

async function openAll(keyring: Keyring, old: Awaited<ReturnType<typeof sealedUnderOldKey>>) {
  const sealed = await rowsNow(old);
  return {
    apiKey: await keyring.decrypt(sealed.apiKey, agentKeyBinding(old.agentId)),
    webhook: await keyring.decrypt(sealed.webhook, webhookSecretBinding(old.workflowId)),
    secret: await keyring.decrypt(sealed.secret, secretBinding(old.secretId)),
    header: await keyring.decrypt(sealed.header, { table: "agent_tools", column: "headers.x-key", rowId: old.toolId }),
  };
}

describe("re-encryption and key retirement", () => {
  it("re-seals every sealed field under the current key, after which the old key can be removed", async () => {
    const old = await sealedUnderOldKey();
    // The control: without k1 nothing opens yet.
    await expect(openAll(retired, old)).rejects.toThrow(KeyringError);

    const done = await withDb(({ db }) => reencryptAll(db, settings(env)));
    for (const field of ["agents", "workflows", "secrets", "tools"] as const) expect(done[field]).toBeGreaterThan(0);
    const sealed = await rowsNow(old);
    for (const value of Object.values(sealed)) expect(retired.keyIdOf(value)).toBe("k2");
    expect(await openAll(retired, old)).toEqual(old.values);

    // Run again, it finds nothing left to do for these rows.
    await withDb(({ db }) => reencryptAll(db, settings(env)));
    expect(await rowsNow(old)).toEqual(sealed);
  });

  it("still sends a secret sealed under the retired key once its row was re-sealed", async () => {
    const old = await sealedUnderOldKey();
    await withDb(({ db }) => reencryptAll(db, settings(env)));
    const target = await scriptEndpoint([{ status: 200, body: { ok: true } }]);
    const task = {
      executionId: crypto.randomUUID(),
      workflowId: old.workflowId,
      actingUserId: crypto.randomUUID(),
      stepId: "call",
      type: "http",
      attempt: 1,
      idempotencyKey: crypto.randomUUID(),
      lease: "lease",
      leaseMs: 30_000,
      claims: 1,
      input: null,
      inputRef: null,
      deadline: Date.now() + 30_000,
      executionTokens: 0,
      executionTokenBudget: null,
      executionCostUsd: 0,
      executionCostBudgetUsd: null,
      streamedChars: 0,
      traceId: "0af7651916cd43dd8448eb211c80319c",
      agent: null,
      checkpoint: null,
      childResults: [],
    } satisfies StepTask;
    const input = {
      url: target.url,
      method: "GET",
      headers: { "x-key": `{{secrets.${old.name}}}` },
      secretSlots: [{ at: ["headers", "x-key"], text: [{ secret: old.name }] }],
      expectStatus: null,
    };
    const context = {
      env: retiredEnv,
      signal: new AbortController().signal,
      onToken: () => {},
      checkpoint: async () => true,
      startChild: async () => ({ refused: "http steps start no children" }),
    };
    const outcome = await runHttpStep(task, input, context);
    expect(outcome).toMatchObject({ ok: true, output: { status: 200 } });
    expect((await target.requests())[0].headers["x-key"]).toBe(old.values.secret);
  });
});

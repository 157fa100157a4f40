/**
 * Tags and metadata on executions (docs/api.md "Tags and metadata"): given at the start, shown on
 * the execution, and found again by the list's filters, each filter narrowing to exactly what
 * matches and never past what the caller may read.
 */
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn, uniqueName } from "../helpers/users";

const DEFINITION = { steps: [{ id: "t", type: "transform", output: { ok: true } }] };

async function startLabelled(token: string, workflowId: string, labels: Record<string, unknown>, headers = {}) {
  return callJson(`/api/v1/workflows/${workflowId}/executions`, { token, body: { input: {}, ...labels }, headers });
}

async function listed(token: string, search: string): Promise<string[]> {
  const res = await callJson(`/api/v1/executions?limit=100&${search}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items.map((item: { id: string }) => item.id);
}

describe("tags and metadata", () => {
  it("are stored with the start and shown on the execution and in the list", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, DEFINITION);
    const started = await startLabelled(owner.token, workflowId, {
      tags: ["nightly", "customer-42"],
      metadata: { region: "eu", plan: "pro" },
    });
    expect(started.status).toBe(202);
    const shown = await callJson(`/api/v1/executions/${started.body.id}`, { token: owner.token });
    expect(shown.body).toMatchObject({ tags: ["nightly", "customer-42"], metadata: { region: "eu", plan: "pro" } });
    const page = await callJson(`/api/v1/executions?workflowId=${workflowId}`, { token: owner.token });
    expect(page.body.items[0]).toMatchObject({ tags: ["nightly", "customer-42"], metadata: { region: "eu" } });
  });

  it("filter the list: every tag, every metadata pair, and q by tag, value or id prefix", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, DEFINITION);
    const tag = uniqueName("tag");
    const value = uniqueName("value");
    const start = async (labels: Record<string, unknown>) =>
      (await startLabelled(owner.token, workflowId, labels)).body.id as string;
    const both = await start({ tags: [tag, "gold"], metadata: { region: value } });
    const one = await start({ tags: [tag], metadata: { region: "us", note: value } });
    const none = await start({});

    expect(await listed(owner.token, `tag=${tag}`)).toEqual([one, both]);
    expect(await listed(owner.token, `tag=${tag}&tag=gold`)).toEqual([both]);
    expect(await listed(owner.token, `meta.region=${value}`)).toEqual([both]);
    expect(await listed(owner.token, `tag=${tag}&meta.region=us`)).toEqual([one]);
    // q: a tag, or any metadata value, or the start of an id.
    expect(await listed(owner.token, `q=${tag}`)).toEqual([one, both]);
    expect(await listed(owner.token, `q=${value}`)).toEqual([one, both]);
    expect(await listed(owner.token, `workflowId=${workflowId}&q=${none.slice(0, 13)}`)).toEqual([none]);
  });

  it("never show another user's executions, whatever the filter", async () => {
    const owner = await signIn("user");
    const other = await signIn("user");
    const tag = uniqueName("private");
    const started = await startLabelled(owner.token, await workflowWith(owner.token, DEFINITION), { tags: [tag] });
    expect(await listed(owner.token, `tag=${tag}`)).toEqual([started.body.id]);
    expect(await listed(other.token, `tag=${tag}`)).toEqual([]);
    expect(await listed(other.token, `q=${started.body.id.slice(0, 8)}`)).not.toContain(started.body.id);
  });

  it("refuse what exceeds the limits with 422 by path, starting nothing", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, DEFINITION);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, "tags"],
      [{ tags: ["x".repeat(65)] }, "tags.0"],
      [{ metadata: { "bad key": "v" } }, "metadata.bad key"],
      [{ metadata: { k: "v".repeat(257) } }, "metadata.k"],
      [{ metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, "v"])) }, "metadata"],
    ];
    for (const [labels, path] of cases) {
      const res = await startLabelled(owner.token, workflowId, labels);
      expect(res.status, JSON.stringify(labels).slice(0, 80)).toBe(422);
      expect(res.body.error.details.map((detail: { path: string }) => detail.path)).toContain(path);
    }
    const rows = await query("select 1 from executions where workflow_id = $1", [workflowId]);
    expect(rows).toHaveLength(0);

    const badFilter = await callJson("/api/v1/executions?meta.bad%20key=v", { token: owner.token });
    expect(badFilter.status).toBe(422);
    expect(badFilter.body.error.details[0].path).toBe("meta.bad key");
  });

  it("are part of an idempotent request: the same key with other labels is refused", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, DEFINITION);
    const key = { "idempotency-key": uniqueName("key") };
    const first = await startLabelled(owner.token, workflowId, { tags: ["a"] }, key);
    const again = await startLabelled(owner.token, workflowId, { tags: ["a"] }, key);
    expect(again.body.id).toBe(first.body.id);
    const other = await startLabelled(owner.token, workflowId, { tags: ["b"] }, key);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });
});

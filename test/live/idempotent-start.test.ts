import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { workflowWith } from "../helpers/executions";
import { transformDefinition } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const startWith = (token: string, workflowId: string, key: string, input: unknown) =>
  callJson(`/api/v1/workflows/${workflowId}/executions`, {
    token,
    body: { input },
    headers: { "idempotency-key": key },
  });

describe("idempotent start", () => {
  it("returns the same execution for the same key and body, and 409 for a different body", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, transformDefinition);
    const key = crypto.randomUUID();
    const first = await startWith(user.token, workflowId, key, { name: "Ada" });
    const again = await startWith(user.token, workflowId, key, { name: "Ada" });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");

    const mismatch = await startWith(user.token, workflowId, key, { name: "Grace" });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const [{ n }] = await query<{ n: number }>("select count(*)::int as n from executions where workflow_id = $1", [
      workflowId,
    ]);
    expect(n).toBe(1);
  });

  it("keys are per user, and concurrent requests with one key start one execution", async () => {
    const user = await signIn("admin");
    const other = await signIn("admin");
    const workflowId = await workflowWith(user.token, transformDefinition);
    const key = crypto.randomUUID();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => startWith(user.token, workflowId, key, { n: 1 })),
    );
    expect(results.every((r) => r.status === 202)).toBe(true);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const theirs = await startWith(other.token, workflowId, key, { n: 1 });
    expect(theirs.body.id).not.toBe(results[0].body.id);
  });

  it("forgets a key after 24 hours", async () => {
    const user = await signIn("user");
    const workflowId = await workflowWith(user.token, transformDefinition);
    const key = crypto.randomUUID();
    const first = await startWith(user.token, workflowId, key, {});
    await query("update idempotency_keys set expires_at = now() - interval '1 second' where key = $1", [key]);
    const later = await startWith(user.token, workflowId, key, { different: true });
    expect(later.status).toBe(202);
    expect(later.body.id).not.toBe(first.body.id);
  });
});

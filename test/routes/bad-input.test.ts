import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { call, callJson } from "../helpers/http";
import { signIn, uniqueName } from "../helpers/users";

async function workflowsNamed(name: string) {
  const [{ n }] = await query<{ n: number }>("select count(*)::int as n from workflows where name = $1", [name]);
  return n;
}

describe("bad input", () => {
  it("answers malformed JSON with 400 in the error shape and writes nothing", async () => {
    const user = await signIn("user");
    const name = uniqueName("bad");
    const res = await call("/api/v1/workflows", { token: user.token, body: `{"name": "${name}",` });
    expect(res.status).toBe(400);
    const body: any = await res.json();
    expect(body.error).toMatchObject({ code: "BAD_REQUEST", message: "The request body is not valid JSON" });
    expect(await workflowsNamed(name)).toBe(0);
  });

  it("rejects unknown fields (mass assignment) with 422 naming the field", async () => {
    const user = await signIn("user");
    const name = uniqueName("mass");
    const res = await callJson("/api/v1/workflows", {
      token: user.token,
      body: { name, ownerId: crypto.randomUUID(), status: "active" },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].message).toMatch(/ownerId|status/);
    expect(await workflowsNamed(name)).toBe(0);

    const admin = await signIn("admin");
    const userRes = await callJson("/api/v1/users", {
      token: admin.token,
      body: {
        email: "x@example.test",
        username: "xxxx",
        password: "long-enough-password",
        roles: ["user"],
        isActive: false,
      },
    });
    expect(userRes.status).toBe(422);
  });

  it("rejects wrong types and out-of-range values with their paths", async () => {
    const admin = await signIn("admin");
    const name = uniqueName("agent");
    const res = await callJson("/api/v1/agents", {
      token: admin.token,
      body: { name, type: "custom", configuration: { provider: "builtin" }, temperature: 2.5, maxTokens: "many" },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["maxTokens", "temperature"]);
    const [{ n }] = await query<{ n: number }>("select count(*)::int as n from agents where name = $1", [name]);
    expect(n).toBe(0);
  });

  it("rejects bad query parameters and path ids with 400", async () => {
    const user = await signIn("user");
    expect((await callJson("/api/v1/workflows?limit=500", { token: user.token })).status).toBe(400);
    const res = await callJson("/api/v1/workflows/not-a-uuid", { token: user.token });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe("param.id");
  });

  it("refuses an oversized body with 413 and writes nothing", async () => {
    const user = await signIn("user");
    const name = uniqueName("big");
    const res = await callJson("/api/v1/workflows", {
      token: user.token,
      body: { name, metadata: { blob: "x".repeat(1_100_000) } },
    });
    expect(res.status).toBe(413);
    expect(await workflowsNamed(name)).toBe(0);
  });

  it("refuses a definition over 256 KB with 422", async () => {
    const user = await signIn("user");
    const wf = (await callJson("/api/v1/workflows", { token: user.token, body: { name: uniqueName("wf") } })).body;
    const definition = { steps: [{ id: "a", type: "transform", output: { blob: "x".repeat(300_000) } }] };
    const res = await callJson(`/api/v1/workflows/${wf.id}/versions`, { token: user.token, body: { definition } });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe("definition");
  });

  it("accepts a POST without a body where none is needed", async () => {
    const user = await signIn("user");
    const res = await call("/api/v1/auth/logout", { method: "POST", token: user.token });
    expect(res.status).toBe(204);
  });
});

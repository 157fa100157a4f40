import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { agentKeyBinding } from "../../src/agents/sealed-key";
import { settings } from "../../src/config";
import { keyringOf } from "../../src/crypto/keyring-of";
import { query } from "../helpers/db";
import { createAgent } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { signIn, uniqueName } from "../helpers/users";

describe("agents", () => {
  it("stores a per-agent API key encrypted, bound to its row, and never returns it", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token, {
      configuration: { provider: "openai", baseUrl: "https://api.openai.com/v1", apiKey: "sk-live-very-secret" },
      modelName: "gpt-4o-mini",
      temperature: 0.2,
      maxTokens: 256,
      systemPrompt: "Be brief.",
    });
    expect(agent.configuration).toEqual({ provider: "openai", baseUrl: "https://api.openai.com/v1", apiKeySet: true });
    expect(JSON.stringify(agent)).not.toContain("sk-live");

    const [row] = await query<{ api_key: string; configuration: unknown }>(
      "select api_key, configuration from agents where id = $1",
      [agent.id],
    );
    expect(row.api_key).toMatch(/^enc1:k2:/);
    expect(row.api_key).not.toContain("sk-live");
    expect(JSON.stringify(row.configuration)).not.toContain("sk-live");
    const ring = keyringOf(settings(env));
    expect(await ring.decrypt(row.api_key, agentKeyBinding(agent.id))).toBe("sk-live-very-secret");
    await expect(ring.decrypt(row.api_key, agentKeyBinding(crypto.randomUUID()))).rejects.toThrow();

    for (const path of [`/api/v1/agents/${agent.id}`, "/api/v1/agents?limit=200"]) {
      expect(JSON.stringify((await callJson(path, { token: admin.token })).body)).not.toContain("sk-live");
    }
    const [audit] = await query<{ after: unknown }>("select after from audit_logs where resource_id = $1", [agent.id]);
    expect(JSON.stringify(audit.after)).not.toContain("sk-live");
  });

  it("keeps the key when a change omits it and removes it on null", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token, { configuration: { provider: "openai", apiKey: "sk-keep-me" } });
    const kept = await callJson(`/api/v1/agents/${agent.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { configuration: { provider: "openai", maxIterations: 4 } },
    });
    expect(kept.body.configuration).toEqual({ provider: "openai", maxIterations: 4, apiKeySet: true });
    const removed = await callJson(`/api/v1/agents/${agent.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { configuration: { provider: "openai", apiKey: null } },
    });
    expect(removed.body.configuration.apiKeySet).toBe(false);
  });

  it("validates provider configurations", async () => {
    const admin = await signIn("admin");
    const post = (configuration: unknown) =>
      callJson("/api/v1/agents", {
        token: admin.token,
        body: { name: uniqueName("a"), type: "custom", configuration },
      });
    const azure = await post({ provider: "azure-openai" });
    expect(azure.status).toBe(422);
    expect(azure.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      "configuration.apiVersion",
      "configuration.baseUrl",
    ]);
    const secret = await post({ provider: "openai", apiKeySecret: "JWT_SECRET" });
    expect(secret.status).toBe(422);
    expect(secret.body.error.details[0].path).toBe("configuration.apiKeySecret");
    expect((await post({ provider: "openai", apiKeySecret: "OPENAI_API_KEY" })).status).toBe(201);
    expect((await post({ provider: "magic" })).status).toBe(422);
  });

  it("refuses duplicate names with 409 and archives on DELETE", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token);
    const dup = await callJson("/api/v1/agents", {
      token: admin.token,
      body: { name: agent.name.toUpperCase(), type: "custom", configuration: { provider: "builtin" } },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("AGENT_NAME_TAKEN");
    const archived = await callJson(`/api/v1/agents/${agent.id}`, { method: "DELETE", token: admin.token });
    expect(archived.body.status).toBe("archived");
    const list = await callJson("/api/v1/agents?limit=200", { token: admin.token });
    expect(list.body.items.map((a: { id: string }) => a.id)).not.toContain(agent.id);
    // The name is free again once the old agent is archived.
    expect(
      (
        await callJson("/api/v1/agents", {
          token: admin.token,
          body: { name: agent.name, type: "custom", configuration: { provider: "builtin" } },
        })
      ).status,
    ).toBe(201);
  });

  it("manages typed tools with unique names per agent", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token);
    const base = `/api/v1/agents/${agent.id}/tools`;
    const http = await callJson(base, {
      token: admin.token,
      body: {
        toolName: "lookup_item",
        toolType: "http",
        configuration: {
          url: "https://api.example.com/items/{{id}}",
          method: "GET",
          parameters: { type: "object", properties: { id: { type: "string" } } },
        },
      },
    });
    expect(http.status).toBe(201);
    expect(http.body).toMatchObject({ toolName: "lookup_item", toolType: "http", isEnabled: true });
    expect(
      (
        await callJson(base, {
          token: admin.token,
          body: { toolName: "lookup_item", toolType: "builtin", configuration: { builtin: "arithmetic" } },
        })
      ).status,
    ).toBe(409);
    const bad = await callJson(base, {
      token: admin.token,
      body: { toolName: "x", toolType: "builtin", configuration: { builtin: "rm_rf" } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details[0].path).toBe("configuration.builtin");
    const badSchema = await callJson(base, {
      token: admin.token,
      body: {
        toolName: "y",
        toolType: "http",
        configuration: { url: "https://x.test", parameters: { type: "string" } },
      },
    });
    expect(badSchema.status).toBe(422);

    const disabled = await callJson(`${base}/${http.body.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { isEnabled: false },
    });
    expect(disabled.body.isEnabled).toBe(false);
    expect((await callJson(base, { token: admin.token })).body.items).toHaveLength(1);
    expect((await callJson(`${base}/${http.body.id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect((await callJson(`${base}/${http.body.id}`, { token: admin.token })).status).toBe(404);
  });
});

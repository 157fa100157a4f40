import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { createAgent, createVersion, createWorkflow, transformDefinition } from "../helpers/fixtures";
import { callJson } from "../helpers/http";
import { signIn, uniqueName } from "../helpers/users";

describe("workflows", () => {
  it("creates a draft workflow owned by the caller and reads it back", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token, {
      description: "d",
      tags: ["Billing", "billing", " nightly "],
      metadata: { team: "ops" },
      schedule: { cron: "0 9 * * 1-5", input: { region: "eu" } },
    });
    expect(wf).toMatchObject({
      status: "draft",
      ownerId: user.id,
      tags: ["billing", "nightly"],
      metadata: { team: "ops" },
      schedule: { cron: "0 9 * * 1-5" },
      currentVersion: null,
      webhookSecretSet: false,
    });
    const read = await callJson(`/api/v1/workflows/${wf.id}`, { token: user.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(wf);
  });

  it("hides another user's workflow: 404 on read and change, absent from lists", async () => {
    const alice = await signIn("user");
    const bob = await signIn("user");
    const wf = await createWorkflow(alice.token);
    expect((await callJson(`/api/v1/workflows/${wf.id}`, { token: bob.token })).status).toBe(404);
    expect(
      (await callJson(`/api/v1/workflows/${wf.id}`, { method: "PATCH", token: bob.token, body: { name: "x" } })).status,
    ).toBe(404);
    expect(
      (
        await callJson(`/api/v1/workflows/${wf.id}/versions`, {
          token: bob.token,
          body: { definition: transformDefinition },
        })
      ).status,
    ).toBe(404);
    const list = await callJson("/api/v1/workflows?limit=200", { token: bob.token });
    expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(wf.id);
    // Admins and viewers see everyone's.
    const viewer = await signIn("viewer");
    expect((await callJson(`/api/v1/workflows/${wf.id}`, { token: viewer.token })).status).toBe(200);
  });

  it("filters by tags, status and name, and pages with a stable cursor", async () => {
    const user = await signIn("user");
    const tag = uniqueName("tag");
    const made = [];
    for (let i = 0; i < 5; i++)
      made.push(await createWorkflow(user.token, { name: `${tag}-n${i}`, tags: [tag, i % 2 ? "odd" : "even"] }));
    const odd = await callJson(`/api/v1/workflows?tag=${tag}&tag=odd`, { token: user.token });
    expect(odd.body.items.map((w: { name: string }) => w.name).sort()).toEqual([`${tag}-n1`, `${tag}-n3`]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await callJson(`/api/v1/workflows?tag=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
        token: user.token,
      });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((w: { id: string }) => w.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse().map((w) => w.id));

    const byName = await callJson(`/api/v1/workflows?q=${tag}-n4`, { token: user.token });
    expect(byName.body.items).toHaveLength(1);
    expect((await callJson("/api/v1/workflows?cursor=garbage", { token: user.token })).status).toBe(400);
  });

  it("publishes numbered immutable versions, makes them current, and rolls back", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token);
    const v1 = await createVersion(user.token, wf.id, transformDefinition, { changeSummary: "first" });
    expect(v1).toMatchObject({ versionNumber: 1, isCurrent: true, changeSummary: "first" });
    expect(v1.definition.steps[0]).toMatchObject({ id: "hello", dependsOn: [], continueOnError: false });
    const v2 = await createVersion(
      user.token,
      wf.id,
      { steps: [{ id: "b", type: "delay", seconds: 1 }] },
      { makeCurrent: false },
    );
    expect(v2).toMatchObject({ versionNumber: 2, isCurrent: false });
    expect((await callJson(`/api/v1/workflows/${wf.id}`, { token: user.token })).body.currentVersion).toBe(1);

    const moved = await callJson(`/api/v1/workflows/${wf.id}/current-version`, {
      method: "PUT",
      token: user.token,
      body: { versionNumber: 2 },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.currentVersion).toBe(2);
    const back = await callJson(`/api/v1/workflows/${wf.id}/current-version`, {
      method: "PUT",
      token: user.token,
      body: { versionNumber: 1 },
    });
    expect(back.body.currentVersion).toBe(1);
    expect(
      (
        await callJson(`/api/v1/workflows/${wf.id}/current-version`, {
          method: "PUT",
          token: user.token,
          body: { versionNumber: 9 },
        })
      ).status,
    ).toBe(404);

    const list = await callJson(`/api/v1/workflows/${wf.id}/versions`, { token: user.token });
    expect(
      list.body.items.map((v: { versionNumber: number; isCurrent: boolean }) => [v.versionNumber, v.isCurrent]),
    ).toEqual([
      [2, false],
      [1, true],
    ]);
    const one = await callJson(`/api/v1/workflows/${wf.id}/versions/2`, { token: user.token });
    expect(one.body.definition.steps[0].id).toBe("b");
    expect((await callJson(`/api/v1/workflows/${wf.id}/versions/7`, { token: user.token })).status).toBe(404);

    // The database refuses to change a published version, whatever the code does.
    await expect(query("update workflow_versions set change_summary = 'x' where id = $1", [v1.id])).rejects.toThrow(
      /immutable/,
    );
  });

  it("numbers concurrent versions without gaps or duplicates", async () => {
    const user = await signIn("user");
    const wf = await createWorkflow(user.token);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        callJson(`/api/v1/workflows/${wf.id}/versions`, {
          token: user.token,
          body: { definition: transformDefinition },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
    expect(results.map((r) => r.body.versionNumber).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("activates, archives (admin only) and then refuses changes with 409", async () => {
    const user = await signIn("user");
    const admin = await signIn("admin");
    const wf = await createWorkflow(user.token);
    const active = await callJson(`/api/v1/workflows/${wf.id}`, {
      method: "PATCH",
      token: user.token,
      body: { status: "active" },
    });
    expect(active.body.status).toBe("active");
    expect((await callJson(`/api/v1/workflows/${wf.id}`, { method: "DELETE", token: user.token })).status).toBe(403);
    const archived = await callJson(`/api/v1/workflows/${wf.id}`, { method: "DELETE", token: admin.token });
    expect(archived.status).toBe(200);
    expect(archived.body.status).toBe("archived");
    const patch = await callJson(`/api/v1/workflows/${wf.id}`, {
      method: "PATCH",
      token: user.token,
      body: { name: "new" },
    });
    expect(patch.status).toBe(409);
    expect(patch.body.error.code).toBe("WORKFLOW_ARCHIVED");
    const list = await callJson("/api/v1/workflows?limit=200", { token: user.token });
    expect(list.body.items.map((w: { id: string }) => w.id)).not.toContain(wf.id);
    const archivedList = await callJson("/api/v1/workflows?status=archived&limit=200", { token: user.token });
    expect(archivedList.body.items.map((w: { id: string }) => w.id)).toContain(wf.id);
  });

  it("rejects an invalid cron schedule with its path", async () => {
    const user = await signIn("user");
    const res = await callJson("/api/v1/workflows", {
      token: user.token,
      body: { name: "x", schedule: { cron: "61 * * * *" } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe("schedule.cron");
    const zone = await callJson("/api/v1/workflows", {
      token: user.token,
      body: { name: "x", schedule: { cron: "0 9 * * *", timezone: "Mars/Olympus" } },
    });
    expect(zone.status).toBe(422);
    expect(zone.body.error.details[0].path).toBe("schedule.timezone");
  });

  it("accepts an agent step only for an existing, active agent", async () => {
    const admin = await signIn("admin");
    const agent = await createAgent(admin.token);
    const wf = await createWorkflow(admin.token);
    const definition = { steps: [{ id: "ask", type: "agent", agentId: agent.id, prompt: "Hi {{input.name}}" }] };
    await createVersion(admin.token, wf.id, definition);
    await callJson(`/api/v1/agents/${agent.id}`, { method: "PATCH", token: admin.token, body: { status: "inactive" } });
    const res = await callJson(`/api/v1/workflows/${wf.id}/versions`, { token: admin.token, body: { definition } });
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      { path: "definition.steps.0.agentId", message: expect.stringMatching(/inactive/) },
    ]);
  });
});

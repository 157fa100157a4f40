import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const approvalFlow = (extra: Record<string, unknown> = {}) => ({
  steps: [
    { id: "review", type: "approval", approverRoles: ["admin"], ...extra },
    { id: "ship", type: "transform", output: "shipped after {{steps.review.output.decidedBy}}", dependsOn: ["review"] },
  ],
});

const waiting = (e: any) => stepOf(e, "review").status === "waiting";

/** Every page of the caller's inbox (an admin's holds every waiting approval of the platform). */
async function wholeInbox(token: string): Promise<Array<{ executionId: string; [field: string]: unknown }>> {
  const items = [];
  for (let cursor = ""; ; ) {
    const page = (await callJson(`/api/v1/approvals?limit=200${cursor && `&cursor=${cursor}`}`, { token })).body;
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = page.nextCursor;
  }
}

describe("approvals", () => {
  it("waits until approved by a permitted approver; others are refused", async () => {
    const owner = await signIn("user");
    const viewer = await signIn("viewer");
    const admin = await signIn("admin");
    const id = await start(owner.token, await workflowWith(owner.token, approvalFlow()));
    await waitForExecution(owner.token, id, waiting);

    const byViewer = await callJson(`/api/v1/executions/${id}/steps/review/approve`, {
      method: "POST",
      token: viewer.token,
    });
    expect(byViewer.status).toBe(403);
    // The owner may approve their executions in general, but this step wants an admin.
    const byOwner = await callJson(`/api/v1/executions/${id}/steps/review/approve`, {
      method: "POST",
      token: owner.token,
    });
    expect(byOwner.status).toBe(403);
    expect(byOwner.body.error.message).toMatch(/admin/);
    expect((await callJson(`/api/v1/executions/${id}`, { token: owner.token })).body.status).toBe("running");

    const approved = await callJson(`/api/v1/executions/${id}/steps/review/approve`, {
      token: admin.token,
      body: { comment: "ok" },
    });
    expect(approved.status).toBe(200);
    const done = await waitForExecution(owner.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "review").output).toMatchObject({ approved: true, decidedBy: admin.id, comment: "ok" });
    expect(stepOf(done, "ship").output).toBe(`shipped after ${admin.id}`);

    const again = await callJson(`/api/v1/executions/${id}/steps/review/approve`, {
      method: "POST",
      token: admin.token,
    });
    expect(again.status).toBe(409);
    const audits = await query<{ action: string; actor_id: string }>(
      "select action, actor_id from audit_logs where resource_id = $1 and action like 'execution.step.%'",
      [id],
    );
    expect(audits).toEqual([{ action: "execution.step.approve", actor_id: admin.id }]);
  });

  it("fails the step with reason rejected on a rejection", async () => {
    const admin = await signIn("admin");
    const id = await start(admin.token, await workflowWith(admin.token, approvalFlow()));
    await waitForExecution(admin.token, id, waiting);
    const res = await callJson(`/api/v1/executions/${id}/steps/review/reject`, {
      token: admin.token,
      body: { comment: "not now" },
    });
    expect(res.status).toBe(200);
    const done = await waitForExecution(admin.token, id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "review")).toMatchObject({
      status: "failed",
      error: { reason: "rejected", message: "rejected: not now" },
    });
    expect(stepOf(done, "ship").status).toBe("skipped");
  });

  it("fails the step with reason timeout when nobody decides in time", async () => {
    const admin = await signIn("admin");
    const id = await start(admin.token, await workflowWith(admin.token, approvalFlow({ timeoutSeconds: 1 })));
    const done = await waitForExecution(admin.token, id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "review")).toMatchObject({ status: "failed", error: { reason: "timeout" } });
  });

  it("lets any permitted user approve when no roles are named, and answers 404 for unknown steps", async () => {
    const owner = await signIn("user");
    const id = await start(owner.token, await workflowWith(owner.token, { steps: [{ id: "ok", type: "approval" }] }));
    await waitForExecution(owner.token, id, (e) => stepOf(e, "ok").status === "waiting");
    expect(
      (await callJson(`/api/v1/executions/${id}/steps/nope/approve`, { method: "POST", token: owner.token })).status,
    ).toBe(404);
    expect(
      (await callJson(`/api/v1/executions/${id}/steps/ok/approve`, { method: "POST", token: owner.token })).status,
    ).toBe(200);
    expect((await waitForExecution(owner.token, id)).status).toBe("completed");
    const stranger = await signIn("user");
    expect(
      (await callJson(`/api/v1/executions/${id}/steps/ok/approve`, { method: "POST", token: stranger.token })).status,
    ).toBe(404);
  });

  it("pages the inbox oldest first, each waiting approval once", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, { steps: [{ id: "review", type: "approval" }] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await start(owner.token, workflowId));
      await waitForExecution(owner.token, ids[i], waiting);
    }
    const pages: string[][] = [];
    for (let cursor = ""; ; ) {
      const res = await callJson(`/api/v1/approvals?limit=1${cursor && `&cursor=${cursor}`}`, { token: owner.token });
      expect(res.status).toBe(200);
      pages.push(res.body.items.map((item: { executionId: string }) => item.executionId));
      if (!res.body.nextCursor) break;
      cursor = res.body.nextCursor;
    }
    expect(pages.flat()).toEqual(ids);
    expect(pages.every((page) => page.length <= 1)).toBe(true);
  });

  it("lists in the inbox exactly the waiting approvals the caller may decide", async () => {
    const owner = await signIn("user");
    const stranger = await signIn("user");
    const admin = await signIn("admin");
    const anyone = await start(
      owner.token,
      await workflowWith(owner.token, { steps: [{ id: "review", type: "approval" }] }),
    );
    const adminsOnly = await start(owner.token, await workflowWith(owner.token, approvalFlow()));
    for (const id of [anyone, adminsOnly]) await waitForExecution(owner.token, id, waiting);
    const inbox = async (token: string) =>
      (await wholeInbox(token)).map((item) => item.executionId).filter((id) => id === anyone || id === adminsOnly);
    expect(await inbox(owner.token)).toEqual([anyone]);
    expect(await inbox(stranger.token)).toEqual([]);
    expect((await inbox(admin.token)).sort()).toEqual([anyone, adminsOnly].sort());
    expect((await callJson("/api/v1/approvals", { token: (await signIn("viewer")).token })).status).toBe(403);
    const item = (await wholeInbox(admin.token)).find((candidate) => candidate.executionId === adminsOnly);
    expect(item).toMatchObject({ stepId: "review", approverRoles: ["admin"], workflowName: expect.any(String) });
    await callJson(`/api/v1/executions/${anyone}/steps/review/approve`, { token: owner.token, body: {} });
    await waitForExecution(owner.token, anyone);
    expect(await inbox(owner.token)).toEqual([]);
  });
});

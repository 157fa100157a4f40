/**
 * Open streams follow revocations (docs/api.md): a viewer who logs out, whose API token is revoked,
 * who is deactivated, or who loses the role that let them see the execution is disconnected
 * within 60 s, without reconnecting.
 */
import { describe, expect, it } from "vitest";
import { start, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { connect, ticketFor } from "../helpers/stream";
import { signIn } from "../helpers/users";

const WITHIN_MS = 60_000;

function closedWithin(viewer: Awaited<ReturnType<typeof connect>>, ms: number) {
  return Promise.race([
    viewer.closed,
    new Promise<{ code: number; reason: string }>((resolve) =>
      setTimeout(() => resolve({ code: 0, reason: "open" }), ms),
    ),
  ]);
}

describe("open streams after a revocation", () => {
  it("are closed within 60 s after logout, deactivation or a role taken away; others stay open", async () => {
    const admin = await signIn("admin");
    const owner = await signIn("user");
    const id = await start(owner.token, await workflowWith(owner.token, { steps: [{ id: "gate", type: "approval" }] }));

    const leaving = await signIn("viewer");
    const deactivated = await signIn("viewer");
    const demoted = await signIn("admin");
    const staying = await signIn("viewer");
    const watch = async (user: { token: string }) => {
      const viewer = await connect(id, await ticketFor(user.token, id));
      await viewer.waitFor((m) => m.type === "snapshot");
      return viewer;
    };
    const [left, gone, lowered, stays] = await Promise.all([leaving, deactivated, demoted, staying].map(watch));
    // And one watching with a personal API token, revoked on its own.
    const minted = await callJson("/api/v1/auth/api-tokens", { token: staying.token, body: { name: "watcher" } });
    const tokenViewer = await watch({ token: minted.body.token });

    const revokedAt = Date.now();
    expect((await callJson("/api/v1/auth/logout", { method: "POST", token: leaving.token })).status).toBe(204);
    expect((await callJson(`/api/v1/users/${deactivated.id}`, { method: "DELETE", token: admin.token })).status).toBe(
      200,
    );
    const patched = await callJson(`/api/v1/users/${demoted.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { roles: ["user"] },
    });
    expect(patched.status).toBe(200);
    const revoked = await callJson(`/api/v1/auth/api-tokens/${minted.body.id}`, {
      method: "DELETE",
      token: staying.token,
    });
    expect(revoked.status).toBe(204);

    const [a, b, c, d] = await Promise.all(
      [left, gone, lowered, tokenViewer].map((viewer) => closedWithin(viewer, WITHIN_MS)),
    );
    const elapsed = Date.now() - revokedAt;
    expect(a.code).toBe(4401);
    expect(b.code).toBe(4401);
    // A user who is no longer an admin may not see another user's execution (or their session went with the role).
    expect([4401, 4404]).toContain(c.code);
    expect(d.code).toBe(4401);
    expect(elapsed).toBeLessThan(WITHIN_MS);
    // The viewer nobody revoked still gets answers.
    stays.socket.send("ping");
    expect(await stays.waitFor((m) => m === "pong")).toBe("pong");
    stays.close();
  }, 90_000);
});

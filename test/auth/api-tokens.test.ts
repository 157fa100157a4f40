/**
 * Personal API tokens (docs/api.md): shown once and stored hashed, acting with the owner's current
 * roles, and refused at once when revoked, expired, when the owner is deactivated or their roles
 * change. A token cannot mint more tokens.
 */
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const me = (token: string) => callJson("/api/v1/auth/me", { token });

async function tokenFor(sessionToken: string, body: Record<string, unknown> = { name: "ci" }) {
  const res = await callJson("/api/v1/auth/api-tokens", { token: sessionToken, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string; token: string; expiresAt: string };
}

describe("personal API tokens", () => {
  it("are shown once, stored as a hash, and act as their owner", async () => {
    const user = await signIn("user");
    const created = await tokenFor(user.token, { name: "laptop cli", expiresInDays: 30 });
    expect(created.token).toMatch(/^ipa_[A-Za-z0-9_-]{43}$/);
    const days = (new Date(created.expiresAt).getTime() - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    const [row] = await query<{ row: string }>("select t::text as row from api_tokens t where id = $1", [created.id]);
    expect(row.row).not.toContain(created.token);
    const listed = await callJson("/api/v1/auth/api-tokens", { token: user.token });
    expect(listed.body.items.map((t: { id: string }) => t.id)).toEqual([created.id]);
    expect(JSON.stringify(listed.body)).not.toContain(created.token);
    const answer = await me(created.token);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: user.id, roles: ["user"] });
  });

  it("are refused at once when revoked; another user's token is a 404", async () => {
    const user = await signIn("user");
    const created = await tokenFor(user.token);
    const stranger = await signIn("user");
    const foreign = await callJson(`/api/v1/auth/api-tokens/${created.id}`, {
      method: "DELETE",
      token: stranger.token,
    });
    expect(foreign.status).toBe(404);
    expect((await me(created.token)).status).toBe(200);
    expect(
      (await callJson(`/api/v1/auth/api-tokens/${created.id}`, { method: "DELETE", token: user.token })).status,
    ).toBe(204);
    expect((await me(created.token)).status).toBe(401);
  });

  it("are refused at once when the owner is deactivated or their roles change", async () => {
    const admin = await signIn("admin");
    const deactivated = await signIn("user");
    const first = await tokenFor(deactivated.token);
    expect((await callJson(`/api/v1/users/${deactivated.id}`, { method: "DELETE", token: admin.token })).status).toBe(
      200,
    );
    expect((await me(first.token)).status).toBe(401);

    const promoted = await signIn("viewer");
    const second = await tokenFor(promoted.token);
    const patched = await callJson(`/api/v1/users/${promoted.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { roles: ["admin"] },
    });
    expect(patched.status).toBe(200);
    // Revoked, not raised: a token minted as a viewer does not become an admin's.
    expect((await me(second.token)).status).toBe(401);
  });

  it("expire, cannot mint further tokens, and are revoked by a logout made with them", async () => {
    const user = await signIn("user");
    const expiring = await tokenFor(user.token);
    await query("update api_tokens set expires_at = now() - interval '1 second' where id = $1", [expiring.id]);
    expect((await me(expiring.token)).status).toBe(401);

    const live = await tokenFor(user.token);
    const minted = await callJson("/api/v1/auth/api-tokens", { token: live.token, body: { name: "offspring" } });
    expect(minted.status).toBe(403);
    expect((await callJson("/api/v1/auth/logout", { method: "POST", token: live.token })).status).toBe(204);
    expect((await me(live.token)).status).toBe(401);
    expect((await me(user.token)).status).toBe(200);
  });

  it("refuse a lifetime outside 1-365 days and unknown fields (422), and malformed tokens (401)", async () => {
    const user = await signIn("user");
    for (const body of [
      { name: "x", expiresInDays: 0 },
      { name: "x", expiresInDays: 366 },
      { name: "x", scope: "all" },
    ]) {
      expect((await callJson("/api/v1/auth/api-tokens", { token: user.token, body })).status).toBe(422);
    }
    expect((await me("ipa_short")).status).toBe(401);
    expect((await me(`ipa_${"A".repeat(43)}`)).status).toBe(401);
  });
});

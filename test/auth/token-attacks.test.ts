import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { permissionsFor } from "../../src/auth/permissions";
import { toBase64Url, utf8 } from "../../src/crypto/encoding";
import { query } from "../helpers/db";
import { callJson } from "../helpers/http";
import { createUser, login, mintTokens, signIn } from "../helpers/users";

const me = (token?: string, raw?: string) =>
  callJson("/api/v1/auth/me", raw !== undefined ? { headers: { authorization: raw } } : { token });

function decodePart(part: string) {
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
}

function encodePart(value: unknown) {
  return toBase64Url(utf8(JSON.stringify(value)));
}

/** A correctly signed token for a real session, with chosen claims and options. */
async function forge(
  overrides: { iss?: string; aud?: string; exp?: number; key?: string; alg?: string; typ?: string | null } = {},
) {
  const user = await createUser("admin");
  const { token } = await mintTokens(user);
  const claims = decodePart(token.split(".")[1]);
  const jwt = new SignJWT({ ...claims, iss: overrides.iss ?? claims.iss, aud: overrides.aud ?? claims.aud })
    .setProtectedHeader({
      alg: overrides.alg ?? "HS256",
      ...(overrides.typ === null ? {} : { typ: overrides.typ ?? "JWT" }),
    })
    .setExpirationTime(overrides.exp ?? claims.exp);
  return jwt.sign(utf8(overrides.key ?? env.JWT_SECRET));
}

describe("access token attacks", () => {
  it("refuses a missing token", async () => {
    const res = await me();
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("refuses malformed tokens and schemes", async () => {
    expect((await me(undefined, "Bearer not-a-jwt")).status).toBe(401);
    expect((await me(undefined, "Basic dXNlcjpwYXNz")).status).toBe(401);
    expect((await me(undefined, "Bearer a.b.c")).status).toBe(401);
  });

  it("refuses alg: none", async () => {
    const { token } = await signIn("admin");
    const [, payload] = token.split(".");
    const unsigned = `${encodePart({ alg: "none", typ: "JWT" })}.${payload}.`;
    expect((await me(unsigned)).status).toBe(401);
  });

  it("refuses a token signed with another key", async () => {
    expect((await me(await forge({ key: "another-secret-that-is-also-32-bytes-long!!" }))).status).toBe(401);
  });

  it("refuses tampered claims (roles raised without re-signing)", async () => {
    const viewer = await signIn("viewer");
    const [header, payload, signature] = viewer.token.split(".");
    const claims = decodePart(payload);
    const raised = encodePart({ ...claims, roles: ["admin"], permissions: permissionsFor(["admin"]) });
    const res = await callJson("/api/v1/users", { token: `${header}.${raised}.${signature}` });
    expect(res.status).toBe(401);
  });

  it("refuses an expired token", async () => {
    expect((await me(await forge({ exp: Math.floor(Date.now() / 1000) - 60 }))).status).toBe(401);
  });

  it("refuses a wrong issuer or audience", async () => {
    expect((await me(await forge({ iss: "someone-else" }))).status).toBe(401);
    expect((await me(await forge({ aud: "another-api" }))).status).toBe(401);
  });

  it("refuses a token of another type signed with the same key (typ is pinned)", async () => {
    expect((await me(await forge({ typ: null }))).status).toBe(401);
    expect((await me(await forge({ typ: "refresh+jwt" }))).status).toBe(401);
  });

  it("accepts the same forged shape when everything is right (the attacks above are what fail)", async () => {
    expect((await me(await forge())).status).toBe(200);
  });

  it("refuses a token after logout", async () => {
    const user = await createUser("user");
    const pair = (await login({ email: user.email })).body;
    expect((await me(pair.accessToken)).status).toBe(200);
    await callJson("/api/v1/auth/logout", { method: "POST", token: pair.accessToken });
    expect((await me(pair.accessToken)).status).toBe(401);
  });

  it("refuses a deactivated user's still-unexpired token at once", async () => {
    const admin = await signIn("admin");
    const victim = await signIn("user");
    expect((await me(victim.token)).status).toBe(200);
    const res = await callJson(`/api/v1/users/${victim.id}`, { method: "DELETE", token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body.isActive).toBe(false);
    expect((await me(victim.token)).status).toBe(401);
  });

  it("refuses a deactivation made directly in the database (shared state, not isolate memory)", async () => {
    const victim = await signIn("user");
    expect((await me(victim.token)).status).toBe(200);
    await query("update users set is_active = false where id = $1", [victim.id]);
    expect((await me(victim.token)).status).toBe(401);
  });

  it("refuses a reused refresh token", async () => {
    const user = await createUser("user");
    const pair = (await login({ email: user.email })).body;
    expect((await callJson("/api/v1/auth/refresh", { body: { refreshToken: pair.refreshToken } })).status).toBe(200);
    expect((await callJson("/api/v1/auth/refresh", { body: { refreshToken: pair.refreshToken } })).status).toBe(401);
  });
});

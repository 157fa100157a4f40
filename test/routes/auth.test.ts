import { describe, expect, it } from "vitest";
import { callJson } from "../helpers/http";
import { createUser, login, TEST_PASSWORD } from "../helpers/users";

describe("auth routes", () => {
  it("logs in by email or username and returns a token pair", async () => {
    const user = await createUser("user");
    const byEmail = await login({ email: user.email.toUpperCase() });
    expect(byEmail.status).toBe(200);
    expect(byEmail.body).toMatchObject({ tokenType: "Bearer", expiresIn: 900, user: { id: user.id, roles: ["user"] } });
    expect(byEmail.body.user.passwordHash).toBeUndefined();
    expect(byEmail.headers.get("cache-control")).toBe("no-store");

    const byUsername = await login({ username: user.username });
    expect(byUsername.status).toBe(200);

    const me = await callJson("/api/v1/auth/me", { token: byUsername.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, email: user.email });
    expect(me.body.permissions).toContain("workflows:create");
    expect(me.body.lastLoginAt).not.toBeNull();
  });

  it("refuses a wrong password and an unknown user alike", async () => {
    const user = await createUser("user");
    const wrong = await login({ email: user.email }, "not-the-password");
    const unknown = await login({ email: "nobody@example.test" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
  });

  it("refuses an inactive user even with the right password", async () => {
    const user = await createUser("user", { active: false });
    expect((await login({ email: user.email })).status).toBe(401);
  });

  it("locks an account after 5 failures in 15 minutes with 429 and Retry-After, across requests", async () => {
    const user = await createUser("user");
    for (let i = 0; i < 5; i++) expect((await login({ email: user.email }, "wrong-password")).status).toBe(401);
    const locked = await login({ email: user.email }, TEST_PASSWORD);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(800);
    expect(locked.body.error.code).toBe("TOO_MANY_REQUESTS");
  });

  it("rotates refresh tokens, and a reused one revokes the whole session", async () => {
    const user = await createUser("user");
    const first = (await login({ email: user.email })).body;
    const second = await callJson("/api/v1/auth/refresh", { body: { refreshToken: first.refreshToken } });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect((await callJson("/api/v1/auth/me", { token: second.body.accessToken })).status).toBe(200);

    const reuse = await callJson("/api/v1/auth/refresh", { body: { refreshToken: first.refreshToken } });
    expect(reuse.status).toBe(401);
    // The family is revoked: the legitimate newer token and its access token die with it.
    expect((await callJson("/api/v1/auth/refresh", { body: { refreshToken: second.body.refreshToken } })).status).toBe(
      401,
    );
    expect((await callJson("/api/v1/auth/me", { token: second.body.accessToken })).status).toBe(401);
  });

  it("logout revokes the access token and the session's refresh token", async () => {
    const user = await createUser("user");
    const pair = (await login({ email: user.email })).body;
    expect((await callJson("/api/v1/auth/logout", { method: "POST", token: pair.accessToken })).status).toBe(204);
    expect((await callJson("/api/v1/auth/me", { token: pair.accessToken })).status).toBe(401);
    expect((await callJson("/api/v1/auth/refresh", { body: { refreshToken: pair.refreshToken } })).status).toBe(401);
  });

  it("needs exactly one of email or username", async () => {
    const res = await callJson("/api/v1/auth/login", { body: { password: "x" } });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe("email");
  });

  it("keeps a browser's refresh token in an httpOnly, Secure, SameSite=Strict cookie scoped to the auth routes", async () => {
    const user = await createUser("user");
    const res = await callJson("/api/v1/auth/login", {
      body: { email: user.email, password: TEST_PASSWORD, refreshIn: "cookie" },
    });
    expect(res.status).toBe(200);
    expect(res.body.refreshToken).toBeUndefined();
    const [cookie, marker] = res.headers.getSetCookie();
    expect(cookie).toMatch(
      /^ipa_refresh=[^;]+; Max-Age=2592000; Path=\/api\/v1\/auth; HttpOnly; Secure; SameSite=Strict$/,
    );
    // A readable marker, no secret in it, so the dashboard knows whether there is a session to restore.
    expect(marker).toBe("ipa_session=1; Max-Age=2592000; Path=/; Secure; SameSite=Strict");
    const jar = cookie.split(";")[0];
    const rotated = await callJson("/api/v1/auth/refresh", { method: "POST", headers: { cookie: jar } });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).toBeUndefined();
    const next = (rotated.headers.get("set-cookie") ?? "").split(";")[0];
    expect(next).not.toBe(jar);
    // The rotated cookie replayed revokes the session, as a rotated body token does.
    expect((await callJson("/api/v1/auth/refresh", { method: "POST", headers: { cookie: jar } })).status).toBe(401);
    const refused = await callJson("/api/v1/auth/refresh", { method: "POST", headers: { cookie: next } });
    expect(refused.status).toBe(401);
    // The refusal clears the dead cookie and the page's session marker.
    expect(refused.headers.getSetCookie().map((c) => c.split(";")[0])).toEqual(["ipa_refresh=", "ipa_session="]);
    expect((await callJson("/api/v1/auth/refresh", { method: "POST" })).status).toBe(401);
  });

  it("clears the refresh cookie on logout", async () => {
    const user = await createUser("user");
    const res = await callJson("/api/v1/auth/login", {
      body: { email: user.email, password: TEST_PASSWORD, refreshIn: "cookie" },
    });
    const out = await callJson("/api/v1/auth/logout", { method: "POST", token: res.body.accessToken });
    expect(out.status).toBe(204);
    const [refresh, marker] = out.headers.getSetCookie();
    expect(refresh).toMatch(/^ipa_refresh=; Max-Age=0; Path=\/api\/v1\/auth/);
    expect(marker).toMatch(/^ipa_session=; Max-Age=0; Path=\//);
  });
});

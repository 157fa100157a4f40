import { describe, expect, it } from "vitest";
import { callJson } from "../helpers/http";
import { login, signIn, uniqueName } from "../helpers/users";

const newUser = (roles = ["user"]) => {
  const username = uniqueName("person");
  return {
    email: `${username}@example.test`,
    username,
    password: "a-strong-password-123",
    fullName: "A Person",
    roles,
  };
};

describe("users", () => {
  it("creates a user who can then log in, and never shows the password hash", async () => {
    const admin = await signIn("admin");
    const body = newUser(["viewer"]);
    const created = await callJson("/api/v1/users", { token: admin.token, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: body.email, roles: ["viewer"], isActive: true });
    expect(JSON.stringify(created.body)).not.toMatch(/password/i);
    expect((await login({ email: body.email }, body.password)).status).toBe(200);
  });

  it("refuses duplicate emails and usernames with 409", async () => {
    const admin = await signIn("admin");
    const body = newUser();
    await callJson("/api/v1/users", { token: admin.token, body });
    const again = await callJson("/api/v1/users", {
      token: admin.token,
      body: { ...body, username: uniqueName("other") },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("EMAIL_TAKEN");
  });

  it("refuses weak passwords", async () => {
    const admin = await signIn("admin");
    const res = await callJson("/api/v1/users", { token: admin.token, body: { ...newUser(), password: "short" } });
    expect(res.status).toBe(422);
    expect(res.body.error.details[0].path).toBe("password");
  });

  it("ends a user's sessions when their roles change", async () => {
    const admin = await signIn("admin");
    const user = await signIn("user");
    const res = await callJson(`/api/v1/users/${user.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { roles: ["viewer"] },
    });
    expect(res.body.roles).toEqual(["viewer"]);
    expect((await callJson("/api/v1/auth/me", { token: user.token })).status).toBe(401);
  });

  it("will not let an admin lock themselves out", async () => {
    const admin = await signIn("admin");
    const res = await callJson(`/api/v1/users/${admin.id}`, { method: "DELETE", token: admin.token });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("SELF_LOCKOUT");
  });

  it("lists users by role with pagination", async () => {
    const admin = await signIn("admin");
    const page = await callJson("/api/v1/users?role=admin&limit=2", { token: admin.token });
    expect(page.status).toBe(200);
    expect(page.body.items.length).toBeLessThanOrEqual(2);
    expect(page.body.items.every((u: { roles: string[] }) => u.roles.includes("admin"))).toBe(true);
    expect(page.body.nextCursor).not.toBeNull();
  });
});

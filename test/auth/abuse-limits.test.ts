/**
 * Guessing and flooding: the login lockout holds under concurrency (per account, email and
 * username alike, and per client IP), unknown identifiers grow nothing, and the per-user and
 * per-IP rate limits answer 429 RATE_LIMITED with Retry-After beyond their budgets.
 */
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { callJson } from "../helpers/http";
import { createUser, login, signIn, TEST_PASSWORD, uniqueName } from "../helpers/users";
import { freshMinute } from "../helpers/waits";

const WRONG = "wrong-password-123";

/** A client address of its own per call (TEST-NET-2, which no other test uses), so per-IP budgets never mix. */
let lastHost = Math.floor(Math.random() * 200);
const freshIp = () => `198.51.100.${(lastHost++ % 254) + 1}`;

const loginFrom = (ip: string | null, identifier: { email?: string; username?: string }, password = WRONG) =>
  callJson("/api/v1/auth/login", {
    body: { ...identifier, password },
    headers: ip ? { "cf-connecting-ip": ip } : {},
  });

function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const status of statuses) out[status] = (out[status] ?? 0) + 1;
  return out;
}

describe("login lockout under concurrency", () => {
  it("answers 40 concurrent wrong guesses with 5 × 401 and 35 × 429, checking only 5 passwords", async () => {
    const user = await createUser("user");
    const answers = await Promise.all(Array.from({ length: 40 }, () => loginFrom(null, { email: user.email })));
    expect(tally(answers.map((a) => a.status))).toEqual({ 401: 5, 429: 35 });
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(refused.body.error.code).toBe("TOO_MANY_REQUESTS");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // Locked now: even the right password is refused until the lock ends.
    expect((await login({ email: user.email })).status).toBe(429);
    const [row] = await query<{ failures: number; in_flight: number }>(
      "select failures, in_flight from login_failures where identifier = $1",
      [`account:${user.id}`],
    );
    expect(row).toEqual({ failures: 5, in_flight: 0 });
  });

  it("counts the email and the username as one account", async () => {
    const user = await createUser("user");
    for (let i = 0; i < 3; i++) expect((await loginFrom(null, { email: user.email })).status).toBe(401);
    for (let i = 0; i < 2; i++) expect((await loginFrom(null, { username: user.username })).status).toBe(401);
    expect((await login({ username: user.username })).status).toBe(429);
    expect((await login({ email: user.email.toUpperCase() })).status).toBe(429);
  });

  it("locks a client IP that guesses across accounts, at four times the account limit", async () => {
    const ip = freshIp();
    const users = await Promise.all(Array.from({ length: 7 }, () => createUser("user")));
    const statuses: number[] = [];
    // Three guesses per account stay under each account's limit; the IP's 20 run out.
    for (const user of users)
      for (let i = 0; i < 3; i++) statuses.push((await loginFrom(ip, { email: user.email })).status);
    expect(tally(statuses)).toEqual({ 401: 20, 429: 1 });
    const fresh = await createUser("user");
    expect((await loginFrom(ip, { email: fresh.email }, TEST_PASSWORD)).status).toBe(429);
    // The same account from another address is not locked.
    expect((await loginFrom(freshIp(), { email: fresh.email }, TEST_PASSWORD)).status).toBe(200);
  });

  it("lets unknown identifiers grow nothing but their client's one row", async () => {
    // Rows keyed by anything but a real account or a client address: what an unknown identifier
    // would leave (other files add account and client rows at the same time, so the table's size is no measure).
    const count = async () =>
      Number(
        (
          await query<{ n: string }>(
            "select count(*) as n from login_failures where identifier not like 'ip:%' and identifier not in (select 'account:' || id from users)",
          )
        )[0].n,
      );
    const before = await count();
    for (let i = 0; i < 12; i++) {
      expect((await loginFrom(null, { email: `${uniqueName("nobody")}@example.test` })).status).toBe(401);
    }
    expect(await count()).toBe(before);
    const ip = freshIp();
    for (let i = 0; i < 10; i++) await loginFrom(ip, { username: uniqueName("nobody") });
    expect(await count()).toBe(before);
    const clientRows = await query("select 1 from login_failures where identifier = $1", [`ip:${ip}`]);
    expect(clientRows).toHaveLength(1);
  });
});

describe("rate limits", () => {
  it("lets one user make 600 requests a minute: a burst of 2,000 gets 600 answers and 1,400 × 429", async () => {
    const user = await signIn("viewer");
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    await freshMinute(40_000);
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 100 }, () => callJson("/api/v1/auth/me", { token: user.token })),
      );
      for (const answer of answers) {
        statuses.push(answer.status);
        if (answer.status === 429) {
          expect(answer.body.error.code).toBe("RATE_LIMITED");
          retryAfter = answer.headers.get("retry-after");
        }
      }
    }
    expect(tally(statuses)).toEqual({ 200: 600, 429: 1400 });
    expect(retryAfter).toBe("60");
    // Another user is not slowed by the first one's flood.
    expect((await callJson("/api/v1/auth/me", { token: (await signIn("viewer")).token })).status).toBe(200);
  });

  it("lets one client IP make 60 unauthenticated requests a minute to login, refresh and hooks", async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    await freshMinute(20_000);
    for (let i = 0; i < 80; i++) {
      const answer = await callJson("/api/v1/auth/refresh", {
        body: { refreshToken: "not-a-refresh-token" },
        headers: { "cf-connecting-ip": ip },
      });
      statuses.push(answer.status);
    }
    expect(tally(statuses)).toEqual({ 401: 60, 429: 20 });
    const hook = await callJson(`/api/v1/hooks/${crypto.randomUUID()}`, {
      body: {},
      headers: { "cf-connecting-ip": ip },
    });
    expect(hook.status).toBe(429);
    expect(hook.headers.get("retry-after")).toBe("60");
  });
});

/**
 * Login lockout (docs/api.md, docs/operations.md): LOGIN_MAX_FAILURES failures within 15 minutes lock an account (its
 * email and username are one account) for LOGIN_LOCK_SECONDS; a client IP gets four times the
 * budget, across accounts (an IPv6 client by its /64). A guess is reserved before any password hash is computed, under row
 * locks, so guesses made concurrently beyond the limit are refused (429) without being checked.
 * Unknown identifiers count only against the IP, so they cannot grow the table.
 */
import { and, inArray, isNull, or, sql } from "drizzle-orm";
import type { Settings } from "../config";
import type { Database, Queryable } from "../db/client";
import { loginFailures } from "../db/schema";
import { TooManyRequestsError } from "../errors";
import { clientKey } from "../net/client-address";

export const FAILURE_WINDOW_SECONDS = 15 * 60;
/** An IP may fail this many times the account limit (many people behind one NAT). */
const IP_FACTOR = 4;

export interface GuessKeys {
  accountId: string | null;
  ip: string | null;
}

interface Key {
  identifier: string;
  limit: number;
}

function keysOf(config: Settings, guess: GuessKeys): Key[] {
  const keys: Key[] = [];
  if (guess.accountId) keys.push({ identifier: `account:${guess.accountId}`, limit: config.LOGIN_MAX_FAILURES });
  if (guess.ip) keys.push({ identifier: `ip:${clientKey(guess.ip)}`, limit: config.LOGIN_MAX_FAILURES * IP_FACTOR });
  return keys;
}

/** Reserves one guess on every key, or throws 429 (locked, or the limit already taken by guesses in flight). */
export async function reserveGuess(db: Database, config: Settings, guess: GuessKeys): Promise<void> {
  const keys = keysOf(config, guess);
  if (keys.length === 0) return;
  const identifiers = keys.map((key) => key.identifier);
  const refusal = await db.transaction(async (tx) => {
    await tx
      .insert(loginFailures)
      .values(keys.map((key) => ({ identifier: key.identifier })))
      .onConflictDoNothing();
    // Restart windows that have passed (what is in flight from then counts as nothing: a crashed check).
    await tx
      .update(loginFailures)
      .set({ failures: 0, inFlight: 0, windowStartedAt: sql`now()` })
      .where(
        and(
          inArray(loginFailures.identifier, identifiers),
          sql`${loginFailures.windowStartedAt} < now() - make_interval(secs => ${FAILURE_WINDOW_SECONDS})`,
          or(isNull(loginFailures.lockedUntil), sql`${loginFailures.lockedUntil} < now()`),
        ),
      );
    const rows = await tx
      .select()
      .from(loginFailures)
      .where(inArray(loginFailures.identifier, identifiers))
      .for("update");
    for (const key of keys) {
      const row = rows.find((candidate) => candidate.identifier === key.identifier);
      const lockedMs = row?.lockedUntil ? row.lockedUntil.getTime() - Date.now() : 0;
      if (lockedMs > 0) return lockedMs / 1000;
      if (row && row.failures + row.inFlight >= key.limit) return FAILURE_WINDOW_SECONDS;
    }
    await tx
      .update(loginFailures)
      .set({ inFlight: sql`${loginFailures.inFlight} + 1` })
      .where(inArray(loginFailures.identifier, identifiers));
    return null;
  });
  if (refusal !== null) throw new TooManyRequestsError("Too many failed logins; try again later", refusal);
}

/** The reserved guess was wrong: count it, and lock the keys that reached their limit. */
export async function recordFailure(db: Queryable, config: Settings, guess: GuessKeys): Promise<void> {
  for (const key of keysOf(config, guess)) {
    await db.execute(sql`
      update login_failures set
        in_flight = greatest(in_flight - 1, 0),
        failures = failures + 1,
        locked_until = case when failures + 1 >= ${key.limit}
          then now() + make_interval(secs => ${config.LOGIN_LOCK_SECONDS}) else locked_until end
      where identifier = ${key.identifier}`);
  }
}

/** The reserved guess was right: the account starts afresh; the IP keeps its count. */
export async function recordSuccess(db: Queryable, config: Settings, guess: GuessKeys): Promise<void> {
  for (const key of keysOf(config, guess)) {
    if (key.identifier.startsWith("account:"))
      await db.execute(sql`delete from login_failures where identifier = ${key.identifier}`);
    else
      await db.execute(
        sql`update login_failures set in_flight = greatest(in_flight - 1, 0) where identifier = ${key.identifier}`,
      );
  }
}

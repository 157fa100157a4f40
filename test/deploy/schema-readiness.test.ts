/**
 * /health/ready tells a database whose schema is behind the code (a deploy that skipped the
 * migrations) from one that is current. The behind and ahead cases change drizzle's migration
 * record inside a transaction that is rolled back, so no other test sees them.
 */
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import journal from "../../migrations/meta/_journal.json";
import { schemaState } from "../../src/db/schema-version";
import { withDb } from "../helpers/db";
import { callJson } from "../helpers/http";

class RolledBack extends Error {}

const [previous, newest] = journal.entries.slice(-2).map((entry) => entry.tag);

/** What schemaState reads after `change`, which never commits. */
async function stateAfter(change: string) {
  let seen: Awaited<ReturnType<typeof schemaState>> | undefined;
  await withDb(({ db }) =>
    db
      .transaction(async (tx) => {
        await tx.execute(sql.raw(change));
        seen = await schemaState(tx as never);
        throw new RolledBack();
      })
      .catch((error) => {
        if (!(error instanceof RolledBack)) throw error;
      }),
  );
  return seen;
}

describe("schema readiness", () => {
  it("reports the schema current when every migration the code ships is applied", async () => {
    const res = await callJson("/health/ready");
    expect(res.status).toBe(200);
    expect(res.body.checks).toContainEqual({ name: "schema", ok: true, severity: "critical" });
  });

  it("tells a database that lacks the newest migration, naming what is applied and what is expected", async () => {
    const state = await stateAfter(
      "delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)",
    );
    expect(state).toEqual({ state: "behind", applied: previous, expected: newest });
  });

  it("tells a database migrated past the code (an older version still serving)", async () => {
    const state = await stateAfter(
      "insert into drizzle.__drizzle_migrations (hash, created_at) values ('future', 4102444800000)",
    );
    expect(state).toEqual({ state: "ahead", expected: newest });
  });
});

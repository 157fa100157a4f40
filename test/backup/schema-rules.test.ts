/** Rules the backups rely on, checked against the migrated schema so a new migration cannot break them. */
import { describe, expect, it } from "vitest";
import { EXCLUDED_FROM_DATA } from "../../src/backup/catalog-dump";
import { query } from "../helpers/db";

describe("schema rules for backups", () => {
  it("makes every foreign key deferrable (incrementals apply rows in one deferred transaction)", async () => {
    const rigid = await query<{ conname: string }>(
      "select conname from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace and not condeferrable",
    );
    expect(rigid).toEqual([]);
  });

  it("feeds the change log from every backed-up table, and every backed-up table has a primary key", async () => {
    const tables = await query<{ relname: string; has_pk: boolean; has_trigger: boolean }>(
      `select c.relname,
         exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary) as has_pk,
         exists (select 1 from pg_trigger t where t.tgrelid = c.oid and t.tgname = c.relname || '_record_change') as has_trigger
       from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition`,
    );
    for (const table of tables.filter((t) => !EXCLUDED_FROM_DATA.has(t.relname))) {
      expect(table, table.relname).toMatchObject({ has_pk: true, has_trigger: true });
    }
  });
});

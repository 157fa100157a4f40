/**
 * Re-encryption (daily, 05:00 UTC): every sealed field still under an older keyring key is sealed
 * again under ENCRYPTION_KEY_ID — agents' API keys, workflows' webhook secrets, platform and
 * workflow secrets, tools' header values — so an old key can be retired (removed from
 * ENCRYPTION_KEYS) once this has run. Rows are read in pages and written only if unchanged since
 * they were read, so a value saved meanwhile is never overwritten with the old one. Backups keep
 * the key they were made with until retention removes them.
 */
import { type SQL, sql } from "drizzle-orm";
import { agentKeyBinding } from "../agents/sealed-key";
import { resealHeaders, type StoredHeaders } from "../agents/tools/tool-headers";
import type { Settings } from "../config";
import type { FieldBinding, Keyring } from "../crypto/keyring";
import { keyringOf } from "../crypto/keyring-of";
import type { Database } from "../db/client";
import { logEvent } from "../observability/log";
import { secretBinding } from "../secrets/sealed";
import { webhookSecretBinding } from "../services/webhooks";

const PAGE = 200;

/** A text column holding one sealed value per row. */
interface SealedColumn {
  table: string;
  column: string;
  binding: (rowId: string) => FieldBinding;
}

const SEALED_COLUMNS = {
  agents: { table: "agents", column: "api_key", binding: agentKeyBinding },
  workflows: { table: "workflows", column: "webhook_secret", binding: webhookSecretBinding },
  secrets: { table: "secrets", column: "value", binding: secretBinding },
} satisfies Record<string, SealedColumn>;

export type Reencrypted = Record<keyof typeof SEALED_COLUMNS | "tools", number>;

export async function reencryptAll(db: Database, config: Settings): Promise<Reencrypted> {
  const keyring = keyringOf(config);
  const done: Reencrypted = { agents: 0, workflows: 0, secrets: 0, tools: 0 };
  for (const [name, field] of Object.entries(SEALED_COLUMNS) as Array<[keyof typeof SEALED_COLUMNS, SealedColumn]>) {
    done[name] = await reencryptColumn(db, keyring, field);
  }
  done.tools = await reencryptToolHeaders(db, keyring);
  const total = Object.values(done).reduce((sum, n) => sum + n, 0);
  if (total > 0) logEvent("info", "reencrypted", { keyId: keyring.currentKeyId, ...done });
  return done;
}

async function reencryptColumn(db: Database, keyring: Keyring, field: SealedColumn): Promise<number> {
  const table = sql.identifier(field.table);
  const column = sql.identifier(field.column);
  let count = 0;
  await forEachPage<{ id: string; sealed: string }>(
    db,
    (after) => sql`select id, ${column} as sealed from ${table}
      where ${column} is not null and id > ${after} order by id limit ${PAGE}`,
    async (row) => {
      const next = await keyring.reencrypt(row.sealed, field.binding(row.id));
      if (!next) return;
      const updated = await db.execute(
        sql`update ${table} set ${column} = ${next} where id = ${row.id} and ${column} = ${row.sealed}`,
      );
      count += updated.rowCount ?? 0;
    },
  );
  return count;
}

async function reencryptToolHeaders(db: Database, keyring: Keyring): Promise<number> {
  let count = 0;
  await forEachPage<{ id: string; headers: StoredHeaders }>(
    db,
    (after) => sql`select id, configuration->'headers' as headers from agent_tools
      where configuration ? 'headers' and id > ${after} order by id limit ${PAGE}`,
    async (row) => {
      const next = await resealHeaders(row.headers, keyring, row.id);
      if (!next) return;
      const updated = await db.execute(sql`update agent_tools
        set configuration = jsonb_set(configuration, '{headers}', ${JSON.stringify(next)}::jsonb)
        where id = ${row.id} and configuration->'headers' = ${JSON.stringify(row.headers)}::jsonb`);
      count += updated.rowCount ?? 0;
    },
  );
  return count;
}

async function forEachPage<Row extends { id: string }>(
  db: Database,
  page: (after: string) => SQL,
  visit: (row: Row) => Promise<void>,
): Promise<void> {
  for (let after = "00000000-0000-0000-0000-000000000000"; ; ) {
    const rows = (await db.execute(page(after))).rows as Row[];
    for (const row of rows) await visit(row);
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1].id;
  }
}

/** Agents (shared by every role; admins change them): CRUD with the API key kept encrypted. */

import { and, eq, ne, sql } from "drizzle-orm";
import {
  type AgentConfigurationInput,
  AgentConfigurationSchema,
  type StoredAgentConfiguration,
} from "../agents/configuration";
import { agentKeyBinding } from "../agents/sealed-key";
import { recordAudit } from "../audit/record";
import type { Settings } from "../config";
import { keyringOf } from "../crypto/keyring-of";
import type { Database, Queryable } from "../db/client";
import { asConflict, type UniqueConflicts } from "../db/errors";
import { newestFirst } from "../db/newest-first";
import { agents } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { NotFoundError, ValidationError, zodDetails } from "../errors";
import { decodeCursor, type Page, toPage } from "./pagination";

export type AgentRow = typeof agents.$inferSelect;
export type AgentType = AgentRow["type"];
export type AgentStatus = AgentRow["status"];

export interface AgentView {
  id: string;
  name: string;
  description: string | null;
  type: AgentType;
  status: AgentStatus;
  configuration: StoredAgentConfiguration & { apiKeySet: boolean };
  systemPrompt: string | null;
  modelName: string | null;
  temperature: number;
  maxTokens: number;
  createdAt: string;
  updatedAt: string;
}

export interface AgentInput {
  name: string;
  description?: string | null;
  type: AgentType;
  status?: "active" | "inactive";
  configuration: AgentConfigurationInput;
  systemPrompt?: string | null;
  modelName?: string | null;
  temperature?: number;
  maxTokens?: number;
}

export type AgentChanges = Partial<AgentInput>;

export function toAgentView(row: AgentRow): AgentView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    type: row.type,
    status: row.status,
    configuration: { ...(row.configuration as StoredAgentConfiguration), apiKeySet: row.apiKey !== null },
    systemPrompt: row.systemPrompt,
    modelName: row.modelName,
    temperature: Number(row.temperature),
    maxTokens: row.maxTokens,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function listAgents(
  db: Database,
  options: { limit: number; cursor?: string; status?: AgentStatus; type?: AgentType },
): Promise<Page<AgentView>> {
  const after = decodeCursor(options.cursor);
  const rows = await db
    .select()
    .from(agents)
    .where(
      and(
        options.status ? eq(agents.status, options.status) : ne(agents.status, "archived"),
        options.type ? eq(agents.type, options.type) : undefined,
        after ? sql`(${agents.createdAt}, ${agents.id}) < (${after.at}::timestamptz, ${after.id}::uuid)` : undefined,
      ),
    )
    .orderBy(...newestFirst(agents.createdAt, agents.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (r) => ({ at: r.createdAt.toISOString(), id: r.id }), toAgentView);
}

export async function getAgent(db: Queryable, id: string): Promise<AgentRow> {
  const [row] = await db.select().from(agents).where(eq(agents.id, id));
  if (!row) throw new NotFoundError("Agent");
  return row;
}

export async function createAgent(
  db: Database,
  config: Settings,
  audit: AuditContext,
  input: AgentInput,
): Promise<AgentView> {
  const id = crypto.randomUUID();
  const { stored, apiKey } = await splitConfiguration(config, id, input.configuration, null);
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx
        .insert(agents)
        .values({
          id,
          name: input.name,
          description: input.description ?? null,
          type: input.type,
          status: input.status ?? "active",
          configuration: stored,
          apiKey,
          systemPrompt: input.systemPrompt ?? null,
          modelName: input.modelName ?? null,
          temperature: input.temperature,
          maxTokens: input.maxTokens,
          createdBy: audit.actorId,
        })
        .returning();
      const view = toAgentView(row);
      await recordAudit(tx, audit, { action: "agent.create", resourceType: "agent", resourceId: id, after: view });
      return view;
    });
  } catch (error) {
    throw asConflict(error, CONFLICTS);
  }
}

export async function updateAgent(
  db: Database,
  config: Settings,
  audit: AuditContext,
  id: string,
  changes: AgentChanges,
): Promise<AgentView> {
  try {
    return await changeAgent(db, audit, id, "agent.update", async (before) => {
      const split = changes.configuration
        ? await splitConfiguration(config, id, changes.configuration, before.apiKey)
        : undefined;
      return {
        name: changes.name,
        description: changes.description,
        type: changes.type,
        status: changes.status,
        configuration: split?.stored,
        apiKey: split ? split.apiKey : undefined,
        systemPrompt: changes.systemPrompt,
        modelName: changes.modelName,
        temperature: changes.temperature,
        maxTokens: changes.maxTokens,
      };
    });
  } catch (error) {
    throw asConflict(error, CONFLICTS);
  }
}

/** Agents stay referenced by past executions, so DELETE archives rather than erases. */
export function archiveAgent(db: Database, audit: AuditContext, id: string): Promise<AgentView> {
  return changeAgent(db, audit, id, "agent.archive", async () => ({ status: "archived" }));
}

/** Locks, changes and audits one agent in one transaction. */
async function changeAgent(
  db: Database,
  audit: AuditContext,
  id: string,
  action: string,
  changes: (before: AgentRow) => Promise<Partial<typeof agents.$inferInsert>>,
): Promise<AgentView> {
  return db.transaction(async (tx) => {
    const before = await lockAgent(tx, id);
    const [row] = await tx
      .update(agents)
      .set(await changes(before))
      .where(eq(agents.id, id))
      .returning();
    const view = toAgentView(row);
    await recordAudit(tx, audit, {
      action,
      resourceType: "agent",
      resourceId: id,
      before: toAgentView(before),
      after: view,
    });
    return view;
  });
}

async function lockAgent(tx: Queryable, id: string): Promise<AgentRow> {
  const [row] = await tx.select().from(agents).where(eq(agents.id, id)).for("update");
  if (!row) throw new NotFoundError("Agent");
  return row;
}

/**
 * Separates the write-only key from the stored configuration and seals it. An omitted key keeps
 * the current one; `apiKey: null`, or naming a Worker secret instead, removes it.
 */
async function splitConfiguration(
  config: Settings,
  agentId: string,
  raw: AgentConfigurationInput,
  currentKey: string | null,
): Promise<{ stored: StoredAgentConfiguration; apiKey: string | null }> {
  const parsed = AgentConfigurationSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(zodDetails(parsed.error, "configuration"));
  const { apiKey, ...stored } = parsed.data;
  if (stored.provider === "builtin" && !config.ALLOW_BUILTIN_PROVIDER) {
    throw new ValidationError([
      { path: "configuration.provider", message: "the built-in provider is disabled here (ALLOW_BUILTIN_PROVIDER)" },
    ]);
  }
  if (apiKey) return { stored, apiKey: await keyringOf(config).encrypt(apiKey, agentKeyBinding(agentId)) };
  if (apiKey === null || stored.apiKeySecret) return { stored, apiKey: null };
  return { stored, apiKey: currentKey };
}

const CONFLICTS: UniqueConflicts = {
  agents_name_key: ["An agent with this name exists", "AGENT_NAME_TAKEN"],
};

/** Tools of an agent: typed configurations, unique names per agent (admins change them). */
import { and, asc, eq } from "drizzle-orm";
import { TOOL_CONFIGURATIONS, type ToolType } from "../agents/configuration";
import { maskHeaders, type StoredHeaders, sealHeaders } from "../agents/tools/tool-headers";
import { recordAudit } from "../audit/record";
import type { Settings } from "../config";
import { keyringOf } from "../crypto/keyring-of";
import type { Database, Queryable } from "../db/client";
import { asConflict, type UniqueConflicts } from "../db/errors";
import { agentTools } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import { NotFoundError, ValidationError, zodDetails } from "../errors";
import { getAgent } from "./agents";

type ToolRow = typeof agentTools.$inferSelect;

export interface ToolView {
  id: string;
  agentId: string;
  toolName: string;
  toolType: ToolType;
  configuration: Record<string, unknown>;
  isEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ToolInput {
  toolName: string;
  toolType: ToolType;
  configuration: Record<string, unknown>;
  isEnabled?: boolean;
}

export type ToolChanges = Partial<Omit<ToolInput, "toolType">>;

export function toToolView(row: ToolRow): ToolView {
  const { headers, ...rest } = row.configuration as { headers?: StoredHeaders };
  return {
    id: row.id,
    agentId: row.agentId,
    toolName: row.toolName,
    toolType: row.toolType,
    configuration: headers ? { ...rest, headers: maskHeaders(headers) } : rest,
    isEnabled: row.isEnabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function listTools(db: Database, agentId: string): Promise<ToolView[]> {
  await getAgent(db, agentId);
  const rows = await db
    .select()
    .from(agentTools)
    .where(eq(agentTools.agentId, agentId))
    .orderBy(asc(agentTools.toolName));
  return rows.map(toToolView);
}

export async function getTool(db: Queryable, agentId: string, toolId: string): Promise<ToolView> {
  return toToolView(await findTool(db, agentId, toolId));
}

export async function createTool(
  db: Database,
  config: Settings,
  audit: AuditContext,
  agentId: string,
  input: ToolInput,
): Promise<ToolView> {
  const id = crypto.randomUUID();
  const configuration = await sealed(checkConfiguration(input.toolType, input.configuration), undefined, config, id);
  try {
    return await db.transaction(async (tx) => {
      await getAgent(tx, agentId);
      const [row] = await tx
        .insert(agentTools)
        .values({
          id,
          agentId,
          toolName: input.toolName,
          toolType: input.toolType,
          configuration,
          isEnabled: input.isEnabled ?? true,
        })
        .returning();
      const view = toToolView(row);
      await recordAudit(tx, audit, {
        action: "agent.tool.create",
        resourceType: "agent_tool",
        resourceId: row.id,
        after: view,
      });
      return view;
    });
  } catch (error) {
    throw asConflict(error, CONFLICTS);
  }
}

export async function updateTool(
  db: Database,
  config: Settings,
  audit: AuditContext,
  agentId: string,
  toolId: string,
  changes: ToolChanges,
): Promise<ToolView> {
  try {
    return await db.transaction(async (tx) => {
      const before = await findTool(tx, agentId, toolId, true);
      const configuration = changes.configuration
        ? await sealed(
            checkConfiguration(before.toolType, changes.configuration),
            (before.configuration as { headers?: StoredHeaders }).headers,
            config,
            toolId,
          )
        : undefined;
      const [row] = await tx
        .update(agentTools)
        .set({ toolName: changes.toolName, configuration, isEnabled: changes.isEnabled })
        .where(eq(agentTools.id, toolId))
        .returning();
      const view = toToolView(row);
      await recordAudit(tx, audit, {
        action: "agent.tool.update",
        resourceType: "agent_tool",
        resourceId: toolId,
        before: toToolView(before),
        after: view,
      });
      return view;
    });
  } catch (error) {
    throw asConflict(error, CONFLICTS);
  }
}

export async function deleteTool(db: Database, audit: AuditContext, agentId: string, toolId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const before = await findTool(tx, agentId, toolId, true);
    await tx.delete(agentTools).where(eq(agentTools.id, toolId));
    await recordAudit(tx, audit, {
      action: "agent.tool.delete",
      resourceType: "agent_tool",
      resourceId: toolId,
      before: toToolView(before),
    });
  });
}

async function findTool(db: Queryable, agentId: string, toolId: string, lock = false): Promise<ToolRow> {
  const query = db
    .select()
    .from(agentTools)
    .where(and(eq(agentTools.agentId, agentId), eq(agentTools.id, toolId)));
  const [row] = await (lock ? query.for("update") : query);
  if (!row) throw new NotFoundError("Tool");
  return row;
}

/** The configuration as stored: header values sealed (see tool-headers.ts). */
async function sealed(
  configuration: Record<string, unknown>,
  previous: StoredHeaders | undefined,
  config: Settings,
  toolId: string,
): Promise<Record<string, unknown>> {
  const headers = configuration.headers as Record<string, string> | undefined;
  if (!headers) return configuration;
  return { ...configuration, headers: await sealHeaders(headers, previous, keyringOf(config), toolId) };
}

function checkConfiguration(toolType: ToolType, configuration: Record<string, unknown>): Record<string, unknown> {
  const parsed = TOOL_CONFIGURATIONS[toolType].safeParse(configuration);
  if (!parsed.success) throw new ValidationError(zodDetails(parsed.error, "configuration"));
  return parsed.data;
}

const CONFLICTS: UniqueConflicts = {
  agent_tools_name_key: ["This agent already has a tool with this name", "TOOL_NAME_TAKEN"],
};

/** Agents (model, prompt, provider configuration) and the tools they may call. */
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { TOOL_TYPES } from "../../engine/vocabulary";
import { timestamps } from "./columns";
import { users } from "./users";

export const agentType = pgEnum("agent_type", ["semantic_kernel", "autogen", "custom"]);
export const agentStatus = pgEnum("agent_status", ["active", "inactive", "archived"]);
export const toolType = pgEnum("tool_type", TOOL_TYPES);

export const agents = pgTable(
  "agents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    description: text("description"),
    type: agentType("type").notNull(),
    status: agentStatus("status").notNull().default("active"),
    /** Provider settings without the API key (see `api_key`). */
    configuration: jsonb("configuration").$type<Record<string, unknown>>().notNull(),
    /** Keyring-encrypted per-agent API key, bound to this row and column; never returned. */
    apiKey: text("api_key"),
    systemPrompt: text("system_prompt"),
    modelName: text("model_name"),
    temperature: numeric("temperature", { precision: 3, scale: 2, mode: "number" }).notNull().default(0.7),
    maxTokens: integer("max_tokens").notNull().default(1024),
    createdBy: uuid("created_by").references(() => users.id),
    ...timestamps,
  },
  (t) => [
    uniqueIndex("agents_name_key").on(sql`lower(${t.name})`).where(sql`${t.status} <> 'archived'`),
    index("agents_created_idx").on(t.createdAt.desc(), t.id.desc()),
    check("agents_temperature_range", sql`${t.temperature} between 0 and 2`),
    check("agents_max_tokens_positive", sql`${t.maxTokens} > 0`),
    check("agents_name_length", sql`char_length(${t.name}) between 1 and 200`),
    check("agents_configuration_object", sql`jsonb_typeof(${t.configuration}) = 'object'`),
  ],
);

export const agentTools = pgTable(
  "agent_tools",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    agentId: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    toolName: text("tool_name").notNull(),
    toolType: toolType("tool_type").notNull(),
    configuration: jsonb("configuration").$type<Record<string, unknown>>().notNull(),
    isEnabled: boolean("is_enabled").notNull().default(true),
    ...timestamps,
  },
  (t) => [
    unique("agent_tools_name_key").on(t.agentId, t.toolName),
    check("agent_tools_name_shape", sql`${t.toolName} ~ '^[A-Za-z0-9_-]{1,64}$'`),
  ],
);

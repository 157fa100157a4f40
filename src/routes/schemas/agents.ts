/** Request and response schemas of agents and their tools. */
import { z } from "@hono/zod-openapi";
import { AgentConfigurationSchema, PROVIDERS } from "../../agents/configuration";
import { MAX_OUTPUT_TOKENS } from "../../engine/step-fields";
import { TOOL_TYPES } from "../../engine/vocabulary";
import { ListQuery, Timestamp } from "./common";

export const AgentType = z.enum(["semantic_kernel", "autogen", "custom"]);
export const AgentStatus = z.enum(["active", "inactive", "archived"]);
export const ToolType = z.enum(TOOL_TYPES);

export const AgentSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    type: AgentType,
    status: AgentStatus,
    configuration: z
      .object({ provider: z.enum(PROVIDERS), apiKeySet: z.boolean() })
      .catchall(z.unknown())
      .openapi({ description: "The provider configuration; the API key is never returned" }),
    systemPrompt: z.string().nullable(),
    modelName: z.string().nullable(),
    temperature: z.number(),
    maxTokens: z.number().int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Agent");

const agentFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000).nullable().optional(),
  type: AgentType,
  status: z.enum(["active", "inactive"]).optional(),
  configuration: AgentConfigurationSchema,
  systemPrompt: z.string().max(100_000).nullable().optional(),
  modelName: z.string().min(1).max(200).nullable().optional(),
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS).optional(),
};

export const CreateAgentBody = z.strictObject(agentFields).openapi("CreateAgent");
export const UpdateAgentBody = z.strictObject(agentFields).partial().openapi("UpdateAgent");

export const AgentListQuery = ListQuery.extend({ status: AgentStatus.optional(), type: AgentType.optional() });

export const ToolSchema = z
  .object({
    id: z.uuid(),
    agentId: z.uuid(),
    toolName: z.string(),
    toolType: ToolType,
    configuration: z.record(z.string(), z.unknown()),
    isEnabled: z.boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("AgentTool");

const ToolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 letters, digits, _ or -");

export const CreateToolBody = z
  .strictObject({
    toolName: ToolName,
    toolType: ToolType,
    configuration: z.record(z.string(), z.unknown()).openapi({
      description:
        "http: { url, method, headers?, parameters (JSON Schema), description?, timeoutMs? }; " +
        "builtin: { builtin: current_time | json_path | arithmetic, description? }; " +
        "workflow: { workflowId, version?, parameters?, description? }",
    }),
    isEnabled: z.boolean().optional(),
  })
  .openapi("CreateAgentTool");

export const UpdateToolBody = z
  .strictObject({
    toolName: ToolName.optional(),
    configuration: z.record(z.string(), z.unknown()).optional(),
    isEnabled: z.boolean().optional(),
  })
  .openapi("UpdateAgentTool");

export const ToolParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  toolId: z.uuid().openapi({ param: { name: "toolId", in: "path" } }),
});

/**
 * An agent's provider configuration (docs/workflows.md Agents) and each tool type's configuration. The
 * API key is write-only: it is stored encrypted in its own column and reads show `apiKeySet`.
 */
import { z } from "zod";
import type { ToolType } from "../engine/vocabulary";

export const PROVIDERS = ["openai", "azure-openai", "workers-ai", "builtin"] as const;
export type Provider = (typeof PROVIDERS)[number];

/**
 * Agents may name a Worker secret holding their key, but only one that is meant for model
 * providers: never DATABASE_URL, JWT_SECRET or ENCRYPTION_KEYS, which a base URL could exfiltrate.
 */
export const API_KEY_SECRET_NAME = /^[A-Z][A-Z0-9_]{0,100}_API_KEY$/;

export const AgentConfigurationSchema = z
  .strictObject({
    provider: z.enum(PROVIDERS),
    baseUrl: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional(),
    apiKey: z.string().min(1).max(4096).nullable().optional(),
    apiKeySecret: z.string().regex(API_KEY_SECRET_NAME, "must name a Worker secret ending in _API_KEY").optional(),
    deployment: z.string().min(1).max(256).optional(),
    apiVersion: z.string().min(1).max(64).optional(),
    fallbackModels: z.array(z.string().min(1).max(200)).max(5).optional(),
    maxIterations: z.number().int().min(1).max(50).optional(),
    tokenBudget: z.number().int().positive().max(10_000_000).optional(),
    timeoutMs: z.number().int().min(1000).max(600_000).optional(),
    /** Stream the model's answer (tokens reach viewers as they arrive); default true. */
    stream: z.boolean().optional(),
  })
  .superRefine((config, ctx) => {
    if (config.apiKey && config.apiKeySecret) {
      ctx.addIssue({ code: "custom", path: ["apiKeySecret"], message: "set apiKey or apiKeySecret, not both" });
    }
    if (config.provider === "azure-openai") {
      if (!config.baseUrl) ctx.addIssue({ code: "custom", path: ["baseUrl"], message: "azure-openai needs baseUrl" });
      if (!config.apiVersion)
        ctx.addIssue({ code: "custom", path: ["apiVersion"], message: "azure-openai needs apiVersion" });
    }
  });

export type AgentConfigurationInput = z.infer<typeof AgentConfigurationSchema>;
/** What is stored in `agents.configuration` and returned (the key lives elsewhere). */
export type StoredAgentConfiguration = Omit<AgentConfigurationInput, "apiKey">;

const JsonSchemaObject = z
  .record(z.string(), z.unknown())
  .refine((schema) => schema.type === "object", 'parameters must be a JSON Schema with type "object"');

/** What one call of a paid API costs, counted into the step's and the execution's costUsd. */
const CostPerCall = z.number().nonnegative().max(1000).optional();

const HttpToolConfiguration = z.strictObject({
  description: z.string().max(1024).optional(),
  url: z.string().min(1).max(8192),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("GET"),
  headers: z.record(z.string(), z.string().max(8192)).optional(),
  parameters: JsonSchemaObject.default({ type: "object", properties: {} }),
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
  costPerCallUsd: CostPerCall,
});

export const BUILTIN_TOOLS = ["current_time", "json_path", "arithmetic"] as const;

const BuiltinToolConfiguration = z.strictObject({
  description: z.string().max(1024).optional(),
  builtin: z.enum(BUILTIN_TOOLS),
});

const WorkflowToolConfiguration = z.strictObject({
  description: z.string().max(1024).optional(),
  workflowId: z.uuid(),
  version: z.number().int().positive().optional(),
  parameters: JsonSchemaObject.default({ type: "object", properties: {} }),
});

/** A remote MCP server (Streamable HTTP) whose tools the model sees as `<toolName>__<tool>`. */
const McpToolConfiguration = z.strictObject({
  description: z.string().max(1024).optional(),
  url: z.string().min(1).max(8192),
  headers: z.record(z.string(), z.string().max(8192)).optional(),
  /** Only these of the server's tools are offered (all when absent). */
  allowedTools: z.array(z.string().min(1).max(128)).max(100).optional(),
  /** Per call, and for listing the server's tools. */
  timeoutMs: z.number().int().min(100).max(120_000).optional(),
  costPerCallUsd: CostPerCall,
});

export const TOOL_CONFIGURATIONS = {
  http: HttpToolConfiguration,
  builtin: BuiltinToolConfiguration,
  workflow: WorkflowToolConfiguration,
  mcp: McpToolConfiguration,
} as const satisfies Record<ToolType, z.ZodType>;

export type { ToolType };
export type HttpToolConfig = z.infer<typeof HttpToolConfiguration>;
export type BuiltinToolConfig = z.infer<typeof BuiltinToolConfiguration>;
export type WorkflowToolConfig = z.infer<typeof WorkflowToolConfiguration>;
export type McpToolConfig = z.infer<typeof McpToolConfiguration>;

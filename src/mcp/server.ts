/**
 * The MCP server of docs/api.md, on the official SDK's low-level `Server` (the tools are data —
 * one per startable workflow, with JSON Schema inputs — which the high-level McpServer's zod
 * shapes cannot describe). It is built per request for the signed-in caller and speaks the
 * stateless Streamable HTTP transport, so any isolate can answer any request.
 */

import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";
import { assertPermission } from "../auth/assert-permission";
import { hasPermission } from "../auth/permissions";
import { SERVER_INFO } from "../config";
import { AppError } from "../errors";
import { describeError } from "../observability/describe-error";
import { logEvent } from "../observability/log";
import { errorResult, type McpCaller, textResult } from "./caller";
import { executionTools } from "./execution-tools";
import { runWorkflowTool } from "./run-workflow";
import { RUN_PREFIX, workflowToolNames, workflowTools } from "./workflow-tools";

export function mcpServer(caller: McpCaller): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: {} },
    // The SDK's default validator (Ajv) compiles schemas with `new Function`, which workerd forbids.
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
  });
  // Listed: what the caller may use; called: each checked, so a token's missing scope is named.
  const usable = executionTools.filter((tool) => hasPermission(caller.user, tool.permission));

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const runs = await workflowTools(caller.db, caller.user);
    const tools: Tool[] = [
      ...runs.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema })),
      ...usable.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
    ];
    return { tools };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args = {}, _meta: meta = {} } = request.params;
    try {
      const tool = executionTools.find((candidate) => candidate.name === name);
      if (tool) {
        assertPermission(caller.user, tool.permission);
        return textResult(await tool.call(caller, args));
      }
      if (name.startsWith(RUN_PREFIX)) assertPermission(caller.user, "executions:create");
      const run = (await workflowToolNames(caller.db, caller.user)).find((candidate) => candidate.name === name);
      if (!run) return errorResult(`unknown tool ${name}`);
      return await runWorkflowTool(caller, run, args, String(extra.requestId), meta);
    } catch (error) {
      // The caller's mistakes (not found, forbidden, bad input) are tool errors the model can read;
      // the platform's own failures reach it as the generic message, the detail only in the log.
      if (error instanceof AppError && error.status < 500) return errorResult(messageOf(error));
      logEvent("error", "mcp_tool_failed", { tool: name, requestId: caller.audit.requestId, ...describeError(error) });
      return errorResult(`An unexpected error occurred (request ${caller.audit.requestId ?? "unknown"})`);
    }
  });
  return server;
}

function messageOf(error: AppError): string {
  const details = (error.details ?? []).map((detail) => `${detail.path}: ${detail.message}`);
  const message = [error.message, ...details].join("; ");
  return error.code === "INSUFFICIENT_SCOPE" ? `${error.code}: ${message}` : message;
}

/**
 * The MCP server of SPEC §10, on the official SDK's low-level `Server` (the tools are data —
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
import { hasPermission } from "../auth/permissions";
import { AppError } from "../errors";
import { errorResult, type McpCaller, textResult } from "./caller";
import { executionTools } from "./execution-tools";
import { runWorkflowTool } from "./run-workflow";
import { SERVER_INFO } from "./server-info";
import { workflowTools } from "./workflow-tools";

export function mcpServer(caller: McpCaller): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: {} },
    // The SDK's default validator (Ajv) compiles schemas with `new Function`, which workerd forbids.
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
  });
  const fixed = executionTools.filter((tool) => hasPermission(caller.user, tool.permission));

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const runs = await workflowTools(caller.db, caller.user);
    const tools: Tool[] = [
      ...runs.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema })),
      ...fixed.map(({ name, description, inputSchema }) => ({ name, description, inputSchema })),
    ];
    return { tools };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args = {} } = request.params;
    try {
      const tool = fixed.find((candidate) => candidate.name === name);
      if (tool) return textResult(await tool.call(caller, args));
      const run = (await workflowTools(caller.db, caller.user)).find((candidate) => candidate.name === name);
      if (!run) return errorResult(`unknown tool ${name}`);
      return await runWorkflowTool(caller, run, args, String(extra.requestId));
    } catch (error) {
      // The caller's mistakes (not found, forbidden, bad input) are tool errors the model can read.
      if (error instanceof AppError && error.status < 500) return errorResult(messageOf(error));
      throw error;
    }
  });
  return server;
}

function messageOf(error: AppError): string {
  const details = (error.details ?? []).map((detail) => `${detail.path}: ${detail.message}`);
  return [error.message, ...details].join("; ");
}

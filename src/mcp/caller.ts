/** Who an MCP request acts for, and the answers its tools give. */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import type { AuditContext } from "../db/schema/audit";
import type { Bindings } from "../env";

export interface McpCaller {
  db: Database;
  env: Bindings;
  user: AuthenticatedUser;
  audit: AuditContext;
}

export function textResult(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }] };
}

/** A failure the calling model reads and may act on (MCP's `isError`), not a protocol error. */
export function errorResult(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

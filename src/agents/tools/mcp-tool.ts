/**
 * `mcp` tools (docs/workflows.md): a remote MCP server over Streamable HTTP, through the official SDK's
 * client. Its tools are listed when an attempt starts (filtered by `allowedTools`) and offered to
 * the model as `<toolName>__<tool>`; each call opens its own short session carrying the call's
 * `Idempotency-Key`, so a server can tell a repeat after a crash. Every request and redirect
 * passes the address guard, headers come sealed or from `{{secrets.NAME}}`, and a call that fails
 * or runs out of time goes back to the model as a tool error instead of failing the step.
 */

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";
import { SERVER_INFO } from "../../config";
import { sendableFromConfig } from "../../engine/template";
import { AddressRefusedError } from "../../net/address-guard";
import { cappedStream, guardedRequest, MAX_RESPONSE_BYTES } from "../../net/guarded-fetch";
import { SecretHostRefusedError } from "../../secrets/resolver";
import type { McpToolConfig } from "../configuration";
import { AgentError } from "../errors";
import { type HeaderSources, headersToSend, type StoredHeaders } from "./tool-headers";

const DEFAULT_TIMEOUT_MS = 30_000;
/** More tools than this from one server are not offered (models choose badly among hundreds). */
const MAX_REMOTE_TOOLS = 128;
/** The longest function name OpenAI-compatible providers accept. */
const MAX_NAME = 64;

export interface McpToolOptions extends HeaderSources {
  allowlist: readonly string[];
  /** The attempt's: aborts the session's requests when it ends. */
  signal?: AbortSignal;
}

export interface RemoteTool {
  /** The name the model sees. */
  name: string;
  /** The name the server knows. */
  remoteName: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

interface McpToolRow {
  id: string;
  toolName: string;
  configuration: Record<string, unknown>;
}

export async function listMcpTools(row: McpToolRow, options: McpToolOptions): Promise<RemoteTool[]> {
  const config = row.configuration as McpToolConfig;
  let client: Client | undefined;
  try {
    client = await openSession(row.id, config, options, {});
    const listed = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: timeoutOf(config) });
      listed.push(...page.tools);
      // A server that pages forever (or hands back empty pages) gets no more requests.
      cursor = page.tools.length > 0 ? page.nextCursor : undefined;
    } while (cursor && listed.length < MAX_REMOTE_TOOLS);
    const allowed = config.allowedTools ? new Set(config.allowedTools) : null;
    return listed
      .filter((tool) => !allowed || allowed.has(tool.name))
      .slice(0, MAX_REMOTE_TOOLS)
      .map((tool) => ({
        name: `${row.toolName}__${tool.name.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, MAX_NAME),
        remoteName: tool.name,
        description: tool.description ?? tool.title ?? tool.name,
        inputSchema: tool.inputSchema,
      }));
  } catch (error) {
    if (isRefused(error)) throw new AgentError("address_refused", `MCP tool ${row.toolName}: ${messageOf(error)}`);
    // Without its tools the model would answer as if they did not exist: the attempt fails, to be retried.
    throw new AgentError(
      "mcp_unavailable",
      `the MCP server of tool ${row.toolName} did not list its tools: ${messageOf(error)}`,
      true,
    );
  } finally {
    await client?.close().catch(() => {});
  }
}

export async function callMcpTool(
  row: McpToolRow,
  remoteName: string,
  args: Record<string, unknown>,
  options: McpToolOptions & { idempotencyKey: string; traceparent: string },
): Promise<unknown> {
  const config = row.configuration as McpToolConfig;
  let client: Client | undefined;
  try {
    client = await openSession(row.id, config, options, {
      "Idempotency-Key": options.idempotencyKey,
      traceparent: options.traceparent,
    });
    const result = await client.callTool({ name: remoteName, arguments: args }, undefined, {
      timeout: timeoutOf(config),
      signal: options.signal,
    });
    const text = textOf(result.content);
    return result.isError ? { error: text } : text;
  } catch (error) {
    return { error: `the MCP tool ${remoteName} failed: ${messageOf(error)}` };
  } finally {
    await client?.close().catch(() => {});
  }
}

async function openSession(
  toolId: string,
  config: McpToolConfig,
  options: McpToolOptions,
  extraHeaders: Record<string, string>,
): Promise<Client> {
  const timeoutMs = timeoutOf(config);
  const url = new URL(await options.secrets.fill(sendableFromConfig(config.url), "url"));
  const { headers, sensitive } = await headersToSend(toolId, config.headers as StoredHeaders, options);
  for (const [name, value] of Object.entries(extraHeaders)) headers.set(name, value);
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: Object.fromEntries(headers) },
    // Whatever a server sends, at most MAX_RESPONSE_BYTES of one answer is read into memory.
    fetch: async (target, init) =>
      capResponse(
        await guardedRequest(
          String(target),
          {
            ...init,
            signal: anyOf(init?.signal ?? undefined, options.signal),
            timeoutMs,
            sensitiveHeaders: sensitive,
            checkUrl: options.secrets.assertHostAllowed,
          },
          options.allowlist,
        ),
      ),
  });
  // The SDK's default validator (Ajv) compiles schemas with `new Function`, which workerd forbids.
  const client = new Client(SERVER_INFO, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(transport, { timeout: timeoutMs });
  return client;
}

function capResponse(response: Response): Response {
  if (!response.body) return response;
  return new Response(cappedStream(response.body, MAX_RESPONSE_BYTES), response);
}

function anyOf(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  return present.length > 1 ? AbortSignal.any(present) : present[0];
}

function timeoutOf(config: McpToolConfig): number {
  return config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
}

/** The result as text for the model: text parts as they are, anything else as JSON. */
function textOf(content: unknown): string {
  const parts = Array.isArray(content) ? content : [];
  return parts
    .map((part: { type?: string; text?: string }) => (part.type === "text" ? (part.text ?? "") : JSON.stringify(part)))
    .join("\n");
}

function isRefused(error: unknown): boolean {
  for (let cause = error; cause; cause = (cause as { cause?: unknown }).cause) {
    if (cause instanceof AddressRefusedError || cause instanceof SecretHostRefusedError) return true;
  }
  return false;
}

function messageOf(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

/**
 * An agent's enabled tools as the model sees them (name, description, JSON Schema of the
 * arguments) and as the loop runs them. Arguments are parsed and validated against the tool's
 * schema before anything runs; a workflow tool asks the loop to start a child execution, and an
 * MCP server stands for the tools it lists.
 */
import { Validator } from "@cfworker/json-schema";
import type { Keyring } from "../../crypto/keyring";
import type { SecretResolver } from "../../secrets/resolver";
import type { BuiltinToolConfig, HttpToolConfig, ToolType, WorkflowToolConfig } from "../configuration";
import { AgentError } from "../errors";
import type { ToolCall, ToolSpec } from "../providers/types";
import { BUILTINS } from "./builtins";
import { runHttpTool } from "./http-tool";
import { callMcpTool, listMcpTools } from "./mcp-tool";
import type { StoredHeaders } from "./tool-headers";

export interface ToolRow {
  id: string;
  toolName: string;
  toolType: ToolType;
  configuration: Record<string, unknown>;
}

/** What running a tool call produced: a result for the model, or a child workflow to start. */
export type ToolOutcome =
  | { result: unknown }
  | { startWorkflow: { workflowId: string; version?: number; input: Record<string, unknown> } };

export interface PreparedCall {
  call: ToolCall;
  /**
   * Where the call stands in the attempt, `<model answer>.<position>` (from 1): the same on every
   * re-run of the attempt, and unlike the provider's id (which fills gaps with `call_1`, `call_2`
   * afresh in every answer) never the same for two calls. Keys and child ids derive from it.
   */
  key: string;
  args: Record<string, unknown>;
  tool: ToolRow;
  remoteName?: string;
}

export interface ToolboxOptions {
  allowlist: readonly string[];
  /** The step's idempotency key: calls that reach outside send `<key>:<the call's position>`. */
  idempotencyKey: string;
  /** Opens sealed header values. */
  keyring: Keyring;
  /** Fills `{{secrets.NAME}}` and scrubs opened values from results. */
  secrets: SecretResolver;
  /** A tool's headers as Postgres holds them now (for values sealed under a retired key). */
  currentHeaders: (toolId: string) => Promise<StoredHeaders | undefined>;
  /** The `traceparent` a tool call sends: the execution's trace, the call's own span (by its position). */
  traceparentOf: (callKey: string) => string;
  /** The attempt's: aborted at its deadline or when its lease is lost, ending the calls in flight. */
  signal: AbortSignal;
}

/** One tool as the model sees it; an MCP server's row stands behind each of its tools. */
interface Entry {
  row: ToolRow;
  spec: ToolSpec;
  validator: Validator;
  /** For MCP tools: the tool's name on its server. */
  remoteName?: string;
}

export class Toolbox {
  readonly specs: ToolSpec[];
  private readonly tools: Map<string, Entry>;
  private readonly options: ToolboxOptions;

  /** The agent's tools, with each MCP server's tools listed from the server itself. */
  static async open(rows: ToolRow[], options: ToolboxOptions): Promise<Toolbox> {
    const entries: Entry[] = [];
    for (const row of rows) {
      if (row.toolType !== "mcp") {
        entries.push(
          entryOf(row, { name: row.toolName, description: descriptionOf(row), parameters: parametersOf(row) }),
        );
        continue;
      }
      for (const remote of await listMcpTools(row, options)) {
        const spec = { name: remote.name, description: remote.description, parameters: remote.inputSchema };
        entries.push({ ...entryOf(row, spec), remoteName: remote.remoteName });
      }
    }
    return new Toolbox(entries, options);
  }

  private constructor(entries: Entry[], options: ToolboxOptions) {
    this.options = options;
    // A later tool of the same name (two MCP servers offering one) does not shadow the first.
    this.tools = new Map();
    for (const entry of entries) if (!this.tools.has(entry.spec.name)) this.tools.set(entry.spec.name, entry);
    this.specs = [...this.tools.values()].map((entry) => entry.spec);
  }

  /** Parses and validates a call's arguments; malformed model output is a step error. */
  prepare(call: ToolCall, key: string): PreparedCall {
    const tool = this.tools.get(call.name);
    if (!tool)
      throw new AgentError("unknown_tool", `the model called "${call.name}", which is not one of the agent's tools`);
    let args: unknown;
    try {
      args = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
    } catch {
      throw new AgentError("malformed_tool_arguments", `the arguments for "${call.name}" are not valid JSON`, true);
    }
    const verdict = tool.validator.validate(args);
    if (!verdict.valid || !args || typeof args !== "object" || Array.isArray(args)) {
      const problems = verdict.errors
        .filter((e) => e.instanceLocation !== "#" || verdict.errors.length === 1)
        .map((e) => `${e.instanceLocation.replace(/^#/, "") || "(arguments)"}: ${e.error}`)
        .slice(0, 5);
      throw new AgentError(
        "invalid_tool_arguments",
        `invalid arguments for "${call.name}": ${problems.join("; ")}`,
        true,
      );
    }
    return { call, key, args: args as Record<string, unknown>, tool: tool.row, remoteName: tool.remoteName };
  }

  /** What a call costs by the tool's own `costPerCallUsd` (http and mcp tools); zero otherwise. */
  costOf(prepared: PreparedCall): number {
    const price = prepared.tool.configuration.costPerCallUsd;
    return typeof price === "number" ? price : 0;
  }

  async run(prepared: PreparedCall): Promise<ToolOutcome> {
    const { tool, args } = prepared;
    // Calls that reach outside carry `<step key>:<answer>.<position>`, the same on every re-run.
    const idempotencyKey = `${this.options.idempotencyKey}:${prepared.key}`;
    switch (tool.toolType) {
      case "builtin":
        return { result: BUILTINS[(tool.configuration as BuiltinToolConfig).builtin].run(args) };
      case "http":
        return {
          // Whatever the target echoes goes back to the model without a secret in it.
          result: this.options.secrets.scrub(
            await runHttpTool(tool.id, tool.configuration as HttpToolConfig, args, {
              ...this.options,
              idempotencyKey,
              traceparent: this.options.traceparentOf(prepared.key),
            }),
          ),
        };
      case "mcp":
        return {
          result: this.options.secrets.scrub(
            await callMcpTool(tool, prepared.remoteName ?? "", args, {
              ...this.options,
              idempotencyKey,
              traceparent: this.options.traceparentOf(prepared.key),
            }),
          ),
        };
      case "workflow": {
        const config = tool.configuration as WorkflowToolConfig;
        return { startWorkflow: { workflowId: config.workflowId, version: config.version, input: args } };
      }
    }
  }
}

function entryOf(row: ToolRow, spec: ToolSpec): Entry {
  return { row, spec, validator: new Validator(spec.parameters as object, "2020-12", false) };
}

function parametersOf(row: ToolRow): Record<string, unknown> {
  if (row.toolType === "builtin") return BUILTINS[(row.configuration as BuiltinToolConfig).builtin].parameters;
  return (row.configuration.parameters as Record<string, unknown>) ?? { type: "object", properties: {} };
}

function descriptionOf(row: ToolRow): string {
  const given = row.configuration.description;
  if (typeof given === "string" && given) return given;
  if (row.toolType === "builtin") return BUILTINS[(row.configuration as BuiltinToolConfig).builtin].description;
  // Named by what the admin called it: its URL (and any credential in it) is not the model's business.
  return row.toolType === "workflow"
    ? `Runs the workflow ${(row.configuration as WorkflowToolConfig).workflowId}`
    : `The ${row.toolName} tool`;
}

/**
 * `ipa agents list|apply`: agents from files, like workflows. An agent file names the agent and
 * carries its configuration and tools; applying it creates the agent, or updates the one of that
 * name, and creates or updates each tool by its name. Workflow files name agents as
 * `"agentId": "agent:<name>"`, which `ipa workflows apply` resolves.
 */
import { readFile } from "node:fs/promises";
import type { Agent, AgentTool, Page } from "../api-types.ts";
import type { Client } from "../client.ts";
import type { Command } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { ago } from "../output.ts";
import { required } from "../refs.ts";

interface ToolFile {
  toolName: string;
  toolType: string;
  configuration: Record<string, unknown>;
  isEnabled?: boolean;
}

interface AgentFile {
  name: string;
  tools?: ToolFile[];
  [field: string]: unknown;
}

async function allAgents(api: Client): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (let cursor: string | null = null; ; ) {
    const page: Page<Agent> = await api.get(
      `/agents?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    agents.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) return agents;
  }
}

/** The id of the agent named `name` that is not archived. */
export async function agentIdByName(api: Client, name: string): Promise<string> {
  const found = (await allAgents(api)).find((agent) => agent.name === name && agent.status !== "archived");
  if (!found) throw new CliError(`no agent named "${name}" (ipa agents apply -f FILE creates one)`);
  return found.id;
}

export const list: Command = {
  usage: "",
  summary: "Agents, with their provider and model",
  async run({ api, out }) {
    out.table(await allAgents(api), [
      ["name", (a) => a.name],
      ["status", (a) => a.status],
      ["provider", (a) => String(a.configuration.provider)],
      ["model", (a) => a.modelName],
      ["updated", (a) => ago(a.updatedAt)],
    ]);
    return 0;
  },
};

export const apply: Command = {
  usage: "-f FILE",
  summary: "Create the file's agent, or update the agent of that name; its tools are created or updated by name",
  options: { file: { type: "string", short: "f" } },
  async run({ api, out, flags }) {
    const path = required(flags.file as string | undefined, "-f FILE");
    let file: AgentFile;
    try {
      file = JSON.parse(await readFile(path, "utf8"));
    } catch (error) {
      throw new UsageError(`${path}: ${(error as Error).message}`);
    }
    if (typeof file.name !== "string") throw new UsageError(`${path}: expected { "name": "…", "configuration": … }`);
    const { tools = [], ...fields } = file;
    const existing = (await allAgents(api)).find((agent) => agent.name === file.name && agent.status !== "archived");
    const agent: Agent = existing
      ? await api.request("PATCH", `/agents/${existing.id}`, fields)
      : await api.post("/agents", fields);
    const current = await api.get<{ items: AgentTool[] }>(`/agents/${agent.id}/tools`);
    for (const tool of tools) {
      const same = current.items.find((t) => t.toolName === tool.toolName);
      const { configuration, isEnabled } = tool;
      if (same) await api.request("PATCH", `/agents/${agent.id}/tools/${same.id}`, { configuration, isEnabled });
      else await api.post(`/agents/${agent.id}/tools`, tool);
    }
    out.done(`${existing ? "Updated" : "Created"} agent ${agent.name} with ${tools.length} tool(s)`, {
      id: agent.id,
      name: agent.name,
      created: !existing,
      tools: tools.map((t) => t.toolName),
    });
    return 0;
  },
};

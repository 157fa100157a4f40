/** `ipa workflows list | apply -f FILE | versions WORKFLOW`. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Workflow } from "../api-types.ts";
import type { Client } from "../client.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../errors.ts";
import { ago } from "../output.ts";
import { allWorkflows, findWorkflow, required, workflowId } from "../refs.ts";
import { agentIdByName } from "./agents.ts";

export const list: Command = {
  usage: "",
  summary: "Workflows you may read",
  async run({ api, out }) {
    out.table(await allWorkflows(api), [
      ["name", (w) => w.name],
      ["status", (w) => w.status],
      ["version", (w) => w.currentVersion],
      ["updated", (w) => ago(w.updatedAt)],
      ["id", (w) => w.id],
    ]);
    return 0;
  },
};

/** A workflow file: its name, optional description and status, and the definition (docs/workflows.md). */
interface WorkflowFile {
  name: string;
  description?: string;
  status?: "draft" | "active";
  /** `{ cron, timezone?, input? }`: set on the workflow (docs/workflows.md Triggers); null removes it. */
  schedule?: Record<string, unknown> | null;
  definition: Record<string, unknown>;
  changeSummary?: string;
}

/** `"agentId": "agent:<name>"` anywhere in the definition becomes that agent's id. */
async function withAgentIds(api: Client, value: unknown): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => withAgentIds(api, item)));
  if (!value || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    out[key] =
      key === "agentId" && typeof field === "string" && field.startsWith("agent:")
        ? await agentIdByName(api, field.slice("agent:".length))
        : await withAgentIds(api, field);
  }
  return out;
}

async function readWorkflowFile(path: string): Promise<WorkflowFile> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message}`);
  }
  const file = parsed as Partial<WorkflowFile>;
  if (typeof file.name !== "string" || typeof file.definition !== "object" || !file.definition)
    throw new UsageError(`${path}: expected { "name": "…", "definition": { "steps": [ … ] } }`);
  return file as WorkflowFile;
}

/**
 * What `apply` last published, kept in the workflow's metadata like kubectl's last-applied
 * annotation: the platform stores definitions with their defaults filled in, so the file itself
 * cannot be compared with the stored version.
 */
const APPLIED = "ipa.applied";

function fingerprint(definition: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === "object"
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash("sha256")
    .update(JSON.stringify(canonical(definition)))
    .digest("hex");
}

export const apply: Command = {
  usage: "-f FILE",
  summary: "Create the file's workflow, or publish its definition as a new version when it changed",
  options: { file: { type: "string", short: "f" } },
  async run({ api, out, flags }) {
    const path = required(flags.file as string | undefined, "-f FILE");
    const file = await readWorkflowFile(path);
    const found = await findWorkflow(api, file.name);
    const workflow: Workflow = found
      ? await api.get(`/workflows/${found.id}`)
      : await api.post("/workflows", {
          name: file.name,
          ...(file.description ? { description: file.description } : {}),
        });
    const sha256 = fingerprint(file.definition);
    const applied = workflow.metadata?.[APPLIED] as { sha256?: string; version?: number } | undefined;
    const unchanged =
      applied?.sha256 === sha256 && applied.version === workflow.currentVersion && workflow.currentVersion !== null;
    let version = workflow.currentVersion;
    if (!unchanged) {
      const published = await api.post<{ versionNumber: number }>(`/workflows/${workflow.id}/versions`, {
        definition: await withAgentIds(api, file.definition),
        ...(file.changeSummary ? { changeSummary: file.changeSummary } : {}),
      });
      version = published.versionNumber;
      await api.request("PATCH", `/workflows/${workflow.id}`, {
        metadata: { ...(workflow.metadata ?? {}), [APPLIED]: { sha256, version } },
      });
    }
    const settings = {
      ...(file.status ? { status: file.status } : {}),
      ...(file.schedule !== undefined ? { schedule: file.schedule } : {}),
    };
    if (Object.keys(settings).length > 0) await api.request("PATCH", `/workflows/${workflow.id}`, settings);
    out.done(
      `${found ? "Updated" : "Created"} ${file.name}: ${unchanged ? `unchanged (version ${version})` : `version ${version} is current`}`,
      { id: workflow.id, name: file.name, created: !found, version, changed: !unchanged },
    );
    return 0;
  },
};

export const versions: Command = {
  usage: "WORKFLOW",
  summary: "A workflow's versions, newest first",
  async run({ api, out, args }) {
    const id = await workflowId(api, args[0]);
    const page = await api.get<{
      items: Array<{ versionNumber: number; changeSummary: string | null; createdAt: string; isCurrent?: boolean }>;
    }>(`/workflows/${id}/versions?limit=200`);
    const workflow = await api.get<{ currentVersion: number | null }>(`/workflows/${id}`);
    out.table(page.items, [
      ["version", (v) => `${v.versionNumber}${v.versionNumber === workflow.currentVersion ? " (current)" : ""}`],
      ["change", (v) => v.changeSummary],
      ["created", (v) => ago(v.createdAt)],
    ]);
    return 0;
  },
};

export const webhookSecret: Command = {
  usage: "WORKFLOW",
  summary: "Create or rotate the workflow's webhook signing secret and print it (shown once)",
  async run({ api, out, args }) {
    const id = await workflowId(api, args[0]);
    const { secret } = await api.post<{ secret: string }>(`/workflows/${id}/webhook-secret`);
    out.done(`Webhook secret for ${args[0]} (shown once; the previous one stops working): ${secret}`, { id, secret });
    return 0;
  },
};

/** Workflows named by id or by exact name, as people type them. */
import type { Workflow } from "./api-types.ts";
import type { Client } from "./client.ts";
import { CliError, UsageError } from "./errors.ts";

/** A workflow as the API answers it (GET /workflows, /workflows/:id). */
export type WorkflowSummary = Workflow;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function allWorkflows(api: Client): Promise<WorkflowSummary[]> {
  const items: WorkflowSummary[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: WorkflowSummary[]; nextCursor: string | null } = await api.get(
      `/workflows?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** The workflow `ref` names, or null when no workflow has that name. */
export async function findWorkflow(api: Client, ref: string): Promise<WorkflowSummary | null> {
  if (UUID.test(ref)) return api.get<WorkflowSummary>(`/workflows/${ref}`);
  const named = (await allWorkflows(api)).filter((w) => w.name === ref && w.status !== "archived");
  if (named.length > 1) throw new CliError(`${named.length} workflows are named "${ref}": use an id`);
  return named[0] ?? null;
}

export async function workflowId(api: Client, ref: string | undefined): Promise<string> {
  if (!ref) throw new UsageError("name a workflow (its name or id)");
  const found = await findWorkflow(api, ref);
  if (!found) throw new CliError(`no workflow named "${ref}"`);
  return found.id;
}

export function required(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

/**
 * `ipa executions bulk cancel|retry|rerun`: every execution the filter matches (docs/api.md "Bulk
 * actions"). With --dry-run it prints the count and the first ids; otherwise it follows the job
 * until it ends and prints what it did. Exits 0 when nothing failed.
 */
import type { BulkCreated, BulkJob } from "../api-types.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../errors.ts";
import { required, workflowId } from "../refs.ts";
import { FILTER_OPTIONS, labelsOf } from "./executions.ts";

const ACTIONS = ["cancel", "retry", "rerun"];
const POLL_MS = 1_000;

export const bulk: Command = {
  usage:
    "cancel|retry|rerun [--workflow W] [--status S] [--tag T]... [--meta K=V]... [--q TEXT] [--from-step STEP] [--limit N] [--dry-run]",
  summary: "Act on every execution the filter matches; --dry-run shows how many first",
  options: {
    ...FILTER_OPTIONS,
    "from-step": { type: "string" },
    limit: { type: "string" },
    "dry-run": { type: "boolean" },
  },
  async run({ api, out, args, flags }) {
    const action = required(args[0], "cancel|retry|rerun");
    if (!ACTIONS.includes(action)) throw new UsageError(`ipa executions bulk ${ACTIONS.join("|")}`);
    const { tags, metadata } = labelsOf(flags);
    const filter = {
      ...(flags.workflow ? { workflowId: await workflowId(api, flags.workflow as string) } : {}),
      ...(flags.status ? { status: flags.status } : {}),
      ...(flags.q ? { q: flags.q } : {}),
      ...(tags ? { tags } : {}),
      ...(metadata ? { metadata } : {}),
    };
    const body = {
      action,
      filter,
      dryRun: Boolean(flags["dry-run"]),
      ...(flags["from-step"] ? { fromStep: flags["from-step"] } : {}),
      ...(flags.limit ? { limit: Number(flags.limit) } : {}),
    };
    const created = await api.request<BulkCreated>("POST", "/executions/bulk", body);
    if (!created.id) {
      out.done(`${created.matched} executions match; the first: ${(created.executionIds ?? []).join(" ")}`, created);
      return 0;
    }
    out.line(`Bulk ${action} ${created.id}: ${created.matched} executions`);
    let job: BulkJob;
    for (;;) {
      job = await api.get<BulkJob>(`/executions/bulk/${created.id}`);
      if (job.status !== "running") break;
      out.line(`  ${job.done + job.skipped + job.failed} of ${job.matched}…`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    out.done(`${job.status}: ${job.done} done, ${job.skipped} skipped, ${job.failed} failed`, job);
    return job.failed > 0 || job.status !== "completed" ? 1 : 0;
  },
};

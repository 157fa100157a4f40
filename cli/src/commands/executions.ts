/**
 * `ipa run`, `ipa executions list|show|logs|watch|cancel|pause|resume|retry|rerun`,
 * `ipa approve|reject`, `ipa events send`.
 */
import { readFile } from "node:fs/promises";
import type { Execution, ExecutionSummary } from "../api-types.ts";
import type { Command, Context } from "../command.ts";
import { EXIT, UsageError } from "../errors.ts";
import { ago } from "../output.ts";
import { required, workflowId } from "../refs.ts";
import { watchExecution } from "../watch.ts";

/** JSON given inline or as @file. */
async function jsonArgument(value: string | undefined, what: string): Promise<Record<string, unknown> | undefined> {
  if (value === undefined) return undefined;
  const text = value.startsWith("@") ? await readFile(value.slice(1), "utf8") : value;
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    return parsed;
  } catch (error) {
    throw new UsageError(`${what}: ${(error as Error).message}`);
  }
}

const exitFor = (status: string) => (status === "completed" ? EXIT.ok : EXIT.executionFailed);

async function watch(ctx: Context, id: string): Promise<number> {
  const status = await watchExecution(
    ctx.api,
    id,
    (line) => ctx.out.line(line),
    (text) => {
      if (!ctx.out.json) process.stdout.write(text);
    },
  );
  if (ctx.out.json) ctx.out.done("", await ctx.api.get(`/executions/${id}`));
  return exitFor(status);
}

/** The executions list's filters as flags (`executions list`, `executions bulk`). */
export const FILTER_OPTIONS = {
  workflow: { type: "string" },
  status: { type: "string" },
  tag: { type: "string", multiple: true },
  meta: { type: "string", multiple: true },
  q: { type: "string" },
} as const;

export const run: Command = {
  usage:
    "WORKFLOW [--input JSON|@file] [--version N] [--tag TAG]... [--meta KEY=VALUE]... [--priority N] [--idempotency-key KEY] [--watch]",
  summary: "Start an execution; --watch follows it live and exits 0 when it completes, 3 when it does not",
  options: {
    input: { type: "string" },
    version: { type: "string" },
    "idempotency-key": { type: "string" },
    watch: { type: "boolean", short: "w" },
    tag: { type: "string", multiple: true },
    meta: { type: "string", multiple: true },
    priority: { type: "string" },
  },
  async run(ctx) {
    const id = await workflowId(ctx.api, ctx.args[0]);
    const input = await jsonArgument(ctx.flags.input as string | undefined, "--input");
    const key = ctx.flags["idempotency-key"] as string | undefined;
    const started = await ctx.api.request<{ id: string; status: string; skipped?: boolean }>(
      "POST",
      `/workflows/${id}/executions`,
      {
        ...(input ? { input } : {}),
        ...(ctx.flags.version ? { version: Number(ctx.flags.version) } : {}),
        ...(ctx.flags.priority ? { priority: Number(ctx.flags.priority) } : {}),
        ...labelsOf(ctx.flags),
      },
      key ? { "idempotency-key": key } : undefined,
    );
    if (!ctx.flags.watch) {
      const what = started.skipped ? `Skipped (singleton): ${started.id} is already going` : `Started ${started.id}`;
      ctx.out.done(`${what} (${started.status}); follow it with: ipa executions watch ${started.id}`, started);
      return 0;
    }
    ctx.out.line(`Started ${started.id}`);
    return watch(ctx, started.id);
  },
};

export const list: Command = {
  usage: "[--workflow WORKFLOW] [--status STATUS] [--tag TAG]... [--meta KEY=VALUE]... [--q TEXT] [--limit N]",
  summary: "Executions you may read, newest first (every filter given must match)",
  options: { ...FILTER_OPTIONS, limit: { type: "string" } },
  async run({ api, out, flags }) {
    const query = new URLSearchParams({ limit: String(flags.limit ?? 20) });
    if (flags.workflow) query.set("workflowId", await workflowId(api, flags.workflow as string));
    if (flags.status) query.set("status", String(flags.status));
    if (flags.q) query.set("q", String(flags.q));
    const { tags = [], metadata = {} } = labelsOf(flags);
    for (const tag of tags) query.append("tag", tag);
    for (const [key, value] of Object.entries(metadata)) query.set(`meta.${key}`, value);
    const page = await api.get<{ items: ExecutionSummary[] }>(`/executions?${query}`);
    out.table(page.items, [
      ["id", (e) => e.id],
      ["status", (e) => e.status],
      ["trigger", (e) => e.triggerType],
      ["run", (e) => e.run],
      ["tags", (e) => e.tags.join(",") || null],
      ["tokens", (e) => e.promptTokens + e.completionTokens],
      ["took", (e) => (e.durationMs === null ? null : `${(e.durationMs / 1000).toFixed(1)}s`)],
      ["created", (e) => ago(e.createdAt)],
    ]);
    return 0;
  },
};

export const show: Command = {
  usage: "EXECUTION",
  summary: "An execution and its steps (why each waiting step waits)",
  async run({ api, out, args }) {
    const execution = await api.get<Execution>(`/executions/${required(args[0], "EXECUTION")}`);
    if (out.json) {
      out.done("", execution);
      return 0;
    }
    out.record(execution as unknown as Record<string, unknown>, [
      "id",
      "status",
      "triggerType",
      "run",
      "tags",
      "metadata",
      "input",
      "output",
      "error",
      "parentExecutionId",
      "compensation",
    ]);
    out.line("");
    out.table(
      [...execution.steps, ...execution.compensations],
      [
        ["step", (s) => s.stepId],
        ["type", (s) => s.type],
        ["status", (s) => s.status],
        ["attempt", (s) => s.attempt],
        ["waiting", (s) => s.waiting?.reason ?? null],
        // A map's or a loop's counts (its items: GET …/steps/<step>/items).
        [
          "progress",
          (s) =>
            s.progress ? `${s.progress.completed}/${s.progress.total ?? "?"} done, ${s.progress.failed} failed` : null,
        ],
      ],
    );
    if (execution.children.length > 0) {
      out.line("");
      out.table(execution.children, [
        ["child", (c) => c.id],
        ["step", (c) => c.parentStepId],
        ["status", (c) => c.status],
      ]);
    }
    return 0;
  },
};

export const logs: Command = {
  usage: "EXECUTION [--limit N]",
  summary: "The execution's event log, oldest first",
  options: { limit: { type: "string" } },
  async run({ api, out, args, flags }) {
    const page = await api.get<{
      items: Array<{
        seq: number;
        at: string;
        level: string;
        event: string;
        stepId: string | null;
        message: string | null;
      }>;
    }>(`/executions/${required(args[0], "EXECUTION")}/logs?limit=${flags.limit ?? 200}`);
    out.table(page.items, [
      ["seq", (l) => l.seq],
      ["at", (l) => l.at],
      ["level", (l) => l.level],
      ["event", (l) => l.event],
      ["step", (l) => l.stepId],
      ["message", (l) => l.message],
    ]);
    return 0;
  },
};

export const watchCommand: Command = {
  usage: "EXECUTION",
  summary: "Follow an execution live until it ends (exit 0 completed, 3 otherwise)",
  async run(ctx) {
    return watch(ctx, required(ctx.args[0], "EXECUTION"));
  },
};

/** cancel, pause, resume, retry: one POST each. */
export function control(action: "cancel" | "pause" | "resume" | "retry"): Command {
  return {
    usage: action === "cancel" ? "EXECUTION [--compensate]" : "EXECUTION",
    ...(action === "cancel" ? { options: { compensate: { type: "boolean" as const } } } : {}),
    summary: {
      cancel: "Cancel: no later step runs",
      pause: "Pause: steps in flight finish",
      resume: "Resume a paused execution",
      retry: "Run a failed execution again from its failed steps",
    }[action],
    async run({ api, out, args, flags }) {
      const id = required(args[0], "EXECUTION");
      // --compensate: the completed steps' compensations run before it ends (docs/workflows.md).
      const body = action === "cancel" && flags.compensate ? { compensate: true } : undefined;
      const result = await api.post<{ id: string; status: string }>(`/executions/${id}/${action}`, body);
      out.done(`${id}: ${result.status}`, result);
      return 0;
    },
  };
}

export const rerun: Command = {
  usage: "EXECUTION --from STEP [--version N] [--input JSON|@file] [--dry-run]",
  summary:
    "Run a step and everything downstream again; --dry-run shows what would run and which steps have side effects",
  options: {
    from: { type: "string" },
    version: { type: "string" },
    input: { type: "string" },
    "dry-run": { type: "boolean" },
  },
  async run({ api, out, args, flags }) {
    const id = required(args[0], "EXECUTION");
    const body = {
      fromStep: required(flags.from as string | undefined, "--from STEP"),
      ...(flags.version ? { version: Number(flags.version) } : {}),
      ...(flags.input ? { input: await jsonArgument(flags.input as string, "--input") } : {}),
      ...(flags["dry-run"] ? { dryRun: true } : {}),
    };
    const result = await api.post<{
      status: string;
      plan: { rerun: Array<{ stepId: string; type: string; sideEffects: boolean }> };
    }>(`/executions/${id}/rerun`, body);
    if (out.json) {
      out.done("", result);
      return 0;
    }
    out.line(flags["dry-run"] ? "Would run again:" : `${id}: ${result.status}; running again:`);
    out.table(result.plan.rerun, [
      ["step", (s) => s.stepId],
      ["type", (s) => s.type],
      ["side effects", (s) => (s.sideEffects ? "yes" : "no")],
    ]);
    return 0;
  },
};

export function decision(verb: "approve" | "reject"): Command {
  return {
    usage: "EXECUTION STEP [--comment TEXT]",
    summary:
      verb === "approve"
        ? "Approve a waiting approval step"
        : "Reject a waiting approval step (it fails with reason rejected)",
    options: { comment: { type: "string", short: "m" } },
    async run({ api, out, args, flags }) {
      const id = required(args[0], "EXECUTION");
      const step = required(args[1], "STEP");
      const result = await api.post<{ status: string }>(
        `/executions/${id}/steps/${step}/${verb}`,
        flags.comment ? { comment: String(flags.comment) } : {},
      );
      out.done(`${step} ${verb === "approve" ? "approved" : "rejected"}; execution ${result.status}`, result);
      return 0;
    },
  };
}

export const sendEvent: Command = {
  usage: "EXECUTION NAME [--payload JSON|@file]",
  summary: "Deliver an event to the execution's event steps (buffered if none waits yet)",
  options: { payload: { type: "string" } },
  async run({ api, out, args, flags }) {
    const id = required(args[0], "EXECUTION");
    const name = required(args[1], "NAME");
    const payload = await jsonArgument(flags.payload as string | undefined, "--payload");
    const result = await api.post(`/executions/${id}/events/${encodeURIComponent(name)}`, payload ? { payload } : {});
    out.done(`Delivered ${name} to ${id}`, result);
    return 0;
  },
};

/** `--tag` and `--meta KEY=VALUE` (each repeatable) as a start body's or a filter's labels. */
export function labelsOf(flags: Context["flags"]): { tags?: string[]; metadata?: Record<string, string> } {
  const tags = (flags.tag as string[] | undefined) ?? [];
  const pairs = (flags.meta as string[] | undefined) ?? [];
  const metadata = Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf("=");
      if (at < 1) throw new UsageError(`--meta takes KEY=VALUE, not "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  return { ...(tags.length ? { tags } : {}), ...(pairs.length ? { metadata } : {}) };
}

/**
 * Starting executions (manual, webhook, schedule, agent tool). The start request inserts the
 * execution row and its idempotency record in one transaction, then hands the execution to its
 * Durable Object; if that hand-off fails, the watchdog starts it from the row.
 */
import { and, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import type { AuthenticatedUser } from "../auth/principal";
import { settings } from "../config";
import { sha256Hex } from "../crypto/encoding";
import type { Database, Queryable, Transaction } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { executions, workflows, workflowVersions } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import type { StartRequest } from "../durable-objects/execution/rpc";
import { schemaViolations } from "../engine/json-schema";
import type { QueueReason, TriggerType } from "../engine/vocabulary";
import type { Bindings } from "../env";
import { ConflictError, NotFoundError, ValidationError } from "../errors";
import type { TraceContext } from "../observability/tracing/trace-context";
import type { Definition } from "../steps/definition";
import { authorize } from "./access";
import {
  admissionFor,
  ancestorHoldsSlot,
  concurrencyKeyOf,
  QUEUED_CHECK_AT,
  queueExpiry,
  singletonKeyOf,
} from "./concurrency";
import { findExecution } from "./execution-access";
import { handOff } from "./execution-handoff";
import { type ExecutionLabels, labelColumns, NO_LABELS } from "./execution-labels";
import { executionNeeds } from "./execution-needs";
import { assertQuota } from "./quotas";
import { type ActiveExecution, activeOfKey, cancelSuperseded, supersedeQueued } from "./singleton";
import { decideGates, type GateDecision, gateKeysOf, wakeGate } from "./start-gates";
import { findReplay, recordIdempotencyKey, resumeReplay, type Started, streamUrlOf } from "./start-replays";
import { hasNothingToDecide, startInOneStatement } from "./start-statement";
import { ownerOf, ownershipOf, type WorkflowRow } from "./workflows";

export interface StartOptions {
  workflowId: string;
  input: Record<string, unknown>;
  version?: number;
  triggerType: TriggerType;
  /** The caller for manual starts; null for webhooks, schedules and tools (the workflow owner's runs). */
  user: AuthenticatedUser | null;
  /** For a workflow tool's child: who must be allowed to start it (the parent's user), though the run is the owner's. */
  authorizeAs?: AuthenticatedUser;
  audit: AuditContext;
  idempotencyKey?: string;
  parent?: StartRequest["parent"];
  /** A caller-chosen id (a workflow tool's child, derived from its call): a second start with it finds the first. */
  executionId?: string;
  /** The caller's trace (a `traceparent` on the start request): the execution's trace joins it. */
  trace?: TraceContext | null;
  /** Tags and metadata the starter gives it (docs/api.md). */
  labels?: ExecutionLabels;
  /** Among queued executions of its key, higher begins first (-100 to 100; default 0). */
  priority?: number;
  /** Awaited before the start's first write: the request's caller confirmed live (its reads go beside that check). */
  confirmCaller?: () => Promise<void>;
  /** Extra writes that must commit with the execution row (a webhook delivery, a schedule run). */
  beforeCommit?: (tx: Transaction, executionId: string) => Promise<void>;
}

export async function startExecution(db: Database, env: Bindings, options: StartOptions): Promise<Started> {
  const found = await workflowToStart(db, options.workflowId, options.version);
  for (const principal of [options.user, options.authorizeAs]) {
    if (principal) authorize(principal, found ? ownershipOf(found.row) : null, "Workflow", "executions:create");
  }
  const workflow = found?.row;
  if (!workflow) throw new ConflictError("The workflow does not exist", "WORKFLOW_MISSING");
  assertStartable(workflow, options.triggerType);
  const version = found.version;
  if (!version && options.version) throw new NotFoundError("Version");
  if (!version) throw new ConflictError("The workflow has no version to run", "NO_VERSION");
  const definition = version.definition as Definition;
  assertInputFits(definition, options.input);
  await options.confirmCaller?.();

  const requestHash = await sha256Hex(
    // Labels and priority join the request only when given, so a key's earlier plain request still matches.
    JSON.stringify({
      workflowId: workflow.id,
      version: options.version ?? null,
      input: options.input,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.priority ? { priority: options.priority } : {}),
    }),
  );
  if (options.user && options.idempotencyKey) {
    const replay = await findReplay(db, env, options.user.id, options.idempotencyKey, requestHash);
    if (replay) return replay;
  }

  const id = options.executionId ?? crypto.randomUUID();
  const createdAt = new Date();
  const needs = await executionNeeds(db, definition);
  const concurrencyKey = concurrencyKeyOf(definition, { input: options.input });
  const singletonKey = singletonKeyOf(definition, { input: options.input });
  const gateKeys = gateKeysOf(definition, options.input);
  let status = "pending" as "pending" | "queued";
  let superseded: string[] = [];
  let gates: GateDecision = { kind: "passed", throttled: false };
  let outcome: { skipped: ActiveExecution } | { merged: string } | null = null;
  // The row and the audit entry of this start, as it is decided.
  const rowOf = (queueReason: QueueReason | null) => ({
    id,
    workflowId: workflow.id,
    workflowVersionId: version.id,
    status,
    concurrencyKey,
    singletonKey,
    throttleKey: gateKeys.throttle,
    debounceKey: gateKeys.debounce,
    priority: options.priority ?? 0,
    ...(queueReason
      ? { queueReason, nextCheckAt: QUEUED_CHECK_AT, queueExpiresAt: queueExpiry(definition, createdAt) }
      : {}),
    ...(gates.kind === "queued" && gates.admitAt ? { admitAt: gates.admitAt } : {}),
    ...(gates.kind === "passed" && gates.throttled ? { throttlePassedAt: sql`now()` } : {}),
    triggerType: options.triggerType,
    triggeredBy: options.user?.id ?? null,
    parentExecutionId: options.parent?.executionId ?? null,
    parentStepId: options.parent?.stepId ?? null,
    input: options.input,
    ...labelColumns(options.labels ?? NO_LABELS),
    trace: options.trace ?? null,
    createdAt,
  });
  const startedEntry = (queueReason: QueueReason | null) => ({
    action: "execution.start",
    resourceType: "execution",
    resourceId: id,
    after: {
      workflowId: workflow.id,
      version: version.versionNumber,
      triggerType: options.triggerType,
      ...(options.labels ? { tags: options.labels.tags, metadata: options.labels.metadata } : {}),
      ...(queueReason ? { queued: queueReason, concurrencyKey } : {}),
      ...(options.priority ? { priority: options.priority } : {}),
      ...(superseded.length ? { superseded } : {}),
    },
  });
  try {
    if (options.user && hasNothingToDecide(definition, options))
      await startInOneStatement(db, settings(env), options.user, rowOf(null), options.audit, startedEntry(null));
    else
      outcome = await db.transaction(async (tx) => {
        if (singletonKey !== null && definition.singleton) {
          const active = await activeOfKey(tx, workflow.id, singletonKey);
          if (active.length && definition.singleton.mode === "skip") {
            // A skipped start is still an answered one: a schedule's slot is taken, a webhook's
            // delivery recorded (so neither fires again), both naming the execution already going.
            await options.beforeCommit?.(tx, active[0].id);
            return { skipped: active[0] };
          }
          superseded = await supersedeQueued(tx, options.audit, active);
        }
        // The same request's idempotency record and audit row, whichever execution it ends up as.
        const recordStart = async (executionId: string, action: string, after: Record<string, unknown>) => {
          if (options.user && options.idempotencyKey)
            await recordIdempotencyKey(
              tx,
              options.user.id,
              options.idempotencyKey,
              requestHash,
              executionId,
              createdAt,
            );
          await options.beforeCommit?.(tx, executionId);
          await recordAudit(tx, options.audit, { action, resourceType: "execution", resourceId: executionId, after });
        };
        gates = await decideGates(
          tx,
          workflow.id,
          version.id,
          definition,
          gateKeys,
          options.input,
          Boolean(options.parent),
        );
        if (gates.kind === "merged") {
          await recordStart(gates.executionId, "execution.debounce", { triggerType: options.triggerType });
          return { merged: gates.executionId };
        }
        // Webhook, schedule and tool runs belong to the workflow's owner, and count against their quota.
        await assertQuota(tx, settings(env), "activeExecutions", options.user ?? (await ownerOf(tx, workflow.ownerId)));
        if (gates.kind === "queued") status = "queued";
        else if (concurrencyKey !== null && definition.concurrency)
          status = await admissionFor(tx, workflow.id, concurrencyKey, definition.concurrency.limit);
        const queueReason = gates.kind === "queued" ? gates.gate : status === "queued" ? "concurrency" : null;
        // A child that would queue behind a slot its own ancestor holds would wait for ever: refused.
        if (queueReason === "concurrency" && options.parent && concurrencyKey !== null)
          if (await ancestorHoldsSlot(tx, options.parent.executionId, workflow.id, concurrencyKey))
            throw new ConflictError(
              "The workflow's concurrency limit is full, and one of its slots is held by an execution waiting for this one: starting it would never end",
              "CONCURRENCY_DEADLOCK",
            );
        await tx.insert(executions).values(rowOf(queueReason));
        const entry = startedEntry(queueReason);
        await recordStart(id, entry.action, entry.after);
        return null;
      });
  } catch (error) {
    // Two requests raced with one key: the loser answers with the winner's execution.
    if (options.user && options.idempotencyKey && isUniqueViolation(error, "idempotency_keys_pkey")) {
      const replay = await findReplay(db, env, options.user.id, options.idempotencyKey, requestHash);
      if (replay) return replay;
    }
    if (options.executionId && isUniqueViolation(error, "executions_pkey")) {
      const existing = await findExecution(db, options.executionId);
      if (existing?.row.workflowId === workflow.id) return resumeReplay(db, env, existing);
    }
    throw error;
  }

  if (outcome && "skipped" in outcome) {
    const { id: going, status: goingStatus } = outcome.skipped;
    return {
      id: going,
      status: goingStatus,
      streamUrl: streamUrlOf(going),
      created: false,
      skipped: true,
      trace: null,
    };
  }
  if (outcome && "merged" in outcome)
    return {
      id: outcome.merged,
      status: "queued",
      streamUrl: streamUrlOf(outcome.merged),
      created: false,
      debounced: true,
      trace: null,
    };
  await cancelSuperseded(db, env, options.audit, superseded);
  const decided = gates as GateDecision;
  if (decided.kind === "queued" && decided.wake) await wakeGate(env, decided.wake, decided.wakeInMs);

  const request: StartRequest = {
    executionId: id,
    workflowId: workflow.id,
    workflowVersionId: version.id,
    versionNumber: version.versionNumber,
    definition,
    input: options.input,
    triggerType: options.triggerType,
    triggeredBy: options.user?.id ?? null,
    workflowOwnerId: workflow.ownerId,
    parent: options.parent ?? null,
    trace: options.trace ?? null,
    createdAt: createdAt.toISOString(),
    ...needs,
  };
  // A queued execution's object starts when it is admitted (start-gates.ts, admission.ts).
  const started = status === "queued" ? status : await handOff(env, request);
  return { id, status: started, streamUrl: streamUrlOf(id), created: true, trace: request.trace ?? null };
}

export function assertInputFits(definition: Definition, input: unknown): void {
  if (!definition.inputSchema) return;
  const problems = schemaViolations(definition.inputSchema, input, "input");
  if (problems.length) throw new ValidationError(problems, "The input does not match the workflow's inputSchema");
}

function assertStartable(workflow: WorkflowRow, trigger: TriggerType): void {
  if (workflow.status === "archived") throw new ConflictError("The workflow is archived", "WORKFLOW_ARCHIVED");
  if ((trigger === "webhook" || trigger === "schedule") && workflow.status !== "active") {
    throw new ConflictError("Only active workflows run from webhooks and schedules", "WORKFLOW_NOT_ACTIVE");
  }
}

/** The workflow with the version to run (the chosen one, or its current one), in one query. */
async function workflowToStart(db: Queryable, workflowId: string, versionNumber: number | undefined) {
  const [found] = await db
    .select({ row: workflows, version: workflowVersions })
    .from(workflows)
    .leftJoin(
      workflowVersions,
      versionNumber
        ? and(eq(workflowVersions.workflowId, workflows.id), eq(workflowVersions.versionNumber, versionNumber))
        : eq(workflowVersions.id, workflows.currentVersionId),
    )
    .where(eq(workflows.id, workflowId));
  return found ?? null;
}

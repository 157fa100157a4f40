/** What the execution's object is asked over RPC, and what it answers (typed across the boundary). */
import type { AgentSnapshot } from "../../agents/snapshot";
import type { AuditContext } from "../../db/schema/audit";
import type { ExecutionStatus, StepError, TriggerType } from "../../engine/vocabulary";
import type { TraceContext } from "../../observability/tracing/trace-context";
import type { Definition, StepType } from "../../steps/definition";
import type { Actor } from "../../steps/task";
import type { InvariantKind } from "./invariants";
import type { ExecutionRecord, StepState } from "./types";

/** What a start request hands the Durable Object (the row is already in Postgres). */
export interface StartRequest {
  executionId: string;
  workflowId: string;
  workflowVersionId: string;
  versionNumber: number;
  definition: Definition;
  input: unknown;
  triggerType: TriggerType;
  triggeredBy: string | null;
  workflowOwnerId: string;
  parent: ExecutionRecord["parent"];
  createdAt: string;
  /** The agents the definition's agent steps use, resolved now so steps never need Postgres. */
  agents: Record<string, AgentSnapshot>;
  /** The caller's trace, when the start request carried a `traceparent`. */
  trace?: TraceContext | null;
}

/** A retired execution as Postgres holds it, to bring its object back. */
export interface RestoreRequest {
  record: ExecutionRecord;
  steps: StepState[];
  lastSeq: number;
  agents: Record<string, AgentSnapshot>;
}

export type ControlAction = "cancel" | "pause" | "resume" | "retry";

/** A control from the API; the audit row is written with the transition it causes. */
export interface ControlRequest {
  action: ControlAction;
  /** Who asks: a retry's run acts for them. */
  actingUserId: string | null;
  audit: AuditContext;
  /** Why a cancel ends it, on the execution (a newer singleton start: `superseded`); none for a person's cancel. */
  reason?: StepError;
  /** A cancel runs the completed steps' compensations first (docs/workflows.md "Compensation"). */
  compensate?: boolean;
}

export interface DecisionRequest {
  stepId: string;
  approved: boolean;
  comment: string | null;
  /** For a step waiting on its budget: the new budget to continue under. */
  raiseBudgetUsd: number | null;
  actor: Actor;
  audit: AuditContext;
}

export interface EventDelivery {
  name: string;
  payload: unknown;
  /** A sender's retry with the same key is delivered once. */
  idempotencyKey: string | null;
  audit: AuditContext;
}

export interface RerunRequest {
  fromStep: string;
  /** Another version's definition to run (docs/engine.md), already loaded by the API. */
  version: { workflowVersionId: string; versionNumber: number; definition: Definition } | null;
  input: unknown | undefined;
  dryRun: boolean;
  agents: Record<string, AgentSnapshot>;
  /** Who asks: the new run acts for them. */
  actingUserId: string | null;
  audit: AuditContext;
}

export interface RerunPlan {
  run: number;
  fromStep: string;
  versionNumber: number;
  /** Steps whose outputs are kept. */
  keep: string[];
  /** Steps the last run compensated (they always run again), and those whose compensation failed. */
  compensated: string[];
  compensationFailed: string[];
  /** Steps that run again, in definition order, with whether they reach outside the platform. */
  rerun: Array<{ stepId: string; type: StepType; sideEffects: boolean }>;
  sideEffects: string[];
}

export type Refusal = { ok: false; code: "NOT_STARTED" | "NOT_FOUND" | "CONFLICT" | "FORBIDDEN"; message: string };
export type ValidationRefusal = {
  ok: false;
  code: "VALIDATION";
  message: string;
  details: Array<{ path: string; message: string }>;
};

export type ControlResult = { ok: true; status: ExecutionStatus } | Refusal | ValidationRefusal;
export type DeliveryResult =
  | { ok: true; delivered: boolean; buffered: boolean; replayed?: boolean }
  | Refusal
  | ValidationRefusal;
export type RerunResult = { ok: true; plan: RerunPlan; status: ExecutionStatus } | Refusal;

/** What the watchdog learns when it pokes an object. */
export type WatchdogReport =
  | { started: false }
  | {
      started: true;
      status: ExecutionStatus;
      nextDue: number | null;
      unflushed: number;
      redriven: number;
      /** Invariants found broken and repaired on this visit, by kind. */
      repairs: Partial<Record<InvariantKind, number>>;
    };

/** The refusals the object answers with. */
export function conflict(message: string): Refusal {
  return { ok: false, code: "CONFLICT", message };
}

export function notFound(what: string): Refusal {
  return { ok: false, code: "NOT_FOUND", message: `${what} not found` };
}

export function notStarted(): Refusal {
  return { ok: false, code: "NOT_STARTED", message: "The execution has not reached its object yet" };
}

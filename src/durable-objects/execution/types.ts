import type { TokenUsage } from "../../agents/state";
import type { AuditEntry } from "../../audit/record";
import type { AuditContext } from "../../db/schema/audit";
import type {
  ExecutionStatus,
  LogLevel,
  SkipReason,
  StepError,
  StepStatus,
  TriggerType,
} from "../../engine/vocabulary";
import type { TraceContext } from "../../observability/tracing/trace-context";
import type { Definition, StepType } from "../../steps/definition";
import type { OffloadRef } from "../../steps/large-values";
import type { Waiting } from "../../steps/task";

/** What a finished child execution reports to the step that started it. */
export interface ChildResult {
  executionId: string;
  status: ExecutionStatus;
  output: unknown;
  error: unknown;
}

/** A queued step's message in flight: sent to the queue or waiting to be, and claimed or not. */
export interface Dispatch {
  /** The send of this attempt's message is confirmed. */
  sent: boolean;
  /** Messages sent for this attempt (re-sends of unclaimed ones included). */
  sends: number;
  /** Claims granted for this attempt; above 1, an earlier consumer may have stashed a result. */
  claims: number;
  /** Sends of this attempt's message that failed in a row (the re-send backs off). */
  sendFailures: number;
}

export interface Lease {
  token: string;
  until: number;
  /** How long each renewal holds it (absent in leases granted before runners differed: LEASE_MS). */
  ms?: number;
}

export interface StepState {
  stepId: string;
  type: StepType;
  status: StepStatus;
  /** Numbered across runs of the execution, never reset. */
  attempt: number;
  /** Attempts in the current run (what the retry policy counts). */
  runAttempts: number;
  /** The execution run that last started this step. */
  run: number;
  /** Stable across this run's attempts; new on a rerun. */
  idempotencyKey: string | null;
  /** Inline, or an OffloadRef when large (inputRef/outputRef say which). */
  input: unknown;
  output: unknown;
  inputRef: OffloadRef | null;
  outputRef: OffloadRef | null;
  error: StepError | null;
  startedAt: string | null;
  completedAt: string | null;
  /** When the current attempt started (its span's start). */
  attemptStartedAt?: string;
  retries: number;
  deadLetters: number;
  promptTokens: number;
  completionTokens: number;
  /** Across attempts and runs; null once a model without a price was called. */
  costUsd: number | null;
  waiting: Waiting | null;
  skipReason: SkipReason | null;
  dispatch: Dispatch | null;
  lease: Lease | null;
  /** Tokens of the current attempt already counted into the totals (checkpoints report them). */
  attemptUsage: TokenUsage;
  /** The order steps completed in (the event that completed it): compensations run in reverse. */
  completedSeq?: number;
  /** A map's or a loop's sub-steps so far (docs/workflows.md "Control flow"). */
  progress?: ContainerProgress | null;
  /** Agent steps waiting for the child executions their workflow tools started. */
  children: {
    waitingFor: Array<{ toolCallId: string; executionId: string }>;
    results: Record<string, ChildResult>;
  } | null;
}

/** A container's sub-steps: started, running (or waiting to), and ended each way. */
export interface ContainerProgress {
  /** A map's item count; null for a loop (it runs until `until` holds). */
  total: number | null;
  started: number;
  running: number;
  completed: number;
  failed: number;
  /** A map item failed without `continueOnError`: no more start, and the map fails once the running ones settle. */
  stopping: boolean;
}

/**
 * The compensations of an execution that failed or was cancelled with `compensate` (docs/workflows.md
 * "Compensation"): run one at a time, last completed step first.
 */
export interface CompensationState {
  /** How the execution ends once they have run. */
  endAs: "failed" | "cancelled";
  error: (StepError & { stepId?: string }) | null;
  /** Steps whose compensation is still to run, next first. */
  pending: string[];
  completed: string[];
  failed: Array<{ stepId: string; error: StepError }>;
}

export interface ExecutionRecord {
  id: string;
  workflowId: string;
  workflowVersionId: string;
  versionNumber: number;
  definition: Definition;
  input: unknown;
  status: ExecutionStatus;
  triggerType: TriggerType;
  triggeredBy: string | null;
  /** The workflow's owner, to whom webhook and scheduled runs belong. */
  workflowOwnerId: string;
  /**
   * Who the current run acts for, when a rerun or retry made it the requester's (docs/security.md);
   * absent: its starter, else the workflow's owner.
   */
  actingUserId?: string | null;
  parent: { executionId: string; stepId: string; attempt: number } | null;
  /** 1 for the first run, +1 for each retry or rerun. */
  run: number;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  output: unknown;
  error: (StepError & { stepId?: string }) | null;
  promptTokens: number;
  completionTokens: number;
  /** The agent steps' costs together; null once one is unknown. */
  costUsd: number | null;
  /** The cost budget once an owner raised it (else the definition's `costBudgetUsd`). */
  costBudgetUsd?: number | null;
  /** Its compensations, once it has begun them (docs/workflows.md "Compensation"). */
  compensation?: CompensationState | null;
  /** The trace the execution joined (a `traceparent` on its start request); absent: its own. */
  trace?: TraceContext | null;
}

export type EventName =
  | "step.started"
  | "step.completed"
  | "step.failed"
  | "step.skipped"
  | "step.waiting"
  /** A map's or a loop's counts changed (one event per change, not one per item). */
  | "step.progress"
  | `execution.${ExecutionStatus}`
  | "log";

export interface ExecutionEvent {
  seq: number;
  at: string;
  event: EventName;
  stepId: string | null;
  level: LogLevel;
  message: string | null;
  data: unknown;
}

/** An audit row that travels through the outbox with the event that caused it. */
export interface PendingAudit {
  context: AuditContext;
  entry: AuditEntry;
}

/** What compensation did, as the API and the stream show it (docs/workflows.md "Compensation"). */
export interface CompensationView {
  completed: string[];
  failed: Array<{ stepId: string; error: StepError }>;
  notRun: string[];
}

export interface Snapshot {
  execution: Omit<ExecutionRecord, "definition" | "compensation"> & {
    steps: StepState[];
    compensation: CompensationView | null;
  };
  seq: number;
}

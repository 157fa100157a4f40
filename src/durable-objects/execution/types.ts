/** The execution Durable Object's state, events and RPC shapes (typed across the RPC boundary). */
import type { AgentSnapshot } from "../../agents/snapshot";
import type { AgentState } from "../../agents/state";
import type { AuditContext, AuditEntry } from "../../audit/record";
import type { Definition, QueuedStepType, StepType } from "../../engine/definition";
import type {
  ExecutionStatus,
  LogLevel,
  SkipReason,
  StepError,
  StepStatus,
  TriggerType,
  WaitReason,
} from "../../engine/vocabulary";
import type { TraceContext } from "../../observability/tracing/trace-context";
import type { InvariantKind } from "./invariants";
import type { OffloadRef } from "./large-values";

export type { ExecutionStatus, StepError, StepStatus, TriggerType };

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** What the tokens (and priced tool calls) cost; null when a model had no price; absent before costs existed. */
  costUsd?: number | null;
}

export type StepOutcome =
  | { ok: true; output: unknown; usage?: TokenUsage }
  | { ok: false; error: StepError; usage?: TokenUsage };

/** Why a step waits, with what it waits for and until when (docs/engine.md). */
export type Waiting =
  | { reason: "approval"; approverRoles: string[] | null; message: string | null; expiresAt: string | null }
  | { reason: "event"; event: string; expiresAt: string | null }
  | { reason: "delay"; until: string }
  | { reason: "retry"; nextAttemptAt: string; attempt: number; error: StepError }
  | { reason: "children"; executionIds: string[] }
  /** The next model call could take the execution over its cost budget: an owner raises it or rejects. */
  | { reason: "budget"; budgetUsd: number; spentUsd: number; nextCallUsd: number };

/** Every wait reason the union carries is one of the vocabulary's. */
type _WaitingUsesTheVocabulary = Waiting["reason"] extends WaitReason ? true : never;
export const WAITING_USES_THE_VOCABULARY: _WaitingUsesTheVocabulary = true;

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
  /** Agent steps waiting for the child executions their workflow tools started. */
  children: {
    waitingFor: Array<{ toolCallId: string; executionId: string }>;
    results: Record<string, ChildResult>;
  } | null;
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
  /** The trace the execution joined (a `traceparent` on its start request); absent: its own. */
  trace?: TraceContext | null;
}

export type EventName =
  | "step.started"
  | "step.completed"
  | "step.failed"
  | "step.skipped"
  | "step.waiting"
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

/** An event delivered before the step that waits for it (docs/workflows.md `event` steps). */
export interface BufferedEvent {
  id: string;
  name: string;
  payload: unknown;
  receivedAt: string;
}

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

/** A queued step attempt as its consumer runs it. */
export interface StepTask {
  executionId: string;
  workflowId: string;
  /** Who the execution runs for: its starter, else its workflow's owner (workflow tools check it). */
  actingUserId: string;
  stepId: string;
  type: QueuedStepType;
  attempt: number;
  idempotencyKey: string;
  /** Presented with every report; a consumer whose lease was taken over is refused. */
  lease: string;
  /** The lease runs out this long after the claim or the last heartbeat. */
  leaseMs: number;
  /** Claims of this attempt so far (1 for the first). */
  claims: number;
  /** The resolved input, or null when it is in R2 (inputRef). */
  input: unknown;
  inputRef: OffloadRef | null;
  /** The attempt must end by then (ms since the epoch): its step timeout, armed at this claim. */
  deadline: number;
  /** Tokens the execution has used so far, and its budget when the definition sets one. */
  executionTokens: number;
  executionTokenBudget: number | null;
  /** What the execution has cost so far (null: unknown), and its cost budget when it has one. */
  executionCostUsd: number | null;
  executionCostBudgetUsd: number | null;
  agent: AgentSnapshot | null;
  /** The execution's trace id (http steps and tools pass it on as `traceparent`). */
  traceId: string;
  /** The attempt's streamed text the object keeps (a takeover's tokens continue from there). */
  streamedChars: number;
  /** Agent steps: the conversation as far as its last checkpoint, and its children's results. */
  checkpoint: AgentState | null;
  childResults: Array<{ toolCallId: string; content: string }>;
}

export type ClaimResult =
  | { kind: "run"; task: StepTask }
  | { kind: "stale" }
  | { kind: "busy"; retryAfterSeconds: number };

/** What a consumer's report, heartbeat or checkpoint got back. */
export type ReportResult = { accepted: true } | { accepted: false; reason: "stale" | "lease_lost" };

/**
 * An agent step handing back its conversation to wait without a consumer: for the child workflows
 * its `workflow` tools started, or for an owner to raise the cost budget its next call would exceed.
 */
export type AgentSuspension =
  | {
      kind: "children";
      state: AgentState;
      waitingFor: Array<{ toolCallId: string; executionId: string }>;
      usage: TokenUsage;
    }
  | {
      kind: "budget";
      state: AgentState;
      budget: { budgetUsd: number; spentUsd: number; nextCallUsd: number };
      usage: TokenUsage;
    };

export interface Actor {
  id: string;
  email: string;
  roles: string[];
}

export type ControlAction = "cancel" | "pause" | "resume" | "retry";

/** A control from the API; the audit row is written with the transition it causes. */
export interface ControlRequest {
  action: ControlAction;
  /** Who asks: a retry's run acts for them. */
  actingUserId: string | null;
  audit: AuditContext;
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

/** An audit row that travels through the outbox with the event that caused it. */
export interface PendingAudit {
  context: AuditContext;
  entry: AuditEntry;
}

export interface Snapshot {
  execution: Omit<ExecutionRecord, "definition"> & { steps: StepState[] };
  seq: number;
}

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

/** The execution Durable Object's state, events and RPC shapes. */
import type { ChatMessage } from "../../agents/providers/types";
import type { AuditContext, AuditEntry } from "../../audit/record";
import type { Definition, StepType } from "../../engine/definition";

export type ExecutionStatus = "pending" | "running" | "paused" | "completed" | "failed" | "cancelled";
export type StepStatus = "pending" | "running" | "waiting" | "completed" | "failed" | "skipped";
export type TriggerType = "manual" | "webhook" | "schedule" | "tool" | "retry";

export const TERMINAL_EXECUTION: ReadonlySet<ExecutionStatus> = new Set(["completed", "failed", "cancelled"]);
export const TERMINAL_STEP: ReadonlySet<StepStatus> = new Set(["completed", "failed", "skipped"]);

export interface StepError {
  message: string;
  /** Machine-readable cause: http_error, unexpected_status, timeout, rejected, dead_lettered, … */
  reason: string;
  /** Whether the step's retry policy may try again. */
  retryable?: boolean;
  status?: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export type StepOutcome =
  | { ok: true; output: unknown; usage?: TokenUsage }
  | { ok: false; error: StepError; usage?: TokenUsage };

/** Why a step is waiting: an approval, a delay, or the pause before its next attempt. */
export type Waiting =
  | { kind: "approval"; approverRoles: string[] | null; expiresAt: string | null }
  | { kind: "delay"; until: string }
  | { kind: "retry"; nextAttemptAt: string }
  | { kind: "tools"; executionIds: string[] };

/** An agent conversation in progress, kept while its step waits for child workflows. */
export interface AgentState {
  messages: ChatMessage[];
  iterations: number;
  /** Tokens used by this attempt so far, and how many of them were already recorded. */
  usage: TokenUsage;
  reported: TokenUsage;
  toolCalls: Array<{ id: string; name: string; arguments: unknown }>;
  model: string | null;
}

/** An agent step pausing for child workflows started by its `workflow` tools. */
export interface AgentSuspension {
  state: AgentState;
  waitingFor: Array<{ toolCallId: string; executionId: string }>;
  usage: TokenUsage;
}

/** What a finished child execution reports to the step that started it. */
export interface ChildResult {
  executionId: string;
  status: ExecutionStatus;
  output: unknown;
  error: unknown;
}

export interface StepState {
  stepId: string;
  type: StepType;
  status: StepStatus;
  attempt: number;
  idempotencyKey: string | null;
  input: unknown;
  output: unknown;
  error: StepError | null;
  startedAt: string | null;
  completedAt: string | null;
  retries: number;
  deadLetters: number;
  promptTokens: number;
  completionTokens: number;
  waiting: Waiting | null;
  /** Why a skipped step was skipped: branch_not_taken, dependency_skipped, execution_failed, cancelled. */
  skipReason: string | null;
  /** Queued steps: the message for this attempt is not yet confirmed sent. */
  dispatchPending: boolean;
  /** Queued steps: a consumer holds this attempt until then (duplicate deliveries wait). */
  leaseUntil: number | null;
  /** Agent steps waiting for child workflows: the conversation and the children's results so far. */
  agent: {
    state: AgentState | null;
    waitingFor: AgentSuspension["waitingFor"];
    results: Record<string, ChildResult>;
  } | null;
  /** Queued steps: when this attempt's message was handed to the queue, and how often re-sent. */
  dispatchedAt: number | null;
  redrives: number;
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
  parent: { executionId: string; stepId: string; attempt: number } | null;
  /** 1 for the first run, +1 for each retry of the execution. */
  run: number;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  output: unknown;
  error: (StepError & { stepId?: string }) | null;
  promptTokens: number;
  completionTokens: number;
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
  level: "debug" | "info" | "warn" | "error";
  message: string | null;
  data: unknown;
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
}

/** A queued step as its consumer runs it. */
export interface StepTask {
  executionId: string;
  workflowId: string;
  stepId: string;
  type: "agent" | "http";
  attempt: number;
  idempotencyKey: string;
  input: unknown;
  /** How long the consumer may spend on this attempt. */
  timeoutMs: number;
  /** Tokens the execution has used so far, and its budget when the definition sets one. */
  executionTokens: number;
  executionTokenBudget: number | null;
  /** An agent conversation to continue, with the results of the child workflows it waited for. */
  resume: { state: AgentState; toolResults: Array<{ toolCallId: string; content: string }> } | null;
}

export type ClaimResult =
  | { kind: "run"; task: StepTask }
  | { kind: "stale" }
  | { kind: "busy"; retryAfterSeconds: number };

export interface Actor {
  id: string;
  email: string;
  roles: string[];
}

/** A control from the API; the audit row is written with the transition it causes. */
export interface ControlRequest {
  action: "cancel" | "pause" | "resume" | "retry";
  audit: AuditContext;
}

export interface DecisionRequest {
  stepId: string;
  approved: boolean;
  comment: string | null;
  actor: Actor;
  audit: AuditContext;
}

export const EXECUTION_NOT_STARTED = "Execution not found";

export type ControlResult =
  | { ok: true; status: ExecutionStatus }
  | { ok: false; code: "NOT_FOUND" | "CONFLICT" | "FORBIDDEN"; message: string };

/** An audit row that travels through the outbox with the event that caused it. */
export interface PendingAudit {
  context: AuditContext;
  entry: AuditEntry;
}

export interface Snapshot {
  execution: Omit<ExecutionRecord, "definition"> & { steps: StepState[] };
  seq: number;
}

/**
 * The platform's one vocabulary of states and kinds (docs/engine.md, docs/workflows.md). Postgres enums, zod schemas and
 * TypeScript unions are all built from these tuples, so adding a member is one edit here and the
 * compiler (exhaustive switches) and a migration test name every other place it must reach.
 */

/**
 * The step types. Each is a folder under src/steps/ and a line of its registry, which the compiler
 * holds to this list (a type missing from either does not compile); Postgres's CHECK is built from it.
 */
export const STEP_TYPES = [
  "agent",
  "http",
  "approval",
  "condition",
  "transform",
  "delay",
  "event",
  "workflow",
  "map",
  "loop",
] as const;
export type StepTypeName = (typeof STEP_TYPES)[number];
/** The step types that run through the steps queue (their kinds' mode is `queued`). */
export type QueuedStepType = Extract<StepTypeName, "agent" | "http" | "workflow">;
/** The step types that run an inner step many times, each run a sub-step `<id>[<n>]` (docs/workflows.md "Control flow"). */
export type ContainerStepType = Extract<StepTypeName, "map" | "loop">;
/** What a map's, a loop's or a compensation's inner step may be. */
export const INNER_STEP_TYPES = ["http", "agent", "transform", "workflow"] as const satisfies StepTypeName[];

export const EXECUTION_STATUSES = [
  "pending",
  "queued",
  "running",
  "paused",
  /** Running the compensations of its completed steps before it ends failed or cancelled. */
  "compensating",
  "completed",
  "failed",
  "cancelled",
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TERMINAL_EXECUTION_STATUSES = ["completed", "failed", "cancelled"] as const satisfies ExecutionStatus[];
export const ACTIVE_EXECUTION_STATUSES = [
  "pending",
  "queued",
  "running",
  "paused",
  "compensating",
] as const satisfies ExecutionStatus[];

export const STEP_STATUSES = ["pending", "running", "waiting", "completed", "failed", "skipped"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
export const TERMINAL_STEP_STATUSES = ["completed", "failed", "skipped"] as const satisfies StepStatus[];

/** How an execution was started. `retry` names the executions of the first engine's retries. */
/** Why a step failed; an execution's error is its failed step's, with `stepId`. */
export interface StepError {
  message: string;
  /** Machine-readable cause: http_error, unexpected_status, timeout, rejected, dead_lettered, … */
  reason: string;
  /** Whether the step's retry policy may try again. */
  retryable?: boolean;
  status?: number;
  stepId?: string;
}

export const TRIGGER_TYPES = ["manual", "webhook", "schedule", "tool", "mcp", "retry", "workflow"] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

/** Why a step waits (docs/engine.md "why-waiting"). */
/** What a notification channel can be told of (docs/operations.md "Notifications"). */
export const NOTIFICATION_EVENTS = [
  "execution.failed",
  "execution.completed",
  "approval.waiting",
  "step.dead_lettered",
  "backup.failed",
  "backup.verification_failed",
  "drill.failed",
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
export const CHANNEL_TYPES = ["webhook", "slack"] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** The gates a start may wait `queued` at, in the order it meets them (docs/workflows.md "Flow control on starts"). */
export const QUEUE_REASONS = ["debounce", "throttle", "concurrency"] as const;
export type QueueReason = (typeof QUEUE_REASONS)[number];

export const WAIT_REASONS = ["approval", "event", "delay", "retry", "budget", "children", "queued"] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

/** Why a step was skipped. */
export const SKIP_REASONS = ["branch_not_taken", "dependency_skipped", "execution_failed", "cancelled"] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** What an agent tool is (docs/workflows.md Agents); each has its configuration in agents/configuration.ts. */
export const TOOL_TYPES = ["http", "builtin", "workflow", "mcp"] as const;
export type ToolType = (typeof TOOL_TYPES)[number];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isTerminalExecution(status: ExecutionStatus): boolean {
  return (TERMINAL_EXECUTION_STATUSES as readonly string[]).includes(status);
}

export function isTerminalStep(status: StepStatus): boolean {
  return (TERMINAL_STEP_STATUSES as readonly string[]).includes(status);
}

/** Fails to compile when a switch over a union misses a member. */
export function exhaustive(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

/** What a bulk job does to each execution its filter matched (docs/api.md "Bulk actions"). */
export const BULK_ACTIONS = ["cancel", "retry", "rerun"] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];
export const BULK_JOB_STATUSES = ["running", "completed", "failed"] as const;
export type BulkJobStatus = (typeof BULK_JOB_STATUSES)[number];

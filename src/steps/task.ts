/**
 * The contract between the execution's object and a step attempt (docs/engine.md): the task a
 * consumer runs, what it reports back, why a step waits. It sits with the step types, its lowest
 * users; the object, the queue protocol and the agent runtime all build on it.
 */
import type { AgentSnapshot } from "../agents/snapshot";
import type { AgentState, TokenUsage } from "../agents/state";
import type { QueuedStepType, StepError, WaitReason } from "../engine/vocabulary";
import type { OffloadRef } from "./large-values";

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

/** An event delivered before the step that waits for it (docs/workflows.md `event` steps). */
export interface BufferedEvent {
  id: string;
  name: string;
  payload: unknown;
  receivedAt: string;
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

export interface Actor {
  id: string;
  email: string;
  roles: string[];
}

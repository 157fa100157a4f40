/**
 * What a step type is (one folder per type under src/steps/, listed once in registry.ts): its
 * definition schema, what validation checks, whether it reaches outside the platform, how the
 * execution's object runs it, and, for queued types, how the steps consumer runs an attempt.
 */
import type { z } from "zod";
import type { AgentState, AgentSuspension } from "../agents/state";
import type { LocalName, Scope } from "../engine/paths";
import type { StepBase } from "../engine/step-fields";
import type { StepError } from "../engine/vocabulary";
import type { Bindings } from "../env";
import type { ErrorDetail } from "../errors";
import type { BufferedEvent, StepOutcome, StepTask, Waiting } from "./task";

/** What the execution's object offers a step type while it starts the step or ends its wait. */
export interface StepRuntime {
  readonly now: number;
  /** ISO time `offsetMs` from now. */
  iso(offsetMs?: number): string;
  /** Input, finished steps' outputs (read back from R2 when large) and the execution. */
  scope(): Scope;
  complete(output: unknown): void;
  fail(error: StepError): void;
  /** Waits; with `expiresInMs`, the step type's `waitExpired` runs then. */
  wait(waiting: Waiting, expiresInMs: number | null): void;
  /** Marks the named pending steps skipped (a condition's branch not taken). */
  skipBranch(stepIds: string[]): void;
  /** The oldest buffered event of that name, consumed (event steps). */
  takeEvent(name: string): BufferedEvent | null;
}

/** Hooks a queued step attempt uses while it runs in the consumer. */
export interface RunContext {
  env: Bindings;
  /** Aborted at the attempt's deadline or when its lease is lost. */
  signal: AbortSignal;
  /** Model text as it streams (viewers see it as `token` messages). */
  onToken(text: string): void;
  /** Saves an agent attempt's progress in the object; false when the lease was lost. */
  checkpoint(state: AgentState): Promise<boolean>;
  /**
   * Starts a child execution as the execution's acting user (the consumer wires in the service):
   * its id, or why the user may not start it. Throws AttemptHandedBack while Postgres is out of reach.
   */
  startChild(request: ChildStart): Promise<ChildStarted>;
}

/** A child execution started (or found again, on a re-run), or why it may not start. */
export type ChildStarted =
  | { executionId: string }
  | { refused: string; reason?: "forbidden" | "depth_exceeded" | "invalid" };

/** A child execution a step starts: under an id derived from the step's key, linked to its parent. */
export interface ChildStart {
  executionId: string;
  /** The workflow's id, or (a `workflow` step's) its exact name among those the acting user may start. */
  workflowId: string;
  version?: number;
  input: Record<string, unknown>;
  /** Who the parent runs for; the child starts only if they may start its workflow. */
  actingUserId: string;
  /** The audit row's actor, e.g. `agent:<id>`. */
  startedBy: string;
  parent: { executionId: string; stepId: string; attempt: number };
  /** `tool` for an agent's workflow tool, `workflow` for a `workflow` step. */
  triggerType: "tool" | "workflow";
}

/**
 * A step attempt that waits with no consumer held: an agent for its children or its budget, a
 * `workflow` step for the one child it started.
 */
export type StepSuspension = AgentSuspension | { kind: "child"; executionId: string };

export type RunResult = { outcome: StepOutcome } | { suspension: StepSuspension };

/**
 * Thrown by a step's run when it cannot go on for a reason outside the step (Postgres out of
 * reach while a workflow tool starts its child): the runner hands the attempt back to the object,
 * which sends it again later, backing off, for as long as the outage lasts (and, resumed from its
 * checkpoint, it repeats nothing). It is not the step's failure, nor the queue's to dead-letter.
 */
export class AttemptHandedBack extends Error {}

interface KindBase<S extends StepBase> {
  type: S["type"];
  /** The step's definition schema: common fields plus its own, unknown fields refused. */
  schema: z.ZodType<S>;
  /** Running it reaches outside the platform (rerun's side-effect preview). */
  sideEffects: boolean;
  /** Fields whose strings may hold `{{templates}}` (their paths are checked at validation). */
  templatedFields(step: S): Array<[field: string, value: unknown]>;
  /** Expressions whose syntax and paths are checked at validation. */
  expressions?(step: S): Array<[field: string, source: string]>;
  /** Rules beyond the schema, given every step of the definition; paths relative to the step. */
  validate?(step: S, steps: StepBase[]): ErrorDetail[];
  /** Agents the step needs (checked to exist and be active; resolved at start). */
  agentIds?(step: S): string[];
  /** Workflows the step starts (checked that the owner may start them). */
  workflowRefs?(step: S): string[];
  /** The inner steps it holds, by field (a map's or a loop's `step`), checked as steps of their own. */
  innerSteps?(
    step: S,
  ): Array<[field: string, inner: StepBase | Omit<StepBase, "id" | "dependsOn" | "continueOnError">]>;
  /** The local names (item, index, iteration, last) the templates and expressions of a field may read. */
  locals?: Partial<Record<string, readonly LocalName[]>>;
}

/** Runs inside the object: finishes at once, or waits for a timer or a signal. */
export interface InlineKind<S extends StepBase> extends KindBase<S> {
  mode: "inline";
  start(step: S, run: StepRuntime): void;
  /** The wait `start` asked for ran out. */
  waitExpired?(step: S, run: StepRuntime): void;
}

/** Runs in the steps queue's consumer, with retries, leases and a dead-letter queue. */
export interface QueuedKind<S extends StepBase> extends KindBase<S> {
  mode: "queued";
  /** What the consumer receives: the configuration with its templates resolved now. */
  input(step: S, scope: Scope): unknown;
  /** Default attempt timeout when the step sets no `timeoutSeconds`. */
  defaultTimeoutMs: number;
  /**
   * A run's first attempt may run in the execution's object itself, sparing the queue hop (short
   * steps that stream nothing); retries and re-sends always go through the queue.
   */
  firstAttemptInObject: boolean;
  run(task: StepTask, input: unknown, context: RunContext): Promise<RunResult>;
}

/**
 * Runs its inner step many times inside the object (map, loop): each run is a sub-step
 * `<id>[<n>]` with its own attempts, retries, key, events and row; the object's container
 * transitions decide when each starts and what the step's output is.
 */
export interface ContainerKind<S extends StepBase> extends KindBase<S> {
  mode: "container";
  inner(step: S): Omit<StepBase, "id" | "dependsOn" | "continueOnError"> & { type: string };
}

export type StepKind<S extends StepBase> = InlineKind<S> | QueuedKind<S> | ContainerKind<S>;

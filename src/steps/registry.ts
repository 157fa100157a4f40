/**
 * The registry of step types. A type is a folder under src/steps/ (its schema in definition.ts,
 * its behaviour in index.ts) and a line in each of the two tables below, which the compiler ties
 * together, and to engine/vocabulary.ts's STEP_TYPES: a schema without a kind, a kind whose schema
 * differs, or a type missing from the vocabulary does not compile. The
 * definition language, validation, the object and the consumer all dispatch through here, and a
 * test fails when Postgres's CHECK on step types drifts from it.
 */
import type { z } from "zod";
import type { StepTypeName } from "../engine/vocabulary";
import { agentStep } from "./agent";
import { AgentStepSchema } from "./agent/definition";
import { approvalStep } from "./approval";
import { ApprovalStepSchema } from "./approval/definition";
import { conditionStep } from "./condition";
import { ConditionStepSchema } from "./condition/definition";
import { delayStep } from "./delay";
import { DelayStepSchema } from "./delay/definition";
import { eventStep } from "./event";
import { EventStepSchema } from "./event/definition";
import { httpStep } from "./http";
import { HttpStepSchema } from "./http/definition";
import { COMPENSATION } from "./inner";
import type { StepKind } from "./kind";
import { loopStep } from "./loop";
import { LoopStepSchema } from "./loop/definition";
import { mapStep } from "./map";
import { MapStepSchema } from "./map/definition";
import { transformStep } from "./transform";
import { TransformStepSchema } from "./transform/definition";
import { workflowStep } from "./workflow";
import { WorkflowStepSchema } from "./workflow/definition";

/**
 * Every step type's definition schema (the tuple z.discriminatedUnion needs); the types with side
 * effects may carry a `compensate` step that undoes them (docs/workflows.md "Compensation").
 */
export const STEP_SCHEMAS = [
  AgentStepSchema.extend(COMPENSATION),
  HttpStepSchema.extend(COMPENSATION),
  ApprovalStepSchema,
  ConditionStepSchema,
  TransformStepSchema,
  DelayStepSchema,
  EventStepSchema,
  WorkflowStepSchema.extend(COMPENSATION),
  MapStepSchema,
  LoopStepSchema,
] as const;

type AnyStep = z.infer<(typeof STEP_SCHEMAS)[number]>;
type RegisteredType = AnyStep["type"];

// Compile-time: the schemas above define exactly the step types of engine/vocabulary.ts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const REGISTRY_MATCHES_VOCABULARY: Same<RegisteredType, StepTypeName> = true;
void REGISTRY_MATCHES_VOCABULARY;

/** Every step type's behaviour, keyed by its type. */
export const STEP_KINDS: { [T in RegisteredType]: StepKind<Extract<AnyStep, { type: T }>> } = {
  agent: agentStep,
  http: httpStep,
  approval: approvalStep,
  condition: conditionStep,
  transform: transformStep,
  delay: delayStep,
  event: eventStep,
  workflow: workflowStep,
  map: mapStep,
  loop: loopStep,
};

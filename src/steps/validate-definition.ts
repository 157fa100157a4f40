/**
 * Validation of a workflow definition at version creation (docs/workflows.md): schema, unique ids,
 * dependencies that exist, no cycles, condition branches that name the condition's dependents,
 * expression syntax, template paths that reach only `input`, `execution` or ancestor steps (only
 * `input` in a concurrency key), agents that exist and are active, and secrets the workflow may
 * use. Every problem is reported with its path.
 */

import { ExpressionError, parseExpression } from "../engine/expression";
import { ancestorsOf, findCycle } from "../engine/graph";
import { schemaProblems } from "../engine/json-schema";
import { type LocalName, PathError, referenceOf } from "../engine/paths";
import { MAX_DEFINITION_BYTES } from "../engine/step-fields";
import { collectTemplatePaths, TemplateError } from "../engine/template";
import type { ErrorDetail } from "../errors";
import { type Definition, DefinitionSchema, type Step, stepKind } from "./definition";
import { FieldSyntaxError, nestedSteps, pathsReadBy } from "./step-references";

export type AgentLookup = (ids: string[]) => Promise<Map<string, { status: string }>>;
/** Of the secret names asked for, those the workflow may use. */
export type SecretLookup = (names: string[]) => Promise<Set<string>>;

/** Of the workflows the steps name (by id or exact name), why each may not be started (absent: it may). */
export type WorkflowLookup = (references: string[]) => Promise<Map<string, string>>;

/** What validation asks the platform: the agents the steps use, the secrets and workflows they name. */
export interface DefinitionLookups {
  agents: AgentLookup;
  secrets: SecretLookup;
  workflows: WorkflowLookup;
}

export type DefinitionVerdict = { ok: true; definition: Definition } | { ok: false; problems: ErrorDetail[] };

const ROOT = "definition";

export async function validateDefinition(raw: unknown, lookups: DefinitionLookups): Promise<DefinitionVerdict> {
  const size = new TextEncoder().encode(JSON.stringify(raw ?? null)).length;
  if (size > MAX_DEFINITION_BYTES) {
    return fail([{ path: ROOT, message: `definition is ${size} bytes; the limit is ${MAX_DEFINITION_BYTES}` }]);
  }
  const parsed = DefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    return fail(
      parsed.error.issues.map((issue) => ({
        path: [ROOT, ...issue.path.map(String)].join("."),
        message: issue.message,
      })),
    );
  }
  const definition = parsed.data;
  const problems = structureProblems(definition.steps);
  if (definition.inputSchema) problems.push(...schemaProblems(definition.inputSchema, `${ROOT}.inputSchema`));
  for (const gate of START_GATES) {
    const key = definition[gate]?.key;
    if (key) problems.push(...startKeyProblems(key, gate));
  }
  // Reference checks need a sound graph; report structure first.
  if (problems.length === 0) {
    problems.push(...kindProblems(definition.steps), ...expressionProblems(definition.steps));
    problems.push(...referenceProblems(definition.steps));
    problems.push(...(await agentProblems(definition.steps, lookups.agents)));
    problems.push(...(await workflowProblems(definition.steps, lookups.workflows)));
    if (problems.length === 0) problems.push(...(await secretProblems(definition.steps, lookups.secrets)));
  }
  return problems.length ? fail(problems) : { ok: true, definition };
}

function structureProblems(steps: Step[]): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const seen = new Map<string, number>();
  steps.forEach((step, index) => {
    const first = seen.get(step.id);
    if (first !== undefined) {
      problems.push({ path: stepPath(index, "id"), message: `duplicate step id "${step.id}" (also steps.${first})` });
    } else {
      seen.set(step.id, index);
    }
  });
  steps.forEach((step, index) => {
    step.dependsOn.forEach((dependency, d) => {
      if (dependency === step.id) {
        problems.push({ path: stepPath(index, `dependsOn.${d}`), message: "a step cannot depend on itself" });
      } else if (!seen.has(dependency)) {
        problems.push({ path: stepPath(index, `dependsOn.${d}`), message: `unknown step "${dependency}"` });
      }
    });
  });
  if (problems.length === 0) {
    const cycle = findCycle(steps);
    if (cycle) {
      const index = seen.get(cycle[0]) ?? 0;
      problems.push({ path: stepPath(index, "dependsOn"), message: `dependency cycle: ${cycle.join(" -> ")}` });
    }
  }
  return problems;
}

/** What each step type checks beyond its schema (a condition's branches, an event's schema). */
function kindProblems(steps: Step[]): ErrorDetail[] {
  return steps.flatMap((outer, index) =>
    nestedSteps(outer).flatMap(({ prefix, step }) => {
      const problems = stepKind(step.type).validate?.(step as never, steps) ?? [];
      return problems.map((problem) => ({
        path: stepPath(index, `${prefix}${problem.path}`),
        message: problem.message,
      }));
    }),
  );
}

function expressionProblems(steps: Step[]): ErrorDetail[] {
  return steps.flatMap((outer, index) =>
    nestedSteps(outer).flatMap(({ prefix, step }) =>
      (stepKind(step.type).expressions?.(step as never) ?? []).flatMap(([field, source]) => {
        try {
          parseExpression(source);
          return [];
        } catch (error) {
          if (!(error instanceof ExpressionError)) throw error;
          return [{ path: stepPath(index, `${prefix}${field}`), message: `invalid expression: ${error.message}` }];
        }
      }),
    ),
  );
}

/** Where each local name is defined, for the message when it is read anywhere else. */
const LOCAL_HOMES: Record<LocalName, string> = {
  item: "a map's inner step",
  index: "a map's inner step",
  iteration: "a loop's inner step and its until",
  last: "a loop's inner step and its until",
};

/** Template and expression paths read only input, execution, or steps the step depends on. */
function referenceProblems(steps: Step[]): ErrorDetail[] {
  const ancestors = ancestorsOf(steps);
  const problems: ErrorDetail[] = [];
  steps.forEach((step, index) => {
    const allowed = ancestors.get(step.id) ?? new Set<string>();
    let found: ReturnType<typeof pathsReadBy>;
    try {
      found = pathsReadBy(step);
    } catch (error) {
      if (!(error instanceof FieldSyntaxError)) throw error;
      // Expression syntax is reported by expressionProblems; template syntax here.
      if (error.cause instanceof TemplateError)
        problems.push({ path: stepPath(index, error.field), message: error.message });
      return;
    }
    for (const { field, at, path, stepType, locals, readsSelf } of found) {
      try {
        const reference = referenceOf(path);
        // Secrets are filled in only where the consumer sends them: an http step's request.
        if (reference.kind === "secret" && !(stepType === "http" && field === "request")) {
          problems.push({
            path: stepPath(index, at),
            message: "secrets may appear only in an http step's url, headers and body",
          });
        }
        if (reference.kind === "local" && !locals.includes(reference.name)) {
          problems.push({
            path: stepPath(index, at),
            message: `"${path.text}": ${reference.name} is defined only in ${LOCAL_HOMES[reference.name]}`,
          });
        }
        // A compensation reads the output of the step it undoes.
        if (
          reference.kind === "step" &&
          !allowed.has(reference.stepId) &&
          !(readsSelf && reference.stepId === step.id)
        ) {
          problems.push({
            path: stepPath(index, at),
            message: `"${path.text}" reads step "${reference.stepId}", which is not an ancestor of "${step.id}"`,
          });
        }
      } catch (error) {
        if (!(error instanceof PathError)) throw error;
        problems.push({ path: stepPath(index, at), message: error.message });
      }
    }
  });
  return problems;
}

/** What each step and inner step names through `read` (agents, workflows), with the path of `field`. */
function namedBy(
  steps: Step[],
  read: (kind: ReturnType<typeof stepKind>, step: never) => string[] | undefined,
  field: string,
): Array<{ name: string; path: string }> {
  return steps.flatMap((outer, index) =>
    nestedSteps(outer).flatMap(({ prefix, step }) =>
      (read(stepKind(step.type), step as never) ?? []).map((name) => ({
        name,
        path: stepPath(index, `${prefix}${field}`),
      })),
    ),
  );
}

async function agentProblems(steps: Step[], lookupAgents: AgentLookup): Promise<ErrorDetail[]> {
  const agentSteps = namedBy(steps, (kind, step) => kind.agentIds?.(step), "agentId");
  if (agentSteps.length === 0) return [];
  const found = await lookupAgents([...new Set(agentSteps.map(({ name }) => name))]);
  return agentSteps.flatMap(({ name: agentId, path }) => {
    const agent = found.get(agentId);
    if (!agent) return [{ path, message: `agent ${agentId} does not exist` }];
    if (agent.status !== "active") return [{ path, message: `agent ${agentId} is ${agent.status}, not active` }];
    return [];
  });
}

/** A `workflow` step (inner ones included) names a workflow its owner may start. */
async function workflowProblems(steps: Step[], lookupWorkflows: WorkflowLookup): Promise<ErrorDetail[]> {
  const references = namedBy(steps, (kind, step) => kind.workflowRefs?.(step), "workflow");
  if (references.length === 0) return [];
  const refused = await lookupWorkflows([...new Set(references.map(({ name }) => name))]);
  return references.flatMap(({ name, path }) => {
    const why = refused.get(name);
    return why ? [{ path, message: why }] : [];
  });
}

/**
 * A secret the workflow may not use (not set, or a platform secret its owner may not use) is
 * refused with one message either way, so the answer does not tell whether the name exists.
 */
async function secretProblems(steps: Step[], lookupSecrets: SecretLookup): Promise<ErrorDetail[]> {
  const references = steps.flatMap((step, index) =>
    pathsReadBy(step).flatMap(({ at, path }) => {
      const reference = referenceOf(path);
      return reference.kind === "secret" ? [{ name: reference.name, path: stepPath(index, at) }] : [];
    }),
  );
  if (references.length === 0) return [];
  const available = await lookupSecrets([...new Set(references.map(({ name }) => name))]);
  return references
    .filter(({ name }) => !available.has(name))
    .map(({ name, path }) => ({ path, message: `secret ${name}: secret not available to this workflow` }));
}

function stepPath(index: number, field: string): string {
  return `${ROOT}.steps.${index}.${field}`;
}

function fail(problems: ErrorDetail[]): DefinitionVerdict {
  return { ok: false, problems };
}

/** A start's keys (concurrency, singleton) are known before any step has run: they may read `input` only. */
/** The parts of a definition that key a start by its input. */
const START_GATES = ["concurrency", "singleton", "throttle", "debounce"] as const;

function startKeyProblems(key: string, owner: (typeof START_GATES)[number]): ErrorDetail[] {
  const at = `${ROOT}.${owner}.key`;
  let paths: ReturnType<typeof collectTemplatePaths>;
  try {
    paths = collectTemplatePaths(key, at);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return [{ path: at, message: error.message }];
  }
  return paths.flatMap(({ path }) => {
    try {
      if (referenceOf(path).kind === "input") return [];
    } catch (error) {
      if (!(error instanceof PathError)) throw error;
      return [{ path: at, message: error.message }];
    }
    return [{ path: at, message: `"${path.text}": a ${owner} key may read only input` }];
  });
}

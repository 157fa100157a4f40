/**
 * Validation of a workflow definition at version creation (SPEC §4): schema, unique ids,
 * dependencies that exist, no cycles, condition branches that name the condition's dependents,
 * expression syntax, template paths that reach only `input`, `execution` or ancestor steps, and
 * agents that exist and are active. Every problem is reported with its path.
 */
import type { ErrorDetail } from "../errors";
import { type Definition, DefinitionSchema, MAX_DEFINITION_BYTES, type Step } from "./definition";
import { ExpressionError, expressionPaths, parseExpression } from "./expression";
import { ancestorsOf, findCycle } from "./graph";
import { type DataPath, PathError, referenceOf } from "./paths";
import { collectTemplatePaths, TemplateError } from "./template";

export type AgentLookup = (ids: string[]) => Promise<Map<string, { status: string }>>;

export type DefinitionVerdict = { ok: true; definition: Definition } | { ok: false; problems: ErrorDetail[] };

const ROOT = "definition";

export async function validateDefinition(raw: unknown, lookupAgents: AgentLookup): Promise<DefinitionVerdict> {
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
  // Reference checks need a sound graph; report structure first.
  if (problems.length === 0) {
    problems.push(...conditionProblems(definition.steps), ...referenceProblems(definition.steps));
    problems.push(...(await agentProblems(definition.steps, lookupAgents)));
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

function conditionProblems(steps: Step[]): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  steps.forEach((step, index) => {
    if (step.type !== "condition") return;
    const dependents = new Set(steps.filter((other) => other.dependsOn.includes(step.id)).map((other) => other.id));
    for (const branch of ["then", "else"] as const) {
      step[branch].forEach((target, t) => {
        if (!dependents.has(target)) {
          problems.push({
            path: stepPath(index, `${branch}.${t}`),
            message: `"${target}" must be a step that depends on "${step.id}"`,
          });
        }
      });
    }
    const overlap = step.then.filter((id) => step.else.includes(id));
    if (overlap.length)
      problems.push({ path: stepPath(index, "else"), message: `"${overlap[0]}" is in both branches` });
    try {
      parseExpression(step.if);
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      problems.push({ path: stepPath(index, "if"), message: `invalid expression: ${error.message}` });
    }
  });
  return problems;
}

function referenceProblems(steps: Step[]): ErrorDetail[] {
  const ancestors = ancestorsOf(steps);
  const problems: ErrorDetail[] = [];
  steps.forEach((step, index) => {
    const allowed = ancestors.get(step.id) ?? new Set<string>();
    const check = (at: string, path: DataPath) => {
      try {
        const reference = referenceOf(path);
        if (reference.kind === "step" && !allowed.has(reference.stepId)) {
          problems.push({
            path: at,
            message: `"${path.text}" reads step "${reference.stepId}", which is not an ancestor of "${step.id}"`,
          });
        }
      } catch (error) {
        if (!(error instanceof PathError)) throw error;
        problems.push({ path: at, message: error.message });
      }
    };
    for (const [field, value] of templatedFields(step)) {
      try {
        for (const found of collectTemplatePaths(value, stepPath(index, field))) check(found.at, found.path);
      } catch (error) {
        if (!(error instanceof TemplateError)) throw error;
        problems.push({ path: stepPath(index, field), message: error.message });
      }
    }
    if (step.type === "condition") {
      try {
        for (const path of expressionPaths(parseExpression(step.if))) check(stepPath(index, "if"), path);
      } catch (error) {
        if (!(error instanceof ExpressionError)) throw error;
        // Syntax errors are already reported by conditionProblems.
      }
    }
  });
  return problems;
}

async function agentProblems(steps: Step[], lookupAgents: AgentLookup): Promise<ErrorDetail[]> {
  const agentSteps = steps.flatMap((step, index) => (step.type === "agent" ? [{ step, index }] : []));
  if (agentSteps.length === 0) return [];
  const found = await lookupAgents([...new Set(agentSteps.map(({ step }) => step.agentId))]);
  return agentSteps.flatMap(({ step, index }) => {
    const agent = found.get(step.agentId);
    if (!agent) return [{ path: stepPath(index, "agentId"), message: `agent ${step.agentId} does not exist` }];
    if (agent.status !== "active") {
      return [{ path: stepPath(index, "agentId"), message: `agent ${step.agentId} is ${agent.status}, not active` }];
    }
    return [];
  });
}

/** The fields of a step whose strings may hold templates. */
export function templatedFields(step: Step): Array<[string, unknown]> {
  switch (step.type) {
    case "agent":
      return [["prompt", step.prompt]];
    case "http":
      return [["request", step.request]];
    case "transform":
      return [["output", step.output]];
    default:
      return [];
  }
}

function stepPath(index: number, field: string): string {
  return `${ROOT}.steps.${index}.${field}`;
}

function fail(problems: ErrorDetail[]): DefinitionVerdict {
  return { ok: false, problems };
}

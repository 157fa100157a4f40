/** Graph facts about a definition's steps: cycles, ancestors, dependents. */
/** What the graph reads of a step: its id and the steps it waits for. */
interface Node {
  id: string;
  dependsOn: readonly string[];
}

/** One cycle as a list of step ids (first = last), or null when the graph is acyclic. */
export function findCycle(steps: readonly Node[]): string[] | null {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === "done") return null;
    if (state.get(id) === "visiting") return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, "visiting");
    stack.push(id);
    for (const dependency of byId.get(id)?.dependsOn ?? []) {
      if (!byId.has(dependency)) continue;
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, "done");
    return null;
  };
  for (const step of steps) {
    const cycle = visit(step.id);
    if (cycle) return cycle;
  }
  return null;
}

/** Every step each step transitively depends on. Assumes an acyclic graph. */
export function ancestorsOf(steps: readonly Node[]): Map<string, Set<string>> {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const memo = new Map<string, Set<string>>();
  const collect = (id: string): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const result = new Set<string>();
    memo.set(id, result);
    for (const dependency of byId.get(id)?.dependsOn ?? []) {
      result.add(dependency);
      for (const ancestor of collect(dependency)) result.add(ancestor);
    }
    return result;
  };
  for (const step of steps) collect(step.id);
  return memo;
}

/** Direct dependents of each step. */
export function dependentsOf(steps: readonly Node[]): Map<string, string[]> {
  const dependents = new Map<string, string[]>(steps.map((step) => [step.id, []]));
  for (const step of steps) for (const dependency of step.dependsOn) dependents.get(dependency)?.push(step.id);
  return dependents;
}

/** `roots` and every step that depends on one of them, directly or not. */
export function downstreamOf(steps: readonly Node[], roots: Iterable<string>): Set<string> {
  const dependents = dependentsOf(steps);
  const found = new Set<string>();
  const visit = (id: string) => {
    if (found.has(id)) return;
    found.add(id);
    for (const next of dependents.get(id) ?? []) visit(next);
  };
  for (const root of roots) visit(root);
  return found;
}

/**
 * Data paths used by templates and expressions: `input.q`, `steps.fetch.output.items[0].id`,
 * `execution.id`. One grammar, one resolver, so a path means the same in both places.
 */

export type Segment = string | number;

export interface DataPath {
  segments: Segment[];
  /** The source text, for error messages. */
  text: string;
}

/** What a running step can see. */
export interface Scope {
  input: unknown;
  /** Outputs are plain values or LazyValues (read back from R2 when a path reaches them). */
  steps: Record<string, { output: unknown }>;
  execution: { id: string; startedAt: string; workflowId: string };
  /** A map's inner step: its item and the item's index (from 0). */
  item?: unknown;
  index?: number;
  /** A loop's inner step and its `until`: the iteration (from 1) and the last iteration's output. */
  iteration?: number;
  last?: unknown;
}

/** The names an inner step's templates may read besides input, steps and execution (docs/workflows.md "Control flow"). */
export const LOCAL_NAMES = ["item", "index", "iteration", "last"] as const;
export type LocalName = (typeof LOCAL_NAMES)[number];

export class PathError extends Error {}

/**
 * A value the scope holds by reference and reads only when a path reaches it (a large step output
 * kept in R2). Reading may throw; the caller decides what that means.
 */
export class LazyValue {
  private readonly read: () => unknown;

  constructor(read: () => unknown) {
    this.read = read;
  }

  value(): unknown {
    return this.read();
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*/;
export const EXECUTION_FIELDS = ["id", "startedAt", "workflowId"] as const;

/** Parses a path; throws PathError for malformed syntax. */
export function parsePath(text: string): DataPath {
  const source = text.trim();
  const segments: Segment[] = [];
  let rest = source;
  const first = IDENT.exec(rest);
  if (!first) throw new PathError(`"${source}" is not a path`);
  segments.push(first[0]);
  rest = rest.slice(first[0].length);
  while (rest.length > 0) {
    if (rest.startsWith(".")) {
      const match = /^\.([A-Za-z0-9_$-]+)/.exec(rest);
      if (!match) throw new PathError(`"${source}": expected a name after "."`);
      segments.push(/^\d+$/.test(match[1]) ? Number(match[1]) : match[1]);
      rest = rest.slice(match[0].length);
    } else if (rest.startsWith("[")) {
      const match = /^\[(\d+|"[^"]*"|'[^']*')\]/.exec(rest);
      if (!match) throw new PathError(`"${source}": expected [index] or ["key"]`);
      const inner = match[1];
      segments.push(/^\d+$/.test(inner) ? Number(inner) : inner.slice(1, -1));
      rest = rest.slice(match[0].length);
    } else {
      throw new PathError(`"${source}": unexpected "${rest[0]}"`);
    }
  }
  return { segments, text: source };
}

export type PathReference =
  | { kind: "input" }
  | { kind: "execution" }
  | { kind: "step"; stepId: string }
  | { kind: "secret"; name: string }
  | { kind: "local"; name: LocalName };

/** `{{secrets.NAME}}`: resolved only when a request is sent, never into data (docs/workflows.md). */
const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/** What a path refers to; throws PathError for roots and shapes the definition language lacks. */
export function referenceOf(path: DataPath): PathReference {
  const [root, second, third] = path.segments;
  if (root === "input") return { kind: "input" };
  if (root === "execution") {
    if (path.segments.length !== 2 || !EXECUTION_FIELDS.includes(second as (typeof EXECUTION_FIELDS)[number])) {
      throw new PathError(`"${path.text}": execution has ${EXECUTION_FIELDS.join(", ")}`);
    }
    return { kind: "execution" };
  }
  if (root === "secrets") {
    if (path.segments.length !== 2 || typeof second !== "string" || !SECRET_NAME.test(second)) {
      throw new PathError(`"${path.text}": secrets are read as secrets.NAME (A-Z, 0-9, _)`);
    }
    return { kind: "secret", name: second };
  }
  if (root === "steps") {
    if (typeof second !== "string" || third !== "output") {
      throw new PathError(`"${path.text}": step values are read as steps.<id>.output`);
    }
    return { kind: "step", stepId: second };
  }
  if ((LOCAL_NAMES as readonly unknown[]).includes(root)) return { kind: "local", name: root as LocalName };
  throw new PathError(`"${path.text}": paths start with input, steps, execution or secrets`);
}

export function isSecretPath(path: DataPath): boolean {
  return path.segments[0] === "secrets";
}

/** The value at `path`; an absent key or index is an error, never an empty value. */
export function resolvePath(path: DataPath, scope: Scope): unknown {
  if (referenceOf(path).kind === "secret") throw new PathError(`"${path.text}": secrets are never read as data`);
  let current: unknown = scope;
  for (const segment of path.segments) {
    if (current instanceof LazyValue) current = current.value();
    if (current === null || typeof current !== "object") {
      throw new PathError(`unknown path "${path.text}"`);
    }
    if (Array.isArray(current)) {
      if (typeof segment !== "number" || segment >= current.length) throw new PathError(`unknown path "${path.text}"`);
      current = current[segment];
    } else {
      const key = String(segment);
      if (!Object.hasOwn(current, key)) throw new PathError(`unknown path "${path.text}"`);
      current = (current as Record<string, unknown>)[key];
    }
  }
  return current instanceof LazyValue ? current.value() : current;
}

/**
 * The condition language of docs/workflows.md: literals, paths, `== != < <= > >= && || !`, parentheses,
 * array literals and `in`. Parsed once (syntax errors are reported at version creation) and
 * evaluated by walking the tree, never with eval.
 */
import { type DataPath, parsePath, resolvePath, type Scope } from "./paths";

export type Expression =
  | { kind: "literal"; value: string | number | boolean | null }
  | { kind: "path"; path: DataPath }
  | { kind: "array"; items: Expression[] }
  | { kind: "not"; operand: Expression }
  | { kind: "binary"; op: BinaryOp; left: Expression; right: Expression };

type BinaryOp = "||" | "&&" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in";

export class ExpressionError extends Error {}

type Token =
  | { type: "num"; value: number; at: number }
  | { type: "str"; value: string; at: number }
  | { type: "word"; value: string; at: number }
  | { type: "op"; value: string; at: number };

const MAX_LENGTH = 2_000;
const MAX_DEPTH = 64;

export function parseExpression(source: string): Expression {
  if (source.length > MAX_LENGTH) throw new ExpressionError(`expression longer than ${MAX_LENGTH} characters`);
  const parser = new Parser(tokenize(source));
  const expression = parser.parseOr(0);
  parser.expectEnd();
  return expression;
}

/** Every path an expression reads (for reference checks at validation time). */
export function expressionPaths(expression: Expression): DataPath[] {
  switch (expression.kind) {
    case "literal":
      return [];
    case "path":
      return [expression.path];
    case "array":
      return expression.items.flatMap(expressionPaths);
    case "not":
      return expressionPaths(expression.operand);
    case "binary":
      return [...expressionPaths(expression.left), ...expressionPaths(expression.right)];
  }
}

export function evaluateExpression(expression: Expression, scope: Scope): unknown {
  switch (expression.kind) {
    case "literal":
      return expression.value;
    case "path":
      return resolvePath(expression.path, scope);
    case "array":
      return expression.items.map((item) => evaluateExpression(item, scope));
    case "not":
      return !truthy(evaluateExpression(expression.operand, scope));
    case "binary":
      return evaluateBinary(expression, scope);
  }
}

/** Evaluates a condition to a boolean with JavaScript-like truthiness. */
export function evaluateCondition(expression: Expression, scope: Scope): boolean {
  return truthy(evaluateExpression(expression, scope));
}

function evaluateBinary(expression: Extract<Expression, { kind: "binary" }>, scope: Scope): unknown {
  const { op } = expression;
  if (op === "&&")
    return truthy(evaluateExpression(expression.left, scope)) && truthy(evaluateExpression(expression.right, scope));
  if (op === "||")
    return truthy(evaluateExpression(expression.left, scope)) || truthy(evaluateExpression(expression.right, scope));
  const left = evaluateExpression(expression.left, scope);
  const right = evaluateExpression(expression.right, scope);
  switch (op) {
    case "==":
      return deepEqual(left, right);
    case "!=":
      return !deepEqual(left, right);
    case "in":
      if (Array.isArray(right)) return right.some((item) => deepEqual(item, left));
      if (typeof right === "string" && typeof left === "string") return right.includes(left);
      throw new ExpressionError(`"in" needs an array (or a string) on its right, got ${kindOf(right)}`);
    default: {
      const comparable =
        (typeof left === "number" && typeof right === "number") ||
        (typeof left === "string" && typeof right === "string");
      if (!comparable) throw new ExpressionError(`cannot compare ${kindOf(left)} ${op} ${kindOf(right)}`);
      const a = left as number | string;
      const b = right as number | string;
      return op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
    }
  }
}

function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every(
    (key) =>
      Object.hasOwn(b, key) && deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

function kindOf(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = source.slice(i);
    const number = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
    if (number && (ch !== "-" || /\d/.test(source[i + 1] ?? ""))) {
      tokens.push({ type: "num", value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      let value = "";
      while (j < source.length && source[j] !== ch) {
        if (source[j] === "\\" && j + 1 < source.length) {
          const escaped = source[j + 1];
          value += escaped === "n" ? "\n" : escaped === "t" ? "\t" : escaped;
          j += 2;
        } else {
          value += source[j++];
        }
      }
      if (j >= source.length) throw new ExpressionError(`unterminated string at ${i}`);
      tokens.push({ type: "str", value, at: i });
      i = j + 1;
      continue;
    }
    const op = /^(==|!=|<=|>=|&&|\|\||[<>!()[\],])/.exec(rest);
    if (op) {
      tokens.push({ type: "op", value: op[0], at: i });
      i += op[0].length;
      continue;
    }
    const word = /^[A-Za-z_$][A-Za-z0-9_$-]*((\.[A-Za-z0-9_$-]+)|(\[(\d+|"[^"]*"|'[^']*')\]))*/.exec(rest);
    if (word) {
      tokens.push({ type: "word", value: word[0], at: i });
      i += word[0].length;
      continue;
    }
    throw new ExpressionError(`unexpected "${ch}" at ${i}`);
  }
  return tokens;
}

const COMPARISONS = new Set(["==", "!=", "<", "<=", ">", ">="]);

class Parser {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  parseOr(depth: number): Expression {
    let left = this.parseAnd(depth);
    while (this.peekOp("||")) {
      this.index++;
      left = { kind: "binary", op: "||", left, right: this.parseAnd(depth) };
    }
    return left;
  }

  expectEnd(): void {
    const token = this.tokens[this.index];
    if (token) throw new ExpressionError(`unexpected "${token.value}" at ${token.at}`);
  }

  private parseAnd(depth: number): Expression {
    let left = this.parseComparison(depth);
    while (this.peekOp("&&")) {
      this.index++;
      left = { kind: "binary", op: "&&", left, right: this.parseComparison(depth) };
    }
    return left;
  }

  private parseComparison(depth: number): Expression {
    const left = this.parseUnary(depth);
    const token = this.tokens[this.index];
    const isComparison = token?.type === "op" && COMPARISONS.has(token.value);
    const isIn = token?.type === "word" && token.value === "in";
    if (!isComparison && !isIn) return left;
    this.index++;
    return { kind: "binary", op: token.value as BinaryOp, left, right: this.parseUnary(depth) };
  }

  private parseUnary(depth: number): Expression {
    if (depth > MAX_DEPTH) throw new ExpressionError("expression nested too deeply");
    if (this.peekOp("!")) {
      this.index++;
      return { kind: "not", operand: this.parseUnary(depth + 1) };
    }
    return this.parsePrimary(depth);
  }

  private parsePrimary(depth: number): Expression {
    const token = this.tokens[this.index++];
    if (!token) throw new ExpressionError("unexpected end of expression");
    if (token.type === "num" || token.type === "str") return { kind: "literal", value: token.value };
    if (token.type === "word") {
      if (token.value === "true" || token.value === "false") return { kind: "literal", value: token.value === "true" };
      if (token.value === "null") return { kind: "literal", value: null };
      if (token.value === "in") throw new ExpressionError(`unexpected "in" at ${token.at}`);
      try {
        return { kind: "path", path: parsePath(token.value) };
      } catch (error) {
        throw new ExpressionError((error as Error).message);
      }
    }
    if (token.value === "(") {
      const inner = this.parseOr(depth + 1);
      this.expectOp(")");
      return inner;
    }
    if (token.value === "[") {
      const items: Expression[] = [];
      if (!this.peekOp("]")) {
        do {
          items.push(this.parseOr(depth + 1));
        } while (this.peekOp(",") && ++this.index);
      }
      this.expectOp("]");
      return { kind: "array", items };
    }
    throw new ExpressionError(`unexpected "${token.value}" at ${token.at}`);
  }

  private peekOp(value: string): boolean {
    const token = this.tokens[this.index];
    return token?.type === "op" && token.value === value;
  }

  private expectOp(value: string): void {
    if (!this.peekOp(value)) {
      const token = this.tokens[this.index];
      throw new ExpressionError(token ? `expected "${value}" at ${token.at}` : `expected "${value}" before the end`);
    }
    this.index++;
  }
}

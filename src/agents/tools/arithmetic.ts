/**
 * Arithmetic for the `arithmetic` built-in tool, without eval: numbers, + - * / % ^, unary minus
 * and parentheses, by recursive descent.
 */

export class ArithmeticError extends Error {}

export function evaluateArithmetic(source: string): number {
  if (source.length > 500) throw new ArithmeticError("expression longer than 500 characters");
  const tokens = source.match(/\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[-+*/%^()]|\S/g) ?? [];
  let index = 0;
  let depth = 0;
  const peek = () => tokens[index];
  const next = () => tokens[index++];

  const expression = (): number => {
    let value = term();
    while (peek() === "+" || peek() === "-") value = next() === "+" ? value + term() : value - term();
    return value;
  };
  const term = (): number => {
    let value = power();
    while (peek() === "*" || peek() === "/" || peek() === "%") {
      const op = next();
      const right = power();
      if ((op === "/" || op === "%") && right === 0) throw new ArithmeticError("division by zero");
      value = op === "*" ? value * right : op === "/" ? value / right : value % right;
    }
    return value;
  };
  // Right-associative: 2^3^2 = 2^9.
  const power = (): number => {
    const base = unary();
    if (peek() !== "^") return base;
    next();
    return base ** power();
  };
  const unary = (): number => {
    const sign = peek();
    if (sign !== "-" && sign !== "+") return primary();
    next();
    return sign === "-" ? -unary() : unary();
  };
  const primary = (): number => {
    const token = next();
    if (token === undefined) throw new ArithmeticError("unexpected end of expression");
    if (token === "(") {
      if (++depth > 50) throw new ArithmeticError("nested too deeply");
      const value = expression();
      if (next() !== ")") throw new ArithmeticError("missing )");
      depth--;
      return value;
    }
    if (/^\d/.test(token)) return Number(token);
    throw new ArithmeticError(`unexpected "${token}"`);
  };

  const result = expression();
  if (index < tokens.length) throw new ArithmeticError(`unexpected "${tokens[index]}"`);
  if (!Number.isFinite(result)) throw new ArithmeticError("the result is not a finite number");
  return result;
}

/** A JSONPath subset for the `json_path` built-in tool: `$`, `.name`, `[n]`, `['key']`, `["key"]`, `[*]`. */

export class JsonPathError extends Error {}

export function queryJsonPath(document: unknown, path: string): unknown[] {
  const trimmed = path.trim();
  if (!trimmed.startsWith("$")) throw new JsonPathError('paths start with "$"');
  let current: unknown[] = [document];
  let rest = trimmed.slice(1);
  while (rest.length > 0) {
    const match = /^\.([A-Za-z_$][\w$-]*)|^\[(\d+)\]|^\['([^']*)'\]|^\["([^"]*)"\]|^\[\*\]|^\.\*/.exec(rest);
    if (!match) throw new JsonPathError(`cannot read "${rest.slice(0, 20)}"`);
    const key = match[1] ?? match[3] ?? match[4];
    const position = match[2];
    current = current.flatMap((value) => {
      if (key !== undefined)
        return value && typeof value === "object" && !Array.isArray(value) && Object.hasOwn(value, key)
          ? [(value as Record<string, unknown>)[key]]
          : [];
      if (position !== undefined)
        return Array.isArray(value) && Number(position) < value.length ? [value[Number(position)]] : [];
      if (Array.isArray(value)) return value;
      return value && typeof value === "object" ? Object.values(value) : [];
    });
    rest = rest.slice(match[0].length);
  }
  return current;
}

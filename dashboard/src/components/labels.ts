/** Tags and metadata as people type them: `a, b` and `key=value, key2=value2`. */

export function commaList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** `key=value` pairs; an item without `=` is a key with an empty value (the API names what is wrong). */
export function keyValuePairs(text: string): Array<[key: string, value: string]> {
  return commaList(text).map((pair) => {
    const at = pair.indexOf("=");
    return at > 0 ? [pair.slice(0, at).trim(), pair.slice(at + 1).trim()] : [pair, ""];
  });
}

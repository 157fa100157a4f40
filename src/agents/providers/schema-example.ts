/**
 * A value that a JSON Schema accepts, built from the schema alone, for the built-in provider's
 * structured answers: `const`, `default` or the first `enum` value when given, else the first
 * listed type with its smallest allowed size; strings carry `text` (cut to `maxLength`).
 */
type Schema = Record<string, unknown>;

export function exampleOf(schema: Schema, text: string): unknown {
  if ("const" in schema) return schema.const;
  if ("default" in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  const alternative = [schema.anyOf, schema.oneOf].find(Array.isArray)?.[0] as Schema | undefined;
  if (alternative) return exampleOf(alternative, text);
  const type = [schema.type].flat()[0] ?? (schema.properties ? "object" : "string");
  switch (type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      return Object.fromEntries(Object.entries(properties).map(([key, sub]) => [key, exampleOf(sub, text)]));
    }
    case "array": {
      const count = Math.max(Number(schema.minItems ?? 1), 1);
      return Array.from({ length: count }, () => exampleOf((schema.items ?? {}) as Schema, text));
    }
    case "integer":
    case "number": {
      const low = schema.minimum ?? (schema.exclusiveMinimum === undefined ? 0 : Number(schema.exclusiveMinimum) + 1);
      return Math.min(Number(low), Number(schema.maximum ?? Number.POSITIVE_INFINITY));
    }
    case "boolean":
      return true;
    case "null":
      return null;
    default: {
      const min = Number(schema.minLength ?? 0);
      return text.padEnd(min, ".").slice(0, Number(schema.maxLength ?? text.length + min));
    }
  }
}

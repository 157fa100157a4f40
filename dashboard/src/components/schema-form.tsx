/**
 * A start form built from a workflow's `inputSchema`: one field per top-level property (text,
 * number, boolean, enum; anything else as JSON), required ones marked, and the 422 details of a
 * refused start shown on the fields they name. Without a schema, one JSON field.
 */
import { useState } from "preact/hooks";
import type { ErrorDetail } from "../api/client";
import type { JsonSchema } from "../api/types";

type Values = Record<string, string | boolean>;

function initial(schema: JsonSchema | undefined): Values {
  const values: Values = {};
  for (const [name, field] of Object.entries(schema?.properties ?? {})) {
    if (field.type === "boolean") values[name] = field.default === true;
    else
      values[name] =
        field.default === undefined
          ? ""
          : typeof field.default === "string"
            ? field.default
            : JSON.stringify(field.default);
  }
  return values;
}

/** The input object from the form's values; a field that does not parse is reported by name. */
export function inputFrom(
  schema: JsonSchema | undefined,
  values: Values,
  raw: string,
): { input?: Record<string, unknown>; problem?: ErrorDetail } {
  if (!schema?.properties) {
    try {
      const parsed = raw.trim() ? JSON.parse(raw) : {};
      return { input: parsed };
    } catch {
      return { problem: { path: "input", message: "is not valid JSON" } };
    }
  }
  const input: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema.properties)) {
    const value = values[name];
    if (field.type === "boolean") {
      input[name] = value === true;
      continue;
    }
    if (value === "" || value === undefined) continue;
    if (field.type === "number" || field.type === "integer") {
      const number = Number(value);
      if (Number.isNaN(number)) return { problem: { path: `input.${name}`, message: "must be a number" } };
      input[name] = number;
    } else if (field.type === "string" || field.enum) {
      input[name] = value;
    } else {
      try {
        input[name] = JSON.parse(String(value));
      } catch {
        return { problem: { path: `input.${name}`, message: "is not valid JSON" } };
      }
    }
  }
  return { input };
}

export function SchemaForm(props: {
  schema: JsonSchema | undefined;
  details: ErrorDetail[];
  busy: boolean;
  submitLabel: string;
  onSubmit(input: Record<string, unknown>): void;
  onProblem(problem: ErrorDetail): void;
}) {
  const [values, setValues] = useState<Values>(() => initial(props.schema));
  const [raw, setRaw] = useState("{}");
  const detailFor = (name: string) =>
    props.details.find(
      (detail) =>
        detail.path === `input.${name}` || detail.path === `input/${name}` || detail.path.endsWith(`.${name}`),
    );
  const set = (name: string, value: string | boolean) => setValues({ ...values, [name]: value });
  const submit = (event: Event) => {
    event.preventDefault();
    const { input, problem } = inputFrom(props.schema, values, raw);
    if (problem) props.onProblem(problem);
    else props.onSubmit(input ?? {});
  };
  const properties = Object.entries(props.schema?.properties ?? {});
  return (
    <form class="form" onSubmit={submit} noValidate>
      {properties.length === 0 && (
        <label>
          Input (JSON)
          <textarea rows={4} value={raw} onInput={(e) => setRaw(e.currentTarget.value)} spellcheck={false} />
        </label>
      )}
      {properties.map(([name, field]) => {
        const detail = detailFor(name);
        const id = `field-${name}`;
        const required = props.schema?.required?.includes(name) ?? false;
        const describedBy = detail ? `${id}-error` : field.description ? `${id}-help` : undefined;
        return (
          <div class={`field${detail ? " field-invalid" : ""}`} key={name}>
            <label for={id}>
              {field.title ?? name}
              {required && <span aria-hidden="true"> *</span>}
            </label>
            {field.type === "boolean" ? (
              <input
                id={id}
                type="checkbox"
                checked={values[name] === true}
                onChange={(e) => set(name, e.currentTarget.checked)}
                aria-describedby={describedBy}
              />
            ) : field.enum ? (
              <select
                id={id}
                value={String(values[name])}
                onChange={(e) => set(name, e.currentTarget.value)}
                aria-invalid={!!detail}
                aria-describedby={describedBy}
                required={required}
              >
                <option value="">—</option>
                {field.enum.map((option) => (
                  <option key={String(option)} value={String(option)}>
                    {String(option)}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                type="text"
                inputMode={field.type === "number" || field.type === "integer" ? "decimal" : undefined}
                value={String(values[name] ?? "")}
                onInput={(e) => set(name, e.currentTarget.value)}
                aria-invalid={!!detail}
                aria-describedby={describedBy}
                required={required}
                placeholder={field.type === "object" || field.type === "array" ? "JSON" : undefined}
              />
            )}
            {field.description && !detail && (
              <small id={`${id}-help`} class="help">
                {field.description}
              </small>
            )}
            {detail && (
              <small id={`${id}-error`} class="field-error" role="alert">
                {detail.message}
              </small>
            )}
          </div>
        );
      })}
      <button type="submit" class="primary" disabled={props.busy}>
        {props.submitLabel}
      </button>
    </form>
  );
}

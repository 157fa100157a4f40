/**
 * Text every copy of an execution can hold. Postgres refuses NUL characters in text and jsonb,
 * and unpaired UTF-16 surrogates in jsonb; the object would keep them. Values entering an
 * execution (inputs, step results, event payloads) pass through here first, so the object,
 * Postgres, the stream and R2 all hold the same text (docs/engine.md: NUL becomes U+FFFD).
 */

const NUL = String.fromCharCode(0);

export function storableText(text: string): string {
  return text.toWellFormed().replaceAll(NUL, "\uFFFD");
}

/** `value` with every string (keys included) made storable; returns the same object when nothing changes. */
export function storable<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === "string") return needsCleaning(value) ? storableText(value) : value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((item) => {
      const cleaned = clean(item);
      if (cleaned !== item) changed = true;
      return cleaned;
    });
    return changed ? out : value;
  }
  if (value && typeof value === "object") {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const cleanKey = needsCleaning(key) ? storableText(key) : key;
      const cleaned = clean(item);
      if (cleaned !== item || cleanKey !== key) changed = true;
      out[cleanKey] = cleaned;
    }
    return changed ? out : value;
  }
  return value;
}

function needsCleaning(text: string): boolean {
  return text.includes(NUL) || !text.isWellFormed();
}

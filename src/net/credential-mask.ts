/**
 * Literal credentials written into configuration (an http step's `Authorization` header, a
 * tool's `?api_key=` URL) shown as `***` to those who read but do not write it. A value that is
 * only a `{{secrets.NAME}}` reference (optionally after a scheme word) holds nothing secret and
 * is shown as written; anything else under a credential-like name is masked.
 */

export const MASK = "***";

/** Header and query names that carry credentials by convention. */
const CREDENTIAL_NAME = /auth|key|token|secret|passw|session|cookie|signature|credential|^sig$/i;
const SECRET_REFERENCE = /^\s*(?:(?:Bearer|Basic|Token)\s+)?\{\{\s*secrets\.[A-Z][A-Z0-9_]{0,63}\s*\}\}\s*$/;

export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

function masked(value: string): string {
  return SECRET_REFERENCE.test(value) ? value : MASK;
}

/** Header values under credential names masked. */
export function maskCredentialHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, isCredentialName(name) ? masked(value) : value]),
  );
}

/** A URL's user info and the values of its credential-named query parameters masked; templates kept. */
export function maskCredentialUrl(url: string): string {
  const [beforeQuery, ...rest] = url.split("?");
  const withoutUser = beforeQuery.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, `$1${MASK}@`);
  if (rest.length === 0) return withoutUser;
  const [query, ...fragment] = rest.join("?").split("#");
  const params = query.split("&").map((pair) => {
    const at = pair.indexOf("=");
    if (at === -1) return pair;
    const name = decodeSafely(pair.slice(0, at));
    return isCredentialName(name) ? `${pair.slice(0, at)}=${masked(decodeSafely(pair.slice(at + 1)))}` : pair;
  });
  return [`${withoutUser}?${params.join("&")}`, ...fragment].join("#");
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

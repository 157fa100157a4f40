/**
 * The dashboard's only way to the platform: the public API under /api/v1, with the access token
 * held in memory (never in storage a script could read later) and the refresh token in the
 * httpOnly cookie the server set at sign-in. A 401 refreshes once and retries.
 */

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

interface TokenAnswer {
  accessToken: string;
  expiresIn: number;
}

/** Set beside the httpOnly refresh cookie, readable and secret-free: "a session may be restored". */
const SESSION_MARKER = "ipa_session";
let accessToken: string | null = null;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<boolean> | null = null;
/** Told when the session ends (refresh refused): the app shows the sign-in page. */
let onSignedOut: () => void = () => {};

export function whenSignedOut(callback: () => void): void {
  onSignedOut = callback;
}

function keep(answer: TokenAnswer): void {
  accessToken = answer.accessToken;
  clearTimeout(refreshTimer);
  // Refresh a minute before the access token expires, so a quiet page stays signed in.
  refreshTimer = setTimeout(() => void refreshSession(), Math.max(10, answer.expiresIn - 60) * 1000);
}

export function forgetSession(): void {
  accessToken = null;
  clearTimeout(refreshTimer);
}

export async function signInWith(identifier: string, password: string): Promise<void> {
  const field = identifier.includes("@") ? "email" : "username";
  keep(
    await request<TokenAnswer>("POST", "/auth/login", { [field]: identifier, password, refreshIn: "cookie" }, false),
  );
}

/**
 * A new access token from the refresh cookie; false when there is no live session. Tabs share the
 * cookie and each refresh rotates it, so they take turns (Web Locks): two refreshes sent at once
 * with one cookie would look like token reuse, which revokes the session.
 */
export function refreshSession(): Promise<boolean> {
  // Without the server's session marker there is no refresh cookie either: asking would only fail.
  if (!document.cookie.split("; ").includes(`${SESSION_MARKER}=1`)) return Promise.resolve(false);
  refreshing ??= oneTabAtATime(async () => {
    try {
      keep(await request<TokenAnswer>("POST", "/auth/refresh", undefined, false));
      return true;
    } catch {
      forgetSession();
      return false;
    }
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function oneTabAtATime<T>(run: () => Promise<T>): Promise<T> {
  return navigator.locks ? navigator.locks.request("ipa-refresh", run) : run();
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  try {
    return await request<T>(method, path, body, true);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || path.startsWith("/auth/")) throw error;
    if (!(await refreshSession())) {
      onSignedOut();
      throw error;
    }
    return request<T>(method, path, body, true);
  }
}

export const get = <T>(path: string) => api<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => api<T>("POST", path, body);

async function request<T>(method: string, path: string, body: unknown, authorized: boolean): Promise<T> {
  const headers: Record<string, string> = {};
  if (authorized && accessToken) headers.authorization = `Bearer ${accessToken}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const error = (parsed as { error?: { code: string; message: string; details?: ErrorDetail[] } })?.error;
    throw new ApiError(res.status, error?.code ?? "HTTP_ERROR", error?.message ?? res.statusText, error?.details);
  }
  return parsed as T;
}

/** Query strings without empty values. */
export function query(params: Record<string, string | string[] | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    // An array repeats its parameter (`tag=a&tag=b`).
    if (Array.isArray(value)) for (const item of value) search.append(key, item);
    else if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

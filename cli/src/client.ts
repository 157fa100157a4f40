/** The platform's API over fetch, answering parsed JSON or throwing ApiError in the one error shape. */
import { ApiError, CliError, type ErrorDetail, EXIT } from "./errors.ts";

export interface Client {
  url: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  put<T>(path: string, body?: unknown): Promise<T>;
  request<T>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<T>;
}

export function client(url: string, token: string | null): Client {
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> => {
    const headers: Record<string, string> = { ...extraHeaders };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(`cannot reach ${url}: ${(error as Error).cause ?? (error as Error).message}`);
    }
    const text = await res.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!res.ok) {
      const error = (parsed as { error?: { code: string; message: string; details?: ErrorDetail[] } } | undefined)
        ?.error;
      if (res.status === 401 && !token && !path.startsWith("/auth/"))
        throw new CliError(`not signed in to ${url}: run \`ipa login\` or set IPA_TOKEN`, EXIT.notSignedIn);
      throw new ApiError(res.status, error?.code ?? "HTTP_ERROR", error?.message ?? res.statusText, error?.details);
    }
    return parsed as T;
  };
  return {
    url,
    request,
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    put: (path, body) => request("PUT", path, body),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

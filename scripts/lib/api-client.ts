/** A small client for the platform's API, for the Node-side tools (bench, restore, drill). */

export interface ApiClient {
  baseUrl: string;
  token: string;
  json<T = Record<string, unknown>>(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T }>;
  raw(path: string, init?: RequestInit): Promise<Response>;
}

/** Logs in with IPA_TOKEN, or ADMIN_EMAIL / ADMIN_PASSWORD, against IPA_URL (default localhost:8787). */
export async function connectApi(env: NodeJS.ProcessEnv = process.env): Promise<ApiClient> {
  const baseUrl = (env.IPA_URL ?? "http://localhost:8787").replace(/\/$/, "");
  let token = env.IPA_TOKEN;
  if (!token) {
    if (!env.ADMIN_EMAIL || !env.ADMIN_PASSWORD) {
      throw new Error(`set IPA_TOKEN, or ADMIN_EMAIL and ADMIN_PASSWORD, to reach the platform at ${baseUrl}`);
    }
    const res = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`login failed (${res.status}): ${await res.text()}`);
    token = ((await res.json()) as { accessToken: string }).accessToken;
  }
  const raw = (path: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
  return {
    baseUrl,
    token,
    raw,
    json: async <T>(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
      const res = await raw(path, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers: { ...(init.body === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    },
  };
}

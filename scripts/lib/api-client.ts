/**
 * The platform's typed client (src/client.ts, `hc<AppType>`) signed in for the Node-side tools
 * (bench, drill, restore, soak): every path, body and answer they use is checked by the compiler
 * against the Worker's routes. `answer` reads a 2xx answer or throws an error naming the status
 * and the platform's error body.
 */

import { type ClientResponse, DetailedError, parseResponse } from "hono/client";
import { createClient } from "#client";

export type IpaClient = ReturnType<typeof createClient>;

export interface ApiConnection {
  baseUrl: string;
  token: string;
  client: IpaClient;
}

/** Signs in with IPA_TOKEN, or ADMIN_EMAIL / ADMIN_PASSWORD, against IPA_URL (default localhost:8787). */
export async function connectApi(env: NodeJS.ProcessEnv = process.env): Promise<ApiConnection> {
  const baseUrl = (env.IPA_URL ?? "http://localhost:8787").replace(/\/$/, "");
  const token = env.IPA_TOKEN ?? (await logIn(baseUrl, env));
  const headers = { authorization: `Bearer ${token}` };
  return { baseUrl, token, client: createClient(baseUrl, { headers, fetch: fetchWithinRateLimit }) };
}

/** A tool that asks faster than the per-user limit waits as the 429 says, then asks again. */
async function fetchWithinRateLimit(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(input, init);
    if (response.status !== 429 || attempt === 5) return response;
    const seconds = Number(response.headers.get("retry-after") ?? "1");
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, (Number.isFinite(seconds) ? seconds : 1) * 1_000));
  }
}

async function logIn(baseUrl: string, env: NodeJS.ProcessEnv): Promise<string> {
  const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = env;
  if (!email || !password) {
    throw new Error(`set IPA_TOKEN, or ADMIN_EMAIL and ADMIN_PASSWORD, to reach the platform at ${baseUrl}`);
  }
  const session = await answer("login", createClient(baseUrl).api.v1.auth.login.$post({ json: { email, password } }));
  return session.accessToken;
}

/** The 2xx answer of a request, or an error naming `what`, the status and the platform's error body. */
// biome-ignore lint/suspicious/noExplicitAny: any response shape, as parseResponse itself takes
export async function answer<T extends ClientResponse<any>>(what: string, request: Promise<T>) {
  try {
    return await parseResponse(request);
  } catch (error) {
    if (!(error instanceof DetailedError)) throw error;
    throw new Error(`${what}: ${error.message} ${JSON.stringify(error.detail?.data ?? null)}`);
  }
}

/** Creates a workflow and publishes its first version; the platform checks the steps (a 422 names what is wrong). */
export async function createWorkflow(client: IpaClient, name: string, steps: readonly unknown[]) {
  const v1 = client.api.v1;
  const workflow = await answer("create workflow", v1.workflows.$post({ json: { name } }));
  const definition = { steps } as never;
  const version = await answer(
    "publish version",
    v1.workflows[":id"].versions.$post({ param: { id: workflow.id }, json: { definition } }),
  );
  return { id: workflow.id, versionId: version.id };
}

export async function startExecution(
  client: IpaClient,
  workflowId: string,
  input: Record<string, unknown> = {},
  idempotencyKey?: string,
): Promise<string> {
  const { executions } = client.api.v1.workflows[":id"];
  const header = idempotencyKey ? { "idempotency-key": idempotencyKey } : {};
  return (await answer("start execution", executions.$post({ param: { id: workflowId }, header, json: { input } }))).id;
}

export function approveStep(client: IpaClient, executionId: string, stepId: string) {
  const { approve } = client.api.v1.executions[":id"].steps[":stepId"];
  return answer("approve", approve.$post({ param: { id: executionId, stepId }, json: {} }));
}

export function sendEvent(client: IpaClient, executionId: string, name: string, payload: Record<string, unknown>) {
  const { events } = client.api.v1.executions[":id"];
  return answer(
    `send event ${name}`,
    events[":name"].$post({ param: { id: executionId, name }, header: {}, json: { payload } }),
  );
}

export async function streamTicket(client: IpaClient, executionId: string): Promise<string> {
  const ticket = client.api.v1.executions[":id"]["stream-ticket"];
  return (await answer("stream ticket", ticket.$post({ param: { id: executionId } }))).ticket;
}

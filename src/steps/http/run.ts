/** Runs an `http` step attempt: the resolved request, its Idempotency-Key, and the status check. */

import { type Settings, settings } from "../../config";
import { keyringOf } from "../../crypto/keyring-of";
import { AddressRefusedError } from "../../net/address-guard";
import { guardedFetch, RedirectRefusedError } from "../../net/guarded-fetch";
import { attemptSpanId, formatTraceparent } from "../../observability/tracing/trace-context";
import {
  SecretHostRefusedError,
  SecretInjectionError,
  SecretMissingError,
  SecretResolver,
} from "../../secrets/resolver";
import { SealedSecretSource, SecretsUnavailableError } from "../../secrets/sealed-source";
import type { RunContext } from "../kind";
import type { StepOutcome, StepTask } from "../task";
import { type HttpInput, HttpInputSchema } from "./input-schema";
import { type FilledRequest, fillRequest } from "./request";

/** Response headers worth keeping in the step's output. */
const KEPT_HEADERS = [
  "content-type",
  "content-length",
  "etag",
  "last-modified",
  "location",
  "retry-after",
  "x-request-id",
];

export async function runHttpStep(task: StepTask, raw: unknown, context: RunContext): Promise<StepOutcome> {
  const config = settings(context.env);
  const source = new SealedSecretSource(config, { kind: "steps", workflowId: task.workflowId });
  const secrets = new SecretResolver(source.lookup, keyringOf(config));
  try {
    // What comes back never holds a secret value, whatever the target echoes.
    return secrets.scrub(await send(task, HttpInputSchema.parse(raw), context, config, secrets));
  } finally {
    await source.close();
  }
}

async function send(
  task: StepTask,
  input: HttpInput,
  context: RunContext,
  config: Settings,
  secrets: SecretResolver,
): Promise<StepOutcome> {
  let request: FilledRequest;
  try {
    request = await fillRequest(input, secrets);
  } catch (error) {
    if (error instanceof SecretMissingError)
      return { ok: false, error: { message: error.message, reason: "secret_missing", retryable: false } };
    if (error instanceof SecretsUnavailableError)
      return { ok: false, error: { message: error.message, reason: "secrets_unavailable", retryable: true } };
    if (error instanceof SecretInjectionError)
      return { ok: false, error: { message: error.message, reason: "invalid_request", retryable: false } };
    throw error;
  }
  const { url, headers, body, sensitiveHeaders, bodyCarriesSecret } = request;
  headers.set("Idempotency-Key", task.idempotencyKey);
  // The target joins the execution's trace under this attempt's span, unless the step set its own.
  if (!headers.has("traceparent"))
    headers.set(
      "traceparent",
      formatTraceparent(task.traceId, attemptSpanId(task.executionId, task.stepId, task.attempt)),
    );
  if (!headers.has("user-agent")) headers.set("User-Agent", "ipa-platform");
  const timeoutMs = Math.max(1, task.deadline - Date.now());
  try {
    const response = await guardedFetch(
      url,
      {
        method: input.method,
        headers,
        body,
        timeoutMs,
        signal: context.signal,
        sensitiveHeaders,
        checkUrl: secrets.assertHostAllowed,
        bodyCarriesSecret,
      },
      config.HTTP_STEP_ALLOWLIST,
    );
    const kept: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) kept[name] = value;
    }
    const output = {
      status: response.status,
      headers: kept,
      body: response.body,
      ...(response.truncated ? { truncated: true } : {}),
    };
    const expected = input.expectStatus ?? null;
    const ok = expected ? expected.includes(response.status) : response.status >= 200 && response.status < 300;
    if (ok) return { ok: true, output };
    return {
      ok: false,
      error: {
        message: `${input.method} ${new URL(url).host} answered ${response.status}`,
        reason: "unexpected_status",
        status: response.status,
        // Client errors other than timeouts and rate limits will not fix themselves.
        retryable: response.status >= 500 || response.status === 408 || response.status === 429,
      },
    };
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal)
      return { ok: false, error: { message: `refused: ${refusal.message}`, reason: refusal.reason, retryable: false } };
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
      return { ok: false, error: { message: `no answer within ${timeoutMs} ms`, reason: "timeout", retryable: true } };
    }
    return {
      ok: false,
      error: { message: `request failed: ${(error as Error).message}`, reason: "http_error", retryable: true },
    };
  }
}

/** Refusals that no retry can fix: nothing was sent to where the request would have gone. */
function refusalOf(error: unknown): { reason: string; message: string } | null {
  if (error instanceof AddressRefusedError) return { reason: "address_refused", message: error.message };
  if (error instanceof SecretHostRefusedError) return { reason: "secret_host_refused", message: error.message };
  if (error instanceof RedirectRefusedError) return { reason: "redirect_refused", message: error.message };
  return null;
}

/**
 * Webhook triggers (SPEC §6). Each workflow has a signing secret, stored with the keyring and
 * shown once. A delivery is signed `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`;
 * it is refused when the signature is wrong or `t` is more than 300 s away, and a replay of a
 * seen signature is refused (409). The delivery record commits with the execution it starts.
 */

import { eq } from "drizzle-orm";
import { type AuditContext, recordAudit } from "../audit/record";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import { randomToken, sha256Hex, timingSafeEqual, toHex, utf8 } from "../crypto/encoding";
import { keyringOf } from "../crypto/keyring-of";
import type { Database } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { webhookDeliveries, workflows } from "../db/schema";
import type { Bindings } from "../env";
import { ConflictError, UnauthorizedError, ValidationError } from "../errors";
import type { TraceContext } from "../observability/tracing/trace-context";
import { type Started, startExecution } from "./execution-start";
import { lockForChange } from "./workflows";

export const SIGNATURE_TOLERANCE_SECONDS = 300;

export const webhookSecretBinding = (workflowId: string) => ({
  table: "workflows",
  column: "webhook_secret",
  rowId: workflowId,
});

/** Creates or rotates the workflow's secret; the plaintext is returned this once. */
export async function rotateWebhookSecret(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  audit: AuditContext,
  workflowId: string,
): Promise<{ secret: string }> {
  const secret = `whsec_${randomToken(32)}`;
  const sealed = await keyringOf(config).encrypt(secret, webhookSecretBinding(workflowId));
  await db.transaction(async (tx) => {
    const before = await lockForChange(tx, user, workflowId, "workflows:update");
    await tx.update(workflows).set({ webhookSecret: sealed }).where(eq(workflows.id, workflowId));
    await recordAudit(tx, audit, {
      action: before.row.webhookSecret ? "workflow.webhook_secret.rotate" : "workflow.webhook_secret.create",
      resourceType: "workflow",
      resourceId: workflowId,
    });
  });
  return { secret };
}

/** Computes the signature header for `body` (used by clients, tests and the bench). */
export async function signWebhook(secret: string, body: string, at = Math.floor(Date.now() / 1000)): Promise<string> {
  return `t=${at},v1=${await hmacHex(secret, `${at}.${body}`)}`;
}

/** Checks a signed delivery for `workflowId`; returns what identifies it (its replays share it). */
export async function verifySignedDelivery(
  db: Database,
  config: Settings,
  workflowId: string,
  header: string | undefined,
  rawBody: string,
): Promise<{ signatureHash: string }> {
  const [workflow] = await db
    .select({ secret: workflows.webhookSecret })
    .from(workflows)
    .where(eq(workflows.id, workflowId));
  const signature = parseSignature(header);
  // An unknown workflow, a workflow without a secret and a bad signature look the same.
  if (!workflow?.secret || !signature) throw new UnauthorizedError("Invalid webhook signature");
  const secret = await keyringOf(config).decrypt(workflow.secret, webhookSecretBinding(workflowId));
  if (Math.abs(Date.now() / 1000 - signature.at) > SIGNATURE_TOLERANCE_SECONDS) {
    throw new UnauthorizedError("The webhook signature is outside the allowed clock skew");
  }
  const expected = await hmacHex(secret, `${signature.at}.${rawBody}`);
  if (!signature.v1.some((candidate) => timingSafeEqual(candidate, expected)))
    throw new UnauthorizedError("Invalid webhook signature");
  return { signatureHash: await sha256Hex(`${signature.at}.${expected}`) };
}

export async function receiveWebhook(
  db: Database,
  env: Bindings,
  config: Settings,
  workflowId: string,
  header: string | undefined,
  rawBody: string,
  audit: AuditContext,
  trace: TraceContext | null = null,
): Promise<Started> {
  const { signatureHash } = await verifySignedDelivery(db, config, workflowId, header, rawBody);
  const input = parseJsonObject(rawBody);
  try {
    return await startExecution(db, env, {
      workflowId,
      input,
      triggerType: "webhook",
      user: null,
      audit,
      trace,
      beforeCommit: async (tx, executionId) => {
        await tx.insert(webhookDeliveries).values({ workflowId, signatureHash, executionId });
      },
    });
  } catch (error) {
    if (isUniqueViolation(error, "webhook_deliveries_pkey"))
      throw new ConflictError("This delivery was already received", "WEBHOOK_REPLAYED");
    throw error;
  }
}

/**
 * Records a signed delivery once; false when its signature was seen before (a replay). The event
 * hook passes the hash on as the event's idempotency key, so a replay whose first try never
 * reached the object is delivered now, and one that did is refused.
 */
export async function recordDelivery(db: Database, workflowId: string, signatureHash: string, executionId: string) {
  const inserted = await db
    .insert(webhookDeliveries)
    .values({ workflowId, signatureHash, executionId })
    .onConflictDoNothing()
    .returning({ signatureHash: webhookDeliveries.signatureHash });
  return inserted.length > 0;
}

function parseSignature(header: string | undefined): { at: number; v1: string[] } | null {
  if (!header || header.length > 1024) return null;
  const parts = header.split(",").map((part) => part.trim().split("="));
  const at = Number(parts.find(([key]) => key === "t")?.[1]);
  const v1 = parts
    .filter(([key, value]) => key === "v1" && /^[0-9a-f]{64}$/.test(value ?? ""))
    .map(([, value]) => value);
  return Number.isInteger(at) && v1.length > 0 ? { at, v1 } : null;
}

/** A signed body as a JSON object (an empty body is `{}`). */
export function parseJsonObject(rawBody: string): Record<string, unknown> {
  if (rawBody.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    throw new ValidationError([{ path: "(body)", message: "the webhook body must be JSON" }]);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ValidationError([{ path: "(body)", message: "the webhook body must be a JSON object" }]);
  }
  return parsed as Record<string, unknown>;
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(await crypto.subtle.sign("HMAC", key, utf8(message)));
}

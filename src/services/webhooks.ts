/**
 * Signed hooks (docs/workflows.md, docs/security.md). Each workflow has a signing secret, stored with the keyring and
 * shown once. A start is signed `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, an
 * event `HMAC(secret, "<t>.<executionId>.<name>.<body>")`, so a signature is bound to its target.
 * A delivery is refused when the signature is wrong or `t` is more than 300 s away; a signature
 * accepted once on any hook of the workflow is refused on every hook of it (409). A start's
 * delivery record commits with the execution it starts.
 */

import { and, eq, inArray } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import { hmacHex, randomToken, sha256Hex, timingSafeEqual } from "../crypto/encoding";
import { keyringOf } from "../crypto/keyring-of";
import type { Database } from "../db/client";
import { isUniqueViolation } from "../db/errors";
import { webhookDeliveries, workflows } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import type { Bindings } from "../env";
import { ConflictError, UnauthorizedError, ValidationError } from "../errors";
import type { TraceContext } from "../observability/tracing/trace-context";
import { startExecution } from "./execution-start";
import type { Started } from "./start-replays";
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

/** What a signature is for: a start of the workflow, or one event to one of its executions. */
export type HookTarget = { kind: "start" } | { kind: "event"; executionId: string; name: string };

/** The text a hook's signature covers. */
function signedText(target: HookTarget, at: number, body: string): string {
  return target.kind === "start" ? `${at}.${body}` : `${at}.${target.executionId}.${target.name}.${body}`;
}

/** Computes the signature header for a start's `body` (used by clients, tests and the bench). */
export async function signWebhook(secret: string, body: string, at = Math.floor(Date.now() / 1000)): Promise<string> {
  return `t=${at},v1=${await hmacHex(secret, signedText({ kind: "start" }, at, body))}`;
}

/** Computes the signature header for an event delivered to one execution under one name. */
export async function signEventHook(
  secret: string,
  executionId: string,
  name: string,
  body: string,
  at = Math.floor(Date.now() / 1000),
): Promise<string> {
  return `t=${at},v1=${await hmacHex(secret, signedText({ kind: "event", executionId, name }, at, body))}`;
}

/** A delivery the replay store already holds: where it went the first time. */
export interface SeenDelivery {
  signatureHash: string;
  executionId: string | null;
  eventName: string | null;
}

/**
 * Checks a signed delivery to `target` of `workflowId`; returns what identifies it and, when its
 * signature was accepted before on a hook of the workflow, where it went then.
 */
export async function verifySignedDelivery(
  db: Database,
  config: Settings,
  workflowId: string,
  target: HookTarget,
  header: string | undefined,
  rawBody: string,
): Promise<{ signatureHash: string; seen: SeenDelivery | null }> {
  const [workflow] = await db
    .select({ secret: workflows.webhookSecret })
    .from(workflows)
    .where(eq(workflows.id, workflowId));
  const signature = parseSignature(header);
  // An unknown workflow, a workflow without a secret and a bad signature look the same.
  if (!workflow?.secret || !signature) throw new UnauthorizedError("Invalid webhook signature");
  if (Math.abs(Date.now() / 1000 - signature.at) > SIGNATURE_TOLERANCE_SECONDS) {
    throw new UnauthorizedError("The webhook signature is outside the allowed clock skew");
  }
  // A signature seen before is looked up first: replayed on another hook it would not verify
  // there, and it must be refused as the replay it is.
  const hashes = await Promise.all(signature.v1.map((candidate) => signatureHashOf(signature.at, candidate)));
  const [seen] = await db
    .select({
      signatureHash: webhookDeliveries.signatureHash,
      executionId: webhookDeliveries.executionId,
      eventName: webhookDeliveries.eventName,
    })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.workflowId, workflowId), inArray(webhookDeliveries.signatureHash, hashes)));
  if (seen && !sameTarget(seen, target)) throw replayed();
  const secret = await keyringOf(config).decrypt(workflow.secret, webhookSecretBinding(workflowId));
  const expected = await hmacHex(secret, signedText(target, signature.at, rawBody));
  if (!signature.v1.some((candidate) => timingSafeEqual(candidate, expected)))
    throw new UnauthorizedError("Invalid webhook signature");
  return { signatureHash: await signatureHashOf(signature.at, expected), seen: seen ?? null };
}

/** A start's signature is never delivered twice; an event's only to the same execution and name (a sender's retry). */
function sameTarget(seen: SeenDelivery, target: HookTarget): boolean {
  return target.kind === "event" && seen.executionId === target.executionId && seen.eventName === target.name;
}

function signatureHashOf(at: number, v1: string): Promise<string> {
  return sha256Hex(`${at}.${v1}`);
}

export function replayed(): ConflictError {
  return new ConflictError("This delivery was already received", "WEBHOOK_REPLAYED");
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
  const { signatureHash } = await verifySignedDelivery(db, config, workflowId, { kind: "start" }, header, rawBody);
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
    if (isUniqueViolation(error, "webhook_deliveries_pkey")) throw replayed();
    throw error;
  }
}

/**
 * Records a signed event delivery once; false when its signature was seen before (a sender's
 * retry to the same target, or a replay that raced it). The event hook passes the hash on as the
 * event's idempotency key, so a retry whose first try never reached the object is delivered now,
 * and one that did is refused.
 */
export async function recordDelivery(
  db: Database,
  workflowId: string,
  signatureHash: string,
  target: { executionId: string; name: string },
) {
  const inserted = await db
    .insert(webhookDeliveries)
    .values({ workflowId, signatureHash, executionId: target.executionId, eventName: target.name })
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

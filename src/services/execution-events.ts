/**
 * Delivering events to an execution's `event` steps (docs/workflows.md, docs/api.md): from an authenticated
 * caller with executions:signal, or from an outside system signing like a webhook. The object
 * completes a waiting step, buffers the event for one still to come, or refuses it.
 */

import { SYSTEM_ACTOR } from "../audit/record";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import type { Database } from "../db/client";
import type { AuditContext } from "../db/schema/audit";
import type { DeliveryResult } from "../durable-objects/execution/rpc";
import type { Bindings } from "../env";
import { NotFoundError } from "../errors";
import { actionableExecution, findExecution } from "./execution-access";
import { unwrap, withStartedObject } from "./execution-controls";
import { parseJsonObject, recordDelivery, replayed as replayedDelivery, verifySignedDelivery } from "./webhooks";

export interface EventInput {
  name: string;
  payload: unknown;
  idempotencyKey: string | null;
}

export async function deliverEvent(
  db: Database,
  env: Bindings,
  user: AuthenticatedUser,
  audit: AuditContext,
  executionId: string,
  event: EventInput,
) {
  const found = await actionableExecution(db, user, executionId, "executions:signal");
  const result = await withStartedObject<DeliveryResult>(db, env, found, (stub) =>
    stub.deliverEvent({ ...event, audit }),
  );
  const { delivered, buffered, replayed } = unwrap(result);
  return { delivered, buffered, replayed: replayed ?? false };
}

/** The signed event hook: `POST /hooks/:workflowId/executions/:id/events/:name`; the JSON body is the payload. */
export async function receiveEventHook(
  db: Database,
  env: Bindings,
  config: Settings,
  target: { workflowId: string; executionId: string; name: string },
  header: string | undefined,
  rawBody: string,
  requestId: string,
) {
  const { signatureHash } = await verifySignedDelivery(
    db,
    config,
    target.workflowId,
    { kind: "event", executionId: target.executionId, name: target.name },
    header,
    rawBody,
  );
  const found = await findExecution(db, target.executionId);
  // An execution of another workflow is as unknown as one that does not exist.
  if (found?.row.workflowId !== target.workflowId) throw new NotFoundError("Execution");
  const payload = parseJsonObject(rawBody);
  const first = await recordDelivery(db, target.workflowId, signatureHash, target);
  const audit: AuditContext = { ...SYSTEM_ACTOR, actorEmail: "event-hook", requestId };
  const idempotencyKey = `hook:${signatureHash}`;
  const result = await withStartedObject<DeliveryResult>(db, env, found, (stub) =>
    stub.deliverEvent({ name: target.name, payload, idempotencyKey, audit }),
  );
  const { delivered, buffered, replayed } = unwrap(result);
  // A replay whose first try reached the object is refused like a replayed webhook (docs/workflows.md).
  if (!first && replayed) throw replayedDelivery();
  return { delivered, buffered };
}

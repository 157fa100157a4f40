/**
 * Results of step attempts that ran but could not be reported (the object out of reach), kept in
 * R2 under the attempt and its idempotency key until a later claim of the same attempt reports
 * them. This is what makes "after a step ran, a failed report retries the report, never the
 * step" hold across consumer invocations.
 */
import type { StepTask } from "../durable-objects/execution/types";
import type { RunResult } from "../steps/kind";

const keyOf = (task: StepTask) => `stash/${task.executionId}/${task.stepId}/${task.attempt}.json`;

export async function stash(bucket: R2Bucket, task: StepTask, result: RunResult): Promise<void> {
  await bucket.put(keyOf(task), JSON.stringify({ idempotencyKey: task.idempotencyKey, result }), {
    httpMetadata: { contentType: "application/json" },
  });
}

export async function readStash(bucket: R2Bucket, task: StepTask): Promise<RunResult | null> {
  const object = await bucket.get(keyOf(task));
  if (!object) return null;
  const stored = (await object.json()) as { idempotencyKey: string; result: RunResult };
  return stored.idempotencyKey === task.idempotencyKey ? stored.result : null;
}

export async function discardStash(bucket: R2Bucket, task: StepTask): Promise<void> {
  await bucket.delete(keyOf(task));
}

/**
 * Results of step attempts that ran but could not be reported (the object out of reach), kept in
 * R2 under the step's idempotency key until a later claim reports them. A later claim of the same
 * attempt reports whatever was stashed; a later attempt (the first one timed out meanwhile) takes
 * a stashed success as its own, since it is the same request under the same key. This is what
 * makes "after a step ran, a failed report retries the report, never the step" hold across
 * consumer invocations.
 */

import type { RunResult } from "../steps/kind";
import type { StepTask } from "../steps/task";

interface Stashed {
  attempt: number;
  result: RunResult;
}

const keyOf = (task: StepTask) => `stash/${task.executionId}/${task.stepId}/${task.idempotencyKey}.json`;

/** Whether a claim may find a stashed result: not the first claim of the step's first attempt in its run. */
export function mayHaveStash(task: StepTask): boolean {
  return task.claims > 1 || task.attempt > 1;
}

export async function stash(bucket: R2Bucket, task: StepTask, result: RunResult): Promise<void> {
  const stashed: Stashed = { attempt: task.attempt, result };
  await bucket.put(keyOf(task), JSON.stringify(stashed), { httpMetadata: { contentType: "application/json" } });
}

export async function readStash(bucket: R2Bucket, task: StepTask): Promise<RunResult | null> {
  const object = await bucket.get(keyOf(task));
  if (!object) return null;
  const { attempt, result } = (await object.json()) as Stashed;
  if (attempt === task.attempt) return result;
  return "outcome" in result && result.outcome.ok ? result : null;
}

export async function discardStash(bucket: R2Bucket, task: StepTask): Promise<void> {
  await bucket.delete(keyOf(task));
}

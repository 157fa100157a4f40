/**
 * A step's whole output (docs/engine.md), also when it was too large to keep inline and lives in R2.
 * The R2 key is derived from the step and its attempt, never taken from the stored value, so a
 * step whose output merely looks like a reference cannot read another object.
 */
import { and, eq } from "drizzle-orm";
import type { AuthenticatedUser } from "../auth/principal";
import type { Database } from "../db/client";
import { executionSteps } from "../db/schema";
import { NotFoundError } from "../errors";
import { type OffloadRef, outputKey, readOffloaded } from "../steps/large-values";
import { visibleExecution } from "./execution-access";

export async function stepOutput(
  db: Database,
  bucket: R2Bucket,
  user: AuthenticatedUser,
  executionId: string,
  stepId: string,
) {
  await visibleExecution(db, user, executionId);
  const [step] = await db
    .select({ output: executionSteps.output, attempt: executionSteps.attempt, status: executionSteps.status })
    .from(executionSteps)
    .where(and(eq(executionSteps.executionId, executionId), eq(executionSteps.stepId, stepId)));
  if (!step) throw new NotFoundError("Step");
  const ref = step.output as Partial<OffloadRef> | null;
  const key = outputKey(executionId, stepId, step.attempt);
  const offloaded = !!ref && typeof ref === "object" && ref.$ref === key;
  const output = offloaded ? await readOffloaded(bucket, ref as OffloadRef) : step.output;
  return { stepId, attempt: step.attempt, status: step.status, offloaded, output };
}

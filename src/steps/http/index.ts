/** `http` steps: one outbound request through the steps queue, with the address guard and retries. */

import type { QueuedKind } from "../kind";
import { type HttpStep, HttpStepSchema } from "./definition";
import { httpStepInput } from "./input";
import { runHttpStep } from "./run";

export const httpStep = {
  type: "http",
  schema: HttpStepSchema,
  mode: "queued",
  sideEffects: true,
  templatedFields: (step) => [["request", step.request]],
  defaultTimeoutMs: 30_000,
  firstAttemptInObject: true,
  input: httpStepInput,
  run: async (task, input, context) => ({ outcome: await runHttpStep(task, input, context) }),
} satisfies QueuedKind<HttpStep>;

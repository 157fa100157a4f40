/** `delay` steps: wait on the object's alarm (up to 30 days), then complete. */
import type { InlineKind } from "../kind";
import { type DelayStep, DelayStepSchema } from "./definition";

export const delayStep = {
  type: "delay",
  schema: DelayStepSchema,
  mode: "inline",
  sideEffects: false,
  templatedFields: () => [],
  start(step, run) {
    const waitMs = step.seconds * 1000;
    run.wait({ reason: "delay", until: run.iso(waitMs) }, waitMs);
  },
  waitExpired: (step, run) => run.complete({ waitedSeconds: step.seconds }),
} satisfies InlineKind<DelayStep>;

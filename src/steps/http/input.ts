/**
 * An http step's request with its templates resolved against the execution's data, in one pass
 * over the definition: data is literal text; the secrets the definition names are listed as
 * slots, the only places the sender fills (the stored input shows their templates).
 */
import type { Scope } from "../../engine/paths";
import { displayOf, renderHeader, renderRequestValue, type SecretSlot } from "../../engine/template";
import { renderUrl } from "../../engine/url-template";
import type { HttpStep } from "./definition";
import type { HttpInput } from "./input-schema";

export function httpStepInput(step: HttpStep, scope: Scope): HttpInput {
  const slots: SecretSlot[] = [];
  const url = renderUrl(step.request.url, scope);
  if (url.some((part) => typeof part !== "string")) slots.push({ at: ["url"], text: url });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(step.request.headers ?? {}))
    headers[name] = renderHeader(value, scope, ["headers", name], slots);
  return {
    url: displayOf(url),
    method: step.request.method,
    headers,
    ...(step.request.body === undefined ? {} : { body: renderRequestValue(step.request.body, scope, ["body"], slots) }),
    secretSlots: slots,
    expectStatus: step.expectStatus === undefined ? null : [step.expectStatus].flat(),
  };
}

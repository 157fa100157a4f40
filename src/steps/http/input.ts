/** An http step's request with its templates resolved against the execution's data. */
import type { Scope } from "../../engine/paths";
import { renderTemplates, renderText, renderUrl } from "../../engine/template";
import type { HttpStep } from "./definition";
import type { HttpInput } from "./run";

export function httpStepInput(step: HttpStep, scope: Scope): HttpInput {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(step.request.headers ?? {})) headers[name] = renderText(value, scope);
  return {
    url: renderUrl(step.request.url, scope),
    method: step.request.method,
    headers,
    ...(step.request.body === undefined ? {} : { body: renderTemplates(step.request.body, scope) }),
    expectStatus: step.expectStatus === undefined ? null : [step.expectStatus].flat(),
  };
}

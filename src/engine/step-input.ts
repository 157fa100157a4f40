/**
 * What a queued step's consumer receives: the step's configuration with every template resolved
 * against the execution's data at the moment it becomes ready.
 */
import type { StepOf } from "./definition";
import type { Scope } from "./paths";
import { renderTemplates, renderText } from "./template";

export interface HttpStepInput {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  expectStatus: number[] | null;
}

export interface AgentStepInput {
  agentId: string;
  prompt: string;
  maxTokens: number | null;
}

export function httpStepInput(step: StepOf<"http">, scope: Scope): HttpStepInput {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(step.request.headers ?? {})) headers[name] = renderText(value, scope);
  return {
    url: renderText(step.request.url, scope),
    method: step.request.method,
    headers,
    ...(step.request.body === undefined ? {} : { body: renderTemplates(step.request.body, scope) }),
    expectStatus: step.expectStatus === undefined ? null : [step.expectStatus].flat(),
  };
}

export function agentStepInput(step: StepOf<"agent">, scope: Scope): AgentStepInput {
  return { agentId: step.agentId, prompt: renderText(step.prompt, scope), maxTokens: step.maxTokens ?? null };
}

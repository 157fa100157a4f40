/** An http step's request (its definition or its rendered input) with literal credentials masked for readers. */
import { maskCredentialHeaders, maskCredentialUrl } from "../../net/credential-mask";

interface RequestLike {
  url?: unknown;
  headers?: unknown;
}

export function maskHttpRequest<T extends RequestLike>(request: T): T {
  return {
    ...request,
    ...(typeof request.url === "string" ? { url: maskCredentialUrl(request.url) } : {}),
    ...(request.headers && typeof request.headers === "object"
      ? { headers: maskCredentialHeaders(request.headers as Record<string, string>) }
      : {}),
  };
}

/** A step's stored input as readers see it: an http request's literal credentials masked. */
export function maskedStepInput(type: string, input: unknown): unknown {
  return type === "http" && input && typeof input === "object" ? maskHttpRequest(input as RequestLike) : input;
}

/** A definition as someone who may not change it sees it: its http requests' literal credentials masked. */
export function maskedDefinition<D extends { steps: Array<{ type: string }> }>(definition: D): D {
  return {
    ...definition,
    steps: definition.steps.map((step) =>
      step.type === "http" && "request" in step
        ? { ...step, request: maskHttpRequest(step.request as RequestLike) }
        : step,
    ),
  };
}

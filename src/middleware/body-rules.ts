/**
 * Body rules of docs/api.md: request bodies are JSON (415 otherwise) and at most 1 MB (413). A POST
 * without a body passes, for routes that need none.
 */
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { PayloadTooLargeError, UnsupportedMediaTypeError } from "../errors";
import type { AppEnv } from "./app-env";

export const MAX_BODY_BYTES = 1024 * 1024;

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export const jsonBodiesOnly = createMiddleware<AppEnv>(async function jsonBodiesOnly(c, next) {
  if (METHODS_WITH_BODY.has(c.req.method) && hasBody(c.req.raw)) {
    const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/json" && !type.endsWith("+json")) throw new UnsupportedMediaTypeError();
  }
  await next();
});

export const limitBodySize = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new PayloadTooLargeError(MAX_BODY_BYTES);
  },
});

function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  if (length !== null) return Number(length) > 0;
  return req.headers.has("transfer-encoding") || req.body !== null;
}

/** Factory for the per-resource routers: zod validation failures map to the one error shape. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { BadRequestError, ValidationError, zodDetails } from "../errors";
import type { AppEnv } from "../middleware/app-env";

export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      // A body that parses but breaks the schema is 422; bad query strings or params are 400.
      if (result.target === "json") throw new ValidationError(zodDetails(result.error));
      throw new BadRequestError("Invalid request parameters", zodDetails(result.error, result.target));
    },
  });
}

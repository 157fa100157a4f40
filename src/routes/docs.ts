/** The OpenAPI 3.1 document (generated from the route schemas) and browsable docs. */

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../middleware/app-env";
import { healthDocs } from "./health";
import { mcpDoc } from "./mcp";
import { metricsDoc } from "./metrics";

const DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "IPA Platform API",
    version: "1.0.0",
    license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    description:
      "Workflows, agents and durable executions on Cloudflare Workers. Errors always have the shape " +
      "{ error: { code, message, requestId, timestamp, details? } }.",
  },
  servers: [{ url: "/api/v1" }],
};

export function mountDocs(api: OpenAPIHono<AppEnv>): void {
  const schemes = {
    bearerAuth: {
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
      description: "An access JWT or a personal API token",
    },
    refreshCookie: {
      type: "apiKey",
      in: "cookie",
      name: "ipa_refresh",
      description: "Set by login with refreshIn: cookie",
    },
    webhookSignature: {
      type: "apiKey",
      in: "header",
      name: "X-IPA-Signature",
      description: 't=<unix seconds>,v1=<hex HMAC-SHA256(webhook secret, "<t>.<raw body>")>',
    },
    streamTicket: {
      type: "apiKey",
      in: "query",
      name: "ticket",
      description: "From POST /executions/{id}/stream-ticket",
    },
    metricsToken: { type: "http", scheme: "bearer", description: "The METRICS_TOKEN secret, for scrapers" },
  } as const;
  for (const [name, scheme] of Object.entries(schemes))
    api.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  // The probes and the metrics live outside /api/v1: listed with a server of their own (the origin).
  const outside = { ...healthDocs, "/metrics": metricsDoc, "/mcp": mcpDoc };
  for (const [path, route] of Object.entries(outside))
    api.openAPIRegistry.registerPath({
      ...route,
      path,
      servers: [{ url: "/", description: "the origin, outside /api/v1" }],
    });
  // The document is static per deployment: build it once per isolate; failures reach onError.
  let document: ReturnType<typeof api.getOpenAPI31Document> | undefined;
  api.get("/openapi.json", (c) => {
    document ??= api.getOpenAPI31Document(DOCUMENT);
    return c.json(document);
  });
  // The docs page is a static asset (dashboard/public/docs): its scripts come from this origin only.
  api.get("/docs", (c) => c.redirect("/docs/", 302));
}

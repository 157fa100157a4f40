/** Request and response schemas of workflows and versions. */
import { z } from "@hono/zod-openapi";
import { CronError, parseCron } from "../../engine/cron";
import { JsonValue } from "../../engine/step-fields";
import { DefinitionSchema } from "../../steps/definition";
import { ListQuery, QueryList, Timestamp } from "./common";

export const WorkflowStatus = z.enum(["draft", "active", "archived"]);

export const ScheduleSchema = z
  .strictObject({
    cron: z.string().max(200).openapi({ example: "0 9 * * 1-5", description: "5-field cron" }),
    timezone: z
      .string()
      .max(64)
      .optional()
      .openapi({ example: "Europe/Berlin", description: "IANA time zone the fields are read in; UTC when absent" }),
    input: z.record(z.string(), JsonValue).optional(),
  })
  .superRefine((schedule, ctx) => {
    try {
      parseCron(schedule.cron, schedule.timezone);
    } catch (error) {
      if (!(error instanceof CronError)) throw error;
      const field = error.message.includes("time zone") ? "timezone" : "cron";
      ctx.addIssue({ code: "custom", path: [field], message: error.message });
    }
  })
  .openapi("Schedule");

const Tags = z.array(z.string().min(1).max(64)).max(50);
const Metadata = z.record(z.string(), JsonValue);
/** Response-side JSON objects (typed `unknown` values for Hono's typed responses). */
const JsonObjectOut = z.record(z.string(), z.unknown());

export const WorkflowSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    status: WorkflowStatus,
    tags: z.array(z.string()),
    metadata: JsonObjectOut,
    schedule: z
      .object({ cron: z.string(), timezone: z.string().optional(), input: JsonObjectOut.optional() })
      .nullable(),
    ownerId: z.uuid(),
    currentVersionId: z.uuid().nullable(),
    currentVersion: z.number().int().nullable(),
    webhookSecretSet: z.boolean(),
    mcp: z.boolean().openapi({ description: "offered to MCP callers besides its owner (admins set it)" }),
    retentionDays: z.number().int().nullable().openapi({
      description: "its executions are removed this many days after they ended (logs archived first); null: kept",
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi("Workflow");

export const CreateWorkflowBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).nullable().optional(),
    tags: Tags.optional(),
    metadata: Metadata.optional(),
    schedule: ScheduleSchema.nullable().optional(),
    retentionDays: z.number().int().min(1).max(3650).nullable().optional(),
  })
  .openapi("CreateWorkflow");

export const UpdateWorkflowBody = CreateWorkflowBody.partial()
  .extend({
    status: z.enum(["draft", "active"]).optional(),
    mcp: z
      .boolean()
      .optional()
      .openapi({ description: "admins only: offer it as an MCP tool to callers who may start it" }),
  })
  .strict()
  .openapi("UpdateWorkflow");

export const WorkflowListQuery = ListQuery.extend({
  status: WorkflowStatus.optional(),
  tag: QueryList.openapi({ description: "only workflows with every given tag (repeat or comma-separate)" }),
  q: z.string().max(200).optional().openapi({ description: "name contains (case-insensitive)" }),
  ownerId: z.uuid().optional(),
});

export const VersionSummarySchema = z
  .object({
    id: z.uuid(),
    workflowId: z.uuid(),
    versionNumber: z.number().int(),
    changeSummary: z.string().nullable(),
    createdBy: z.uuid().nullable(),
    createdAt: Timestamp,
    isCurrent: z.boolean(),
  })
  .openapi("VersionSummary");

export const VersionSchema = VersionSummarySchema.extend({ definition: DefinitionSchema }).openapi("Version");

export const CreateVersionBody = z
  .strictObject({
    definition: DefinitionSchema,
    changeSummary: z.string().max(2000).optional(),
    makeCurrent: z.boolean().optional(),
  })
  .openapi("CreateVersion", {
    // Control flow (docs/workflows.md): a map, a loop, a sub-workflow and a compensated step.
    example: {
      definition: {
        steps: [
          { id: "fetch", type: "http", request: { url: "https://docs.example/api/documents", method: "GET" } },
          {
            id: "summaries",
            type: "map",
            items: "{{steps.fetch.output.body.documents}}",
            concurrency: 5,
            step: { type: "transform", output: { title: "{{item.title}}", position: "{{index}}" } },
            dependsOn: ["fetch"],
          },
          {
            id: "export",
            type: "loop",
            step: { type: "http", request: { url: "https://docs.example/api/exports/42", method: "GET" } },
            until: 'last.body.status == "ready"',
            delaySeconds: 5,
            maxIterations: 20,
            dependsOn: ["summaries"],
          },
          {
            id: "notify",
            type: "workflow",
            workflow: "notify-team",
            input: { url: "{{steps.export.output.last.body.url}}" },
            dependsOn: ["export"],
          },
          {
            id: "publish",
            type: "http",
            request: { url: "https://docs.example/api/publications", method: "POST", body: { export: 42 } },
            compensate: {
              type: "http",
              request: {
                url: "https://docs.example/api/publications/{{steps.publish.output.body.id}}",
                method: "DELETE",
              },
            },
            dependsOn: ["notify"],
          },
        ],
      },
      changeSummary: "map, loop, sub-workflow and compensation",
    },
  });

export const VersionParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  n: z.coerce
    .number()
    .int()
    .min(1)
    .openapi({ param: { name: "n", in: "path" } }),
});

export const CurrentVersionBody = z.strictObject({ versionNumber: z.number().int().min(1) }).openapi("CurrentVersion");

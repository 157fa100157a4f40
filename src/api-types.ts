/**
 * The API's shapes on the wire, as TypeScript types for the dashboard and the CLI: inferred from
 * the route schemas that openapi.json is generated from, so a change to a route's schema reaches
 * their typecheck (`npm run typecheck`). Type-only: nothing here is bundled.
 */
import type { z } from "@hono/zod-openapi";
import type { BackupSchema } from "./routes/admin-backups";
import type { DrillSchema } from "./routes/admin-drills";
import type { CreatedTokenSchema, TokenSchema } from "./routes/api-tokens";
import type { ApprovalSchema } from "./routes/approvals";
import type { AuditEntrySchema, VerdictSchema } from "./routes/audit";
import type { BulkCreated as BulkCreatedSchema, BulkJobSchema } from "./routes/bulk-actions";
import type {
  ChannelSchema,
  CreatedChannelSchema,
  DeliverySchema as NotificationDeliverySchema,
} from "./routes/notification-channels";
import type { AgentSchema, ToolSchema } from "./routes/schemas/agents";
import type { ErrorSchema } from "./routes/schemas/common";
import type {
  ExecutionSchema,
  ExecutionStatus as ExecutionStatusSchema,
  ExecutionSummarySchema,
  LogSchema,
  StepOutputSchema,
  StepSchema,
  WaitingSchema,
} from "./routes/schemas/execution-views";
import type {
  ControlResultSchema,
  DecisionResultSchema,
  DeliveryResultSchema,
  RerunPlanSchema,
  RerunResultSchema,
  StartedSchema,
} from "./routes/schemas/executions";
import type { MeSchema, Role as RoleSchema, TokenPairSchema, UserSchema } from "./routes/schemas/users";
import type { VersionSchema, VersionSummarySchema, WorkflowSchema } from "./routes/schemas/workflows";
import type { SecretSchema } from "./routes/secrets";

type Wire<Schema extends z.ZodType> = z.output<Schema>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type ApiErrorBody = Wire<typeof ErrorSchema>;
export type Role = Wire<typeof RoleSchema>;
export type Me = Wire<typeof MeSchema>;
export type User = Wire<typeof UserSchema>;
export type TokenPair = Wire<typeof TokenPairSchema>;
export type ApiToken = Wire<typeof TokenSchema>;
export type ApiTokenCreated = Wire<typeof CreatedTokenSchema>;

export type Workflow = Wire<typeof WorkflowSchema>;
export type VersionSummary = Wire<typeof VersionSummarySchema>;
export type Version = Wire<typeof VersionSchema>;

export type ExecutionStatus = Wire<typeof ExecutionStatusSchema>;
export type ExecutionStarted = Wire<typeof StartedSchema>;
export type ExecutionSummary = Wire<typeof ExecutionSummarySchema>;
export type Execution = Wire<typeof ExecutionSchema>;
export type ExecutionStep = Wire<typeof StepSchema>;
export type StepStatus = ExecutionStep["status"];
export type StepWaiting = Wire<typeof WaitingSchema>;
export type LogLine = Wire<typeof LogSchema>;
export type ControlResult = Wire<typeof ControlResultSchema>;
export type DecisionResult = Wire<typeof DecisionResultSchema>;
export type DeliveryResult = Wire<typeof DeliveryResultSchema>;
export type RerunPlan = Wire<typeof RerunPlanSchema>;
export type RerunResult = Wire<typeof RerunResultSchema>;
export type StepOutput = Wire<typeof StepOutputSchema>;
export type Approval = Wire<typeof ApprovalSchema>;
export type BulkCreated = Wire<typeof BulkCreatedSchema>;
export type BulkJob = Wire<typeof BulkJobSchema>;
export type NotificationChannel = Wire<typeof ChannelSchema>;
export type NotificationChannelCreated = Wire<typeof CreatedChannelSchema>;
export type NotificationDelivery = Wire<typeof NotificationDeliverySchema>;

export type Agent = Wire<typeof AgentSchema>;
export type AgentTool = Wire<typeof ToolSchema>;
export type Secret = Wire<typeof SecretSchema>;
export type Backup = Wire<typeof BackupSchema>;
export type Drill = Wire<typeof DrillSchema>;
export type AuditEntry = Wire<typeof AuditEntrySchema>;
export type AuditVerdict = Wire<typeof VerdictSchema>;

/**
 * The API's shapes as the dashboard reads them: the wire types inferred from the route schemas
 * (src/api-types.ts, the source of openapi.json), and the few views of a definition the diagram
 * and the start form read.
 */
export type {
  Agent,
  AgentTool,
  ApiToken,
  Approval,
  AuditEntry,
  Backup,
  BulkCreated,
  BulkJob,
  Execution,
  ExecutionStatus,
  ExecutionStep,
  ExecutionSummary,
  LogLine,
  Me,
  NotificationChannel,
  NotificationChannelCreated,
  NotificationDelivery,
  Page,
  RerunPlan,
  Role,
  Secret,
  StepStatus,
  StepWaiting,
  User,
  Version,
  VersionSummary,
  Workflow,
} from "#api-types";

export interface StepDefinition {
  id: string;
  type: string;
  dependsOn?: string[];
  then?: string[];
  else?: string[];
  [field: string]: unknown;
}

export interface Definition {
  steps: StepDefinition[];
  inputSchema?: JsonSchema;
  [field: string]: unknown;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
}

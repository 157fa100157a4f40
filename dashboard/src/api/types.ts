/** The API's shapes as the dashboard reads them (see /api/v1/openapi.json for the full document). */

export type Role = "admin" | "user" | "viewer";

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Me {
  id: string;
  email: string;
  username: string;
  fullName: string | null;
  roles: Role[];
  permissions: string[];
  /** An API token's scopes; null for a session (the dashboard's case). */
  scopes: string[] | null;
}

export type ExecutionStatus = "pending" | "queued" | "running" | "paused" | "completed" | "failed" | "cancelled";
export type StepStatus = "pending" | "running" | "waiting" | "completed" | "failed" | "skipped";

export interface StepWaiting {
  reason: string;
  approverRoles?: string[];
  message?: string;
  event?: string;
  expiresAt?: string;
  until?: string;
  nextAttemptAt?: string;
  executionIds?: string[];
  /** A budget wait: the budget, what is spent, and the most the next model call could cost. */
  budgetUsd?: number;
  spentUsd?: number;
  nextCallUsd?: number;
}

export interface ExecutionStep {
  stepId: string;
  type: string;
  status: StepStatus;
  attempt: number;
  input: unknown;
  output: unknown;
  error: { message: string; reason?: string } | null;
  run: number;
  waiting: StepWaiting | null;
  promptTokens: number;
  completionTokens: number;
  /** Null when a model had no price (MODEL_PRICES). */
  costUsd: number | null;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
}

export interface ExecutionSummary {
  id: string;
  workflowId: string;
  status: ExecutionStatus;
  triggerType: string;
  triggeredBy: string | null;
  input: unknown;
  output: unknown;
  error: { message: string } | null;
  promptTokens: number;
  completionTokens: number;
  costUsd?: number | null;
  run: number;
  syncError: string | null;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface Execution extends ExecutionSummary {
  versionNumber: number;
  /** The definition's costBudgetUsd, or what an owner raised it to. */
  costBudgetUsd: number | null;
  /** Where a queued execution stands behind its workflow's concurrency limit; null once it starts. */
  queue?: { key: string; position: number; limit: number } | null;
  steps: ExecutionStep[];
}

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

export interface Workflow {
  id: string;
  name: string;
  description: string | null;
  status: "draft" | "active" | "archived";
  tags: string[];
  schedule: { cron: string; timezone?: string; input?: Record<string, unknown> } | null;
  ownerId: string;
  currentVersion: number | null;
  webhookSecretSet: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface VersionSummary {
  id: string;
  versionNumber: number;
  changeSummary: string | null;
  createdAt: string;
  isCurrent: boolean;
}

export interface Version extends VersionSummary {
  definition: Definition;
}

export interface LogLine {
  seq: number;
  at: string;
  level: string;
  event: string;
  stepId: string | null;
  message: string | null;
  data: unknown;
}

export interface RerunPlan {
  run: number;
  fromStep: string;
  versionNumber: number;
  keep: string[];
  rerun: Array<{ stepId: string; type: string; sideEffects: boolean }>;
  sideEffects: string[];
}

export interface Agent {
  id: string;
  name: string;
  description: string | null;
  type: string;
  status: string;
  configuration: Record<string, unknown>;
  systemPrompt: string | null;
  modelName: string | null;
  temperature: number | null;
  maxTokens: number | null;
  updatedAt: string;
}

export interface AgentTool {
  id: string;
  toolName: string;
  toolType: string;
  configuration: Record<string, unknown>;
  isEnabled: boolean;
}

export interface Secret {
  name: string;
  /** Hosts a request carrying it may go to; null: any. */
  allowedHosts: string[] | null;
  /** Platform secrets: whether users' workflows may use it. */
  sharedWithUsers?: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Backup {
  id: string;
  kind: "full" | "incremental";
  status: string;
  snapshotAt: string | null;
  sizeBytes: number | null;
  rows: number | null;
  durationMs: number | null;
  verifiedAt: string | null;
  progress: { stage: string; tablesDone: number; tablesTotal: number; rows: number; table?: string } | null;
  reason: string | null;
  /** The newest minute an empty interval found this backup still current. */
  unchangedAt: string | null;
  replica: { status: "pending" | "copied" | "failed"; at: string | null; reason: string | null } | null;
  createdAt: string;
}

export interface AuditEntry {
  id: string;
  seq: number;
  actorEmail: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  ip: string | null;
  createdAt: string;
}

export interface User {
  id: string;
  email: string;
  username: string;
  fullName: string | null;
  roles: Role[];
  isActive: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface ApiToken {
  id: string;
  name: string;
  prefix: string;
  /** The permissions the token may use. */
  scopes: string[];
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}

export interface Approval {
  executionId: string;
  workflowId: string;
  workflowName: string;
  stepId: string;
  /** An approval step, or an agent step waiting for its execution's cost budget to be raised. */
  reason: "approval" | "budget";
  budget: { budgetUsd: number; spentUsd: number; nextCallUsd: number } | null;
  approverRoles: string[];
  message: string | null;
  waitingSince: string | null;
  expiresAt: string | null;
}

/** A secret as it travels to the sender: still sealed, with the row id its ciphertext is bound to. */

export interface SealedSecret {
  id: string;
  sealed: string;
  /** Hosts a request carrying it may go to (null: any). Absent in copies taken before scopes existed. */
  allowedHosts?: string[] | null;
}

/**
 * The sealed secrets an execution copies when it starts, by who may send them: its http steps
 * (the workflow's own, else a platform secret its owner may use) and its agents' tools (platform
 * secrets only: a workflow secret never shadows what an admin's tool sends).
 */
export interface SecretsSnapshot {
  steps: Record<string, SealedSecret>;
  tools: Record<string, SealedSecret>;
}

export const NO_SECRETS: SecretsSnapshot = { steps: {}, tools: {} };

/** Whose secrets a lookup reads: a workflow's steps', or the platform's (agents' tools). */
export type SecretScope = { kind: "steps"; workflowId: string } | { kind: "tools" };

/** The sealed value's binding: a ciphertext moved to another row does not open. */
export const secretBinding = (id: string) => ({ table: "secrets", column: "value", rowId: id });

/** A copy stored before tools had their own (a flat map of the steps' secrets). */
export function asSecretsSnapshot(stored: unknown): SecretsSnapshot {
  if (stored && typeof stored === "object" && "steps" in stored && "tools" in stored) return stored as SecretsSnapshot;
  return { steps: (stored ?? {}) as Record<string, SealedSecret>, tools: {} };
}

/** A secret as it travels to the sender: still sealed, with the row id its ciphertext is bound to. */

export interface SealedSecret {
  id: string;
  sealed: string;
  /** Hosts a request carrying it may go to (null: any). */
  allowedHosts: string[] | null;
}

/** Whose secrets a lookup reads: a workflow's steps', or the platform's (agents' tools). */
export type SecretScope = { kind: "steps"; workflowId: string } | { kind: "tools" };

/** The sealed value's binding: a ciphertext moved to another row does not open. */
export const secretBinding = (id: string) => ({ table: "secrets", column: "value", rowId: id });

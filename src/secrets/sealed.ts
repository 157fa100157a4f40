/** A secret as it travels to the consumer: still sealed, with the row id its ciphertext is bound to. */

export interface SealedSecret {
  id: string;
  sealed: string;
}

/** The sealed value's binding: a ciphertext moved to another row does not open. */
export const secretBinding = (id: string) => ({ table: "secrets", column: "value", rowId: id });

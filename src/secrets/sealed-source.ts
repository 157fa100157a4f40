/**
 * Where the sender finds a secret's sealed value as a request is about to be sent (docs/workflows.md:
 * secrets resolve at send time): Postgres as it is now, so a rotated, deleted or unshared secret,
 * or one re-sealed under a new key before the old key's retirement, takes effect at once. When
 * Postgres cannot answer in time the attempt fails for a retry (`secrets_unavailable`): an older
 * copy is never sent instead, since it may be one that was revoked meanwhile.
 */
import type { Settings } from "../config";
import { type DatabaseSession, openPlatformDatabase } from "../db/client";
import type { SealedSecret, SecretScope } from "./sealed";
import { currentSealedSecret } from "./sealed-rows";

/** How long a send waits for Postgres before the attempt is failed for a retry. */
const FRESH_TIMEOUT_MS = 5_000;

export type SealedLookup = (name: string) => Promise<SealedSecret | undefined>;

/** Postgres did not answer in time: the attempt may be retried, nothing was sent. */
export class SecretsUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the secrets could not be read from Postgres within ${FRESH_TIMEOUT_MS} ms; nothing was sent`, { cause });
  }
}

export class SealedSecretSource {
  private session: DatabaseSession | null = null;
  private readonly found = new Map<string, SealedSecret | undefined>();

  constructor(
    private readonly config: Settings,
    /** Whose secrets this source reads: the workflow's steps' or the agents' tools'. */
    private readonly scope: SecretScope,
  ) {}

  readonly lookup: SealedLookup = async (name) => {
    if (this.found.has(name)) return this.found.get(name);
    const value = await this.fresh(name);
    this.found.set(name, value);
    return value;
  };

  async close(): Promise<void> {
    await this.session?.close();
    this.session = null;
  }

  private async fresh(name: string): Promise<SealedSecret | undefined> {
    this.session ??= openPlatformDatabase(this.config, { max: 1 });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        currentSealedSecret(this.session.db, this.scope, name),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${FRESH_TIMEOUT_MS} ms`)), FRESH_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      throw new SecretsUnavailableError(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Where the sender finds a secret's sealed value as a request is about to be sent (SPEC §4:
 * secrets resolve at send time): Postgres as it is now, so a rotated or deleted secret, or one
 * re-sealed under a new key before the old key's retirement, takes effect at once; and, only when
 * Postgres cannot answer in time, the sealed copy the execution took when it started, so a
 * database outage does not stop its requests.
 */
import type { Settings } from "../config";
import { type DatabaseSession, openPlatformDatabase } from "../db/client";
import { logEvent } from "../observability/log";
import type { SealedSecret, SecretScope } from "./sealed";
import { currentSealedSecret } from "./sealed-rows";

/** How long a send waits for Postgres before it uses the execution's copy. */
const FRESH_TIMEOUT_MS = 5_000;

export type SealedLookup = (name: string) => Promise<SealedSecret | undefined>;

export class SealedSecretSource {
  private session: DatabaseSession | null = null;
  private unreachable = false;
  private readonly found = new Map<string, SealedSecret | undefined>();

  constructor(
    private readonly config: Settings,
    /** Whose secrets this source reads: the workflow's steps' or the agents' tools'. */
    private readonly scope: SecretScope,
    /** The execution's copy of that scope's secrets, taken when it started. */
    private readonly snapshot: Record<string, SealedSecret>,
  ) {}

  readonly lookup: SealedLookup = async (name) => {
    if (this.found.has(name)) return this.found.get(name);
    const value = this.unreachable ? this.snapshot[name] : await this.fresh(name);
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
      this.unreachable = true;
      logEvent("warn", "secrets_from_snapshot", { scope: this.scope.kind, cause: (error as Error).message });
      return this.snapshot[name];
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Header values of http and MCP tools are write-only (docs/workflows.md): sealed with the keyring when they
 * are written, bound to their tool and header, and shown as "***" when read — unless the value is
 * a pure `{{secrets.NAME}}` reference, which holds nothing secret itself. Writing "***" back keeps
 * the sealed value, so a client can round-trip a configuration it read.
 */
import { eq } from "drizzle-orm";
import type { Settings } from "../../config";
import { type Keyring, KeyringError } from "../../crypto/keyring";
import { openPlatformDatabase } from "../../db/client";
import { agentTools } from "../../db/schema";
import { sendableFromConfig } from "../../engine/template";
import type { SecretResolver } from "../../secrets/resolver";

export const MASK = "***";
const SECRET_REFERENCE = /^\{\{\s*secrets\.[A-Z][A-Z0-9_]{0,63}\s*\}\}$/;

export interface SealedHeader {
  $sealed: string;
}

export type StoredHeaders = Record<string, string | SealedHeader>;

const binding = (toolId: string, header: string) => ({
  table: "agent_tools",
  column: `headers.${header.toLowerCase()}`,
  rowId: toolId,
});

export function isSealed(value: unknown): value is SealedHeader {
  return !!value && typeof value === "object" && typeof (value as SealedHeader).$sealed === "string";
}

/** The headers as stored: secret references as they are, every other value sealed. */
export async function sealHeaders(
  headers: Record<string, string> | undefined,
  previous: StoredHeaders | undefined,
  keyring: Keyring,
  toolId: string,
): Promise<StoredHeaders | undefined> {
  if (!headers) return undefined;
  const out: StoredHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    const kept = previous?.[name];
    if (value === MASK && kept !== undefined) out[name] = kept;
    else if (SECRET_REFERENCE.test(value)) out[name] = value;
    else out[name] = { $sealed: await keyring.encrypt(value, binding(toolId, name)) };
  }
  return out;
}

/** The headers as an API answer shows them. */
export function maskHeaders(headers: StoredHeaders | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, isSealed(value) ? MASK : value]));
}

/**
 * One stored header opened for sending (the consumer only). `current` reads the tool's headers as
 * Postgres holds them now: an execution's snapshot sealed under a key since retired was re-sealed there.
 */
export async function openHeader(
  value: string | SealedHeader,
  keyring: Keyring,
  toolId: string,
  name: string,
  current: () => Promise<StoredHeaders | undefined>,
): Promise<string> {
  if (!isSealed(value)) return value;
  let sealed = value;
  if (!keyring.has(keyring.keyIdOf(value.$sealed))) {
    const now = (await current())?.[name];
    if (!isSealed(now)) throw new KeyringError(`the tool's header ${name} was removed`);
    sealed = now;
  }
  return keyring.decrypt(sealed.$sealed, binding(toolId, name));
}

export interface HeaderSources {
  keyring: Keyring;
  secrets: SecretResolver;
  /** The tool's headers as Postgres holds them now. */
  currentHeaders: (toolId: string) => Promise<StoredHeaders | undefined>;
}

/**
 * A tool's headers ready to send: sealed values opened, `{{secrets.NAME}}` filled (and tracked,
 * so results are scrubbed of them), with the names of those that carry a secret — a redirect to
 * another origin drops them.
 */
export async function headersToSend(
  toolId: string,
  stored: StoredHeaders | undefined,
  sources: HeaderSources,
): Promise<{ headers: Headers; sensitive: string[] }> {
  const headers = new Headers();
  const sensitive: string[] = [];
  for (const [name, value] of Object.entries(stored ?? {})) {
    const opened = await openHeader(value, sources.keyring, toolId, name, () => sources.currentHeaders(toolId));
    if (opened !== value) sources.secrets.track(`header ${name}`, opened);
    const filled = await sources.secrets.fill(sendableFromConfig(opened), "header");
    if (filled !== value) sensitive.push(name);
    headers.set(name, filled);
  }
  return { headers, sensitive };
}

/** Re-seals every sealed header under the keyring's current key (the re-encryption job). */
export async function resealHeaders(
  headers: StoredHeaders,
  keyring: Keyring,
  toolId: string,
): Promise<StoredHeaders | null> {
  let changed = false;
  const out: StoredHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!isSealed(value)) {
      out[name] = value;
      continue;
    }
    const next = await keyring.reencrypt(value.$sealed, binding(toolId, name));
    if (next) changed = true;
    out[name] = next ? { $sealed: next } : value;
  }
  return changed ? out : null;
}

/** A tool's header values as sealed in Postgres now (an execution's snapshot may predate a re-seal). */
export async function currentToolHeaders(config: Settings, toolId: string): Promise<StoredHeaders | undefined> {
  const session = openPlatformDatabase(config, { max: 1 });
  try {
    const [row] = await session.db
      .select({ configuration: agentTools.configuration })
      .from(agentTools)
      .where(eq(agentTools.id, toolId));
    return row?.configuration.headers as StoredHeaders | undefined;
  } finally {
    await session.close();
  }
}

/**
 * A channel's URL: sealed at rest (a Slack incoming-webhook URL is itself a credential), bound to
 * its channel's row, and either a literal URL or `{{secrets.NAME}}` — the workflow's secret for a
 * workflow's channel, the platform's for a platform channel — read when a delivery is sent, so a
 * rotated secret takes effect at once. The result goes through the address guard like any target.
 */
import type { Settings } from "../config";
import { keyringOf } from "../crypto/keyring-of";
import type { Queryable } from "../db/client";
import { assertPublicUrl } from "../net/address-guard";
import { hostMatches } from "../secrets/resolver";
import { secretBinding } from "../secrets/sealed";
import { currentSealedSecret } from "../secrets/sealed-rows";

export const channelUrlBinding = (channelId: string) => ({
  table: "notification_channels",
  column: "url",
  rowId: channelId,
});
export const channelSecretBinding = (channelId: string) => ({
  table: "notification_channels",
  column: "signing_secret",
  rowId: channelId,
});

const SECRET_URL = /^\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** The secret a URL names, if it is a `{{secrets.NAME}}` template. */
export function secretNameOf(url: string): string | null {
  return SECRET_URL.exec(url.trim())?.[1] ?? null;
}

/** What a list may show of a URL: its origin, or the template (never a path, which may hold a token). */
export function urlPreview(url: string): string {
  if (secretNameOf(url)) return url.trim();
  return `${new URL(url).origin}/…`;
}

/** A send's failure that names no part of a secret URL (its value is a credential, read back in the deliveries list). */
export class ChannelUrlError extends Error {}

/**
 * The URL to send to. A secret's value must be a URL the address guard takes, on a host the
 * secret allows; when it is not, the error says so without quoting it.
 */
export async function resolveChannelUrl(
  db: Queryable,
  config: Settings,
  workflowId: string | null,
  url: string,
): Promise<{ url: string; fromSecret: boolean }> {
  const name = secretNameOf(url);
  if (!name) return { url, fromSecret: false };
  const scope = workflowId ? ({ kind: "steps", workflowId } as const) : ({ kind: "tools" } as const);
  const sealed = await currentSealedSecret(db, scope, name);
  if (!sealed) throw new ChannelUrlError(`the secret ${name} does not exist`);
  const value = await keyringOf(config).decrypt(sealed.sealed, secretBinding(sealed.id));
  let target: URL;
  try {
    target = assertPublicUrl(value, config.HTTP_STEP_ALLOWLIST);
  } catch {
    throw new ChannelUrlError(`the secret ${name} does not hold a URL the address guard allows`);
  }
  if (sealed.allowedHosts && !sealed.allowedHosts.some((pattern) => hostMatches(target.hostname, pattern)))
    throw new ChannelUrlError(`the secret ${name} may not be sent to that host (its allowed hosts)`);
  return { url: value, fromSecret: true };
}

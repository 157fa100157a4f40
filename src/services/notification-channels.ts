/**
 * Notification channels (docs/operations.md "Notifications"): a workflow's owner manages its
 * channels (workflows:update on it); platform channels, which hear every workflow and the
 * backups, are the admins' (settings:manage). Another's channel is a 404. The URL and the signing
 * secret are sealed; the URL is never shown again (only its origin), the secret only at creation.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import { recordAudit } from "../audit/record";
import { assertPermission } from "../auth/assert-permission";
import { changesAll } from "../auth/permissions";
import type { AuthenticatedUser } from "../auth/principal";
import type { Settings } from "../config";
import { randomToken } from "../crypto/encoding";
import { keyringOf } from "../crypto/keyring-of";
import type { Database, Queryable } from "../db/client";
import { newestFirst } from "../db/newest-first";
import { notificationChannels, notificationDeliveries, workflows } from "../db/schema";
import type { AuditContext } from "../db/schema/audit";
import type { ChannelType, NotificationEvent } from "../engine/vocabulary";
import { NotFoundError, ValidationError } from "../errors";
import { AddressRefusedError, assertPublicUrl } from "../net/address-guard";
import { channelSecretBinding, channelUrlBinding, secretNameOf, urlPreview } from "../notifications/channel-url";
import { authorize } from "./access";
import { decodeCursor, type Page, toPage } from "./pagination";
import { ownershipOf } from "./workflows";

type ChannelRow = typeof notificationChannels.$inferSelect;

export interface ChannelInput {
  name: string;
  type: ChannelType;
  url: string;
  events: NotificationEvent[];
  workflowId?: string | null;
}

export interface ChannelChanges {
  name?: string;
  url?: string;
  events?: NotificationEvent[];
  /** true re-enables a disabled channel (its failures in a row start again from 0). */
  enabled?: boolean;
}

export function toChannelView(row: ChannelRow) {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    url: row.urlPreview,
    events: row.events,
    workflowId: row.workflowId,
    enabled: row.enabled,
    consecutiveFailures: row.consecutiveFailures,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function createChannel(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  audit: AuditContext,
  input: ChannelInput,
) {
  const url = checkedUrl(config, input.url);
  const id = crypto.randomUUID();
  const keyring = keyringOf(config);
  const secret = input.type === "webhook" ? `whsec_${randomToken(32)}` : null;
  return db.transaction(async (tx) => {
    await assertMayManage(tx, user, input.workflowId ?? null);
    const [row] = await tx
      .insert(notificationChannels)
      .values({
        id,
        name: input.name,
        type: input.type,
        url: await keyring.encrypt(url, channelUrlBinding(id)),
        urlPreview: urlPreview(url),
        events: [...new Set(input.events)],
        workflowId: input.workflowId ?? null,
        createdBy: user.id,
        signingSecret: secret ? await keyring.encrypt(secret, channelSecretBinding(id)) : null,
      })
      .returning();
    const view = toChannelView(row);
    await recordAudit(tx, audit, {
      action: "notification_channel.create",
      resourceType: "notification_channel",
      resourceId: id,
      after: view,
    });
    return { ...view, ...(secret ? { signingSecret: secret } : {}) };
  });
}

export async function listChannels(db: Database, user: AuthenticatedUser, workflowId?: string) {
  const rows = await db
    .select({ channel: notificationChannels })
    .from(notificationChannels)
    .leftJoin(workflows, eq(workflows.id, notificationChannels.workflowId))
    .where(
      and(
        workflowId ? eq(notificationChannels.workflowId, workflowId) : undefined,
        // Admins see every channel; others their own workflows' (viewers change none, so see none).
        changesAll(user) ? undefined : eq(workflows.ownerId, user.id),
      ),
    )
    .orderBy(desc(notificationChannels.createdAt))
    .limit(500);
  return { items: rows.map(({ channel }) => toChannelView(channel)) };
}

export async function updateChannel(
  db: Database,
  config: Settings,
  user: AuthenticatedUser,
  audit: AuditContext,
  id: string,
  changes: ChannelChanges,
) {
  return db.transaction(async (tx) => {
    const before = await channelToManage(tx, user, id);
    const url = changes.url === undefined ? undefined : checkedUrl(config, changes.url);
    const [row] = await tx
      .update(notificationChannels)
      .set({
        name: changes.name,
        events: changes.events ? [...new Set(changes.events)] : undefined,
        ...(url
          ? { url: await keyringOf(config).encrypt(url, channelUrlBinding(id)), urlPreview: urlPreview(url) }
          : {}),
        ...(changes.enabled === true
          ? { enabled: true, consecutiveFailures: 0, disabledAt: null, disabledReason: null }
          : {}),
        ...(changes.enabled === false
          ? { enabled: false, disabledAt: sql`now()`, disabledReason: "disabled by hand" }
          : {}),
      })
      .where(eq(notificationChannels.id, id))
      .returning();
    const view = toChannelView(row);
    await recordAudit(tx, audit, {
      action: "notification_channel.update",
      resourceType: "notification_channel",
      resourceId: id,
      before: toChannelView(before),
      after: view,
    });
    return view;
  });
}

export async function deleteChannel(db: Database, user: AuthenticatedUser, audit: AuditContext, id: string) {
  await db.transaction(async (tx) => {
    const before = await channelToManage(tx, user, id);
    await tx.delete(notificationChannels).where(eq(notificationChannels.id, id));
    await recordAudit(tx, audit, {
      action: "notification_channel.delete",
      resourceType: "notification_channel",
      resourceId: id,
      before: toChannelView(before),
    });
  });
}

export async function listDeliveries(
  db: Database,
  user: AuthenticatedUser,
  id: string,
  options: { limit: number; cursor?: string; status?: "pending" | "delivered" | "failed" },
): Promise<Page<ReturnType<typeof toDeliveryView>>> {
  await channelToManage(db, user, id);
  const after = decodeCursor(options.cursor);
  const rows = await db
    .select()
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.channelId, id),
        options.status ? eq(notificationDeliveries.status, options.status) : undefined,
        after
          ? sql`(${notificationDeliveries.createdAt}, ${notificationDeliveries.id}) < (${after.at}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(...newestFirst(notificationDeliveries.createdAt, notificationDeliveries.id))
    .limit(options.limit + 1);
  return toPage(rows, options.limit, (row) => ({ at: row.createdAt.toISOString(), id: row.id }), toDeliveryView);
}

function toDeliveryView(row: typeof notificationDeliveries.$inferSelect) {
  return {
    id: row.id,
    event: row.event,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    nextAttemptAt: row.status === "pending" ? row.nextAttemptAt.toISOString() : null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** A workflow's channels are its owner's to manage; the platform's, the admins'. */
async function assertMayManage(tx: Queryable, user: AuthenticatedUser, workflowId: string | null): Promise<void> {
  if (workflowId === null) {
    assertPermission(user, "settings:manage");
    return;
  }
  const [workflow] = await tx.select().from(workflows).where(eq(workflows.id, workflowId));
  authorize(user, workflow ? ownershipOf(workflow) : null, "Workflow", "workflows:update");
}

async function channelToManage(tx: Queryable, user: AuthenticatedUser, id: string): Promise<ChannelRow> {
  const [found] = await tx
    .select({ channel: notificationChannels, ownerId: workflows.ownerId })
    .from(notificationChannels)
    .leftJoin(workflows, eq(workflows.id, notificationChannels.workflowId))
    .where(eq(notificationChannels.id, id));
  if (!found) throw new NotFoundError("Notification channel");
  // A platform channel is the admins' alone: to anyone else it does not exist.
  if (!found.channel.workflowId) {
    if (!changesAll(user)) throw new NotFoundError("Notification channel");
  } else authorize(user, { ownerIds: [found.ownerId] }, "Notification channel", "workflows:update");
  return found.channel;
}

/** A literal URL must pass the address guard now (and again at each send); a secret's is checked when sent. */
function checkedUrl(config: Settings, url: string): string {
  if (secretNameOf(url)) return url.trim();
  try {
    assertPublicUrl(url, config.HTTP_STEP_ALLOWLIST);
  } catch (error) {
    if (!(error instanceof AddressRefusedError) && !(error instanceof TypeError)) throw error;
    throw new ValidationError([{ path: "url", message: error instanceof Error ? error.message : String(error) }]);
  }
  return url;
}

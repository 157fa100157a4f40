/**
 * Sending recorded deliveries (docs/operations.md "Notifications"). Due rows are claimed with a
 * short lease (SKIP LOCKED, so two senders never send one at once; a sender that dies mid-send
 * leaves it to the next after the lease), sent through the address guard with a timeout, and
 * settled: 2xx delivered; anything else retried with backoff (5 s doubling to 10 minutes, 10
 * attempts), the channel's failures in a row counted, and a channel failing 20 times in a row
 * disabled. Run by `notify` jobs (the outbox and the jobs consumer poke it) and by the cron every
 * minute; answers when the next retry is due, so the job can send itself again then.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Settings } from "../config";
import { keyringOf } from "../crypto/keyring-of";
import type { Database } from "../db/client";
import { addEngineCounts } from "../db/engine-counters";
import { notificationChannels, notificationDeliveries } from "../db/schema";
import type { ChannelType, NotificationEvent } from "../engine/vocabulary";
import { guardedRequest } from "../net/guarded-fetch";
import { logEvent } from "../observability/log";
import { ChannelUrlError, channelSecretBinding, channelUrlBinding, resolveChannelUrl } from "./channel-url";
import { messageFor } from "./message";

const BATCH = 50;
/** Longer than a whole batch of timed-out sends (50 × 10 s), so no other sender re-claims a row mid-batch. */
const LEASE = sql`interval '10 minutes'`;
export const MAX_ATTEMPTS = 10;
export const DISABLE_AFTER_FAILURES = 20;
const TIMEOUT_MS = 10_000;
const backoffMs = (attempts: number) => Math.min(5_000 * 2 ** (attempts - 1), 10 * 60_000);

type Claimed = {
  id: string;
  channel_id: string;
  event: NotificationEvent;
  payload: Record<string, unknown>;
  attempts: number;
  type: ChannelType;
  url: string;
  signing_secret: string | null;
  workflow_id: string | null;
  enabled: boolean;
};

export interface DeliveryOutcome {
  delivered: number;
  failed: number;
  /** When the next pending delivery is due, from now; null when none waits. */
  nextInMs: number | null;
}

export async function deliverDue(db: Database, config: Settings): Promise<DeliveryOutcome> {
  const outcome: DeliveryOutcome = { delivered: 0, failed: 0, nextInMs: null };
  const { rows } = await db.execute<Claimed>(sql`
    with claimed as (
      update notification_deliveries set next_attempt_at = now() + ${LEASE}
      where id in (select id from notification_deliveries where status = 'pending' and next_attempt_at <= now()
                   order by next_attempt_at limit ${BATCH} for update skip locked)
      returning id, channel_id, event, payload, attempts)
    select claimed.*, c.type, c.url, c.signing_secret, c.workflow_id, c.enabled
    from claimed join notification_channels c on c.id = claimed.channel_id`);
  for (const row of rows) {
    if (await send(db, config, row)) outcome.delivered++;
    else outcome.failed++;
  }
  const { rows: next } = await db.execute<{ in_ms: number | null }>(sql`
    select ceil(extract(epoch from (min(next_attempt_at) - now())) * 1000)::int as in_ms
    from notification_deliveries where status = 'pending'`);
  outcome.nextInMs =
    next[0]?.in_ms === null || next[0]?.in_ms === undefined ? null : Math.max(0, Number(next[0].in_ms));
  return outcome;
}

async function send(db: Database, config: Settings, row: Claimed): Promise<boolean> {
  if (!row.enabled) {
    await settle(db, row, { ok: false, final: true, status: null, error: "the channel is disabled" });
    return false;
  }
  const attempt = row.attempts + 1;
  let fromSecret = false;
  try {
    const keyring = keyringOf(config);
    const target = await resolveChannelUrl(
      db,
      config,
      row.workflow_id,
      await keyring.decrypt(row.url, channelUrlBinding(row.channel_id)),
    );
    fromSecret = target.fromSecret;
    const secret = row.signing_secret
      ? await keyring.decrypt(row.signing_secret, channelSecretBinding(row.channel_id))
      : null;
    const message = await messageFor(row.type, { ...row.payload, event: row.event }, secret);
    const response = await guardedRequest(
      target.url,
      { method: "POST", headers: message.headers, body: message.body, timeoutMs: TIMEOUT_MS, bodyCarriesSecret: true },
      config.HTTP_STEP_ALLOWLIST,
    );
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) {
      await settle(db, row, { ok: true, status: response.status });
      return true;
    }
    await settle(db, row, {
      ok: false,
      final: attempt >= MAX_ATTEMPTS,
      status: response.status,
      error: `answered ${response.status}`,
    });
  } catch (error) {
    // Errors of a request to a secret's URL may quote it (a redirect's refusal, a bad address):
    // they are kept by name only, since the deliveries list shows them to the channel's owner.
    const message =
      error instanceof ChannelUrlError || !fromSecret
        ? error instanceof Error
          ? error.message
          : String(error)
        : `the request failed (${error instanceof Error ? error.name : "error"})`;
    await settle(db, row, { ok: false, final: attempt >= MAX_ATTEMPTS, status: null, error: message });
  }
  return false;
}

/** The row as this sender claimed it: settled by whoever claimed it since, it is left alone. */
const claimed = (row: Claimed) =>
  and(
    eq(notificationDeliveries.id, row.id),
    eq(notificationDeliveries.status, "pending"),
    eq(notificationDeliveries.attempts, row.attempts),
  );

type Settlement = { ok: true; status: number } | { ok: false; final: boolean; status: number | null; error: string };

async function settle(db: Database, row: Claimed, result: Settlement): Promise<void> {
  const attempts = row.attempts + 1;
  await db.transaction(async (tx) => {
    if (result.ok) {
      await tx
        .update(notificationDeliveries)
        .set({ status: "delivered", attempts, lastStatus: result.status, lastError: null, deliveredAt: sql`now()` })
        .where(claimed(row));
      await tx
        .update(notificationChannels)
        .set({ consecutiveFailures: 0 })
        .where(eq(notificationChannels.id, row.channel_id));
      return;
    }
    await tx
      .update(notificationDeliveries)
      .set({
        status: result.final ? "failed" : "pending",
        attempts,
        lastStatus: result.status,
        lastError: result.error.slice(0, 500),
        nextAttemptAt: sql`now() + make_interval(secs => ${backoffMs(attempts) / 1000})`,
      })
      .where(claimed(row));
    if (!row.enabled) return;
    const [channel] = await tx
      .update(notificationChannels)
      .set({ consecutiveFailures: sql`${notificationChannels.consecutiveFailures} + 1` })
      .where(eq(notificationChannels.id, row.channel_id))
      .returning({ failures: notificationChannels.consecutiveFailures });
    await addEngineCounts(tx, "notification_failed", { [row.type]: 1 });
    if (channel && channel.failures >= DISABLE_AFTER_FAILURES) {
      await tx
        .update(notificationChannels)
        .set({
          enabled: false,
          disabledAt: sql`now()`,
          disabledReason: `${channel.failures} deliveries failed in a row; the last: ${result.error}`.slice(0, 500),
        })
        .where(eq(notificationChannels.id, row.channel_id));
      logEvent("error", "notification_channel_disabled", { channelId: row.channel_id, failures: channel.failures });
    }
  });
  if (!result.ok)
    logEvent("warn", "notification_failed", { deliveryId: row.id, channelId: row.channel_id, error: result.error });
}

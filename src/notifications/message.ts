/**
 * What a channel receives: a `webhook` channel the notice as JSON, signed like the platform's own
 * webhooks (`X-IPA-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
 * channel's secret); a `slack` channel Slack's incoming-webhook JSON, `text` and `blocks`.
 */
import { hmacHex } from "../crypto/encoding";
import { type ChannelType, exhaustive, type NotificationEvent } from "../engine/vocabulary";

const HEADLINES: Record<NotificationEvent, string> = {
  "execution.failed": "An execution failed",
  "execution.completed": "An execution completed",
  "approval.waiting": "An approval is waiting",
  "step.dead_lettered": "A step was dead-lettered",
  "backup.failed": "A backup failed",
  "backup.verification_failed": "A backup failed verification",
  "drill.failed": "A recovery drill failed",
};

export interface OutgoingMessage {
  body: string;
  headers: Record<string, string>;
}

export async function messageFor(
  type: ChannelType,
  payload: Record<string, unknown> & { event: NotificationEvent },
  signingSecret: string | null,
  at = Math.floor(Date.now() / 1000),
): Promise<OutgoingMessage> {
  switch (type) {
    case "webhook": {
      const body = JSON.stringify(payload);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (signingSecret) headers["x-ipa-signature"] = `t=${at},v1=${await hmacHex(signingSecret, `${at}.${body}`)}`;
      return { body, headers };
    }
    case "slack":
      return { body: JSON.stringify(slackMessage(payload)), headers: { "content-type": "application/json" } };
    default:
      return exhaustive(type);
  }
}

/** Slack's incoming-webhook shape; values are shown as code, never interpreted as markup. */
function slackMessage(payload: Record<string, unknown> & { event: NotificationEvent }) {
  const headline = HEADLINES[payload.event];
  const facts = Object.entries(payload)
    .filter(([key, value]) => key !== "event" && value !== null && typeof value !== "object")
    .map(([key, value]) => `*${key}*: \`${String(value).replace(/`/g, "'").slice(0, 300)}\``);
  return {
    text: `${headline} (${payload.event})`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: headline } },
      { type: "section", text: { type: "mrkdwn", text: facts.join("\n") || payload.event } },
    ],
  };
}

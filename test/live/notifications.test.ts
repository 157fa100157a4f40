/**
 * Notification channels (docs/operations.md "Notifications"): a failed execution is told to its
 * workflow's webhook channel, signed, and retried after a 503; a Slack channel gets Slack's JSON for
 * a waiting approval; a channel failing 20 deliveries in a row is disabled, counted and alerted on;
 * who may manage which channel, and what a channel's URL may be.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runJob } from "../../src/consumers/jobs";
import { hmacHex } from "../../src/crypto/encoding";
import { query } from "../helpers/db";
import { start, waitForExecution, workflowWith } from "../helpers/executions";
import { call, callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";
import { until } from "../helpers/waits";

const createChannel = (token: string, body: Record<string, unknown>) =>
  callJson("/api/v1/notification-channels", { token, body });

describe("notification channels", () => {
  it("tells a workflow's webhook channel that an execution failed, signed, retried after a 503", async () => {
    const owner = await signIn("user");
    const broken = await scriptEndpoint([{ status: 500 }]);
    const workflowId = await workflowWith(owner.token, {
      steps: [{ id: "call", type: "http", request: { url: broken.url }, retry: { maxAttempts: 1 } }],
    });
    const receiver = await scriptEndpoint([{ status: 503 }, { status: 200 }]);
    const channel = await createChannel(owner.token, {
      name: "on-call",
      type: "webhook",
      url: receiver.url,
      events: ["execution.failed"],
      workflowId,
    });
    expect(channel.status, JSON.stringify(channel.body)).toBe(201);
    expect(channel.body.signingSecret).toMatch(/^whsec_/);
    // The URL is never shown again, only its origin.
    expect(channel.body.url).toBe(`${new URL(receiver.url).origin}/…`);

    const id = await start(owner.token, workflowId);
    expect((await waitForExecution(owner.token, id)).status).toBe("failed");
    const requests = await until(
      () => receiver.requests(),
      (seen) => seen.length >= 2,
    );
    expect(requests).toHaveLength(2);
    const [first, second] = requests;
    expect(second.body).toBe(first.body);
    const payload = JSON.parse(second.body);
    expect(payload).toMatchObject({ event: "execution.failed", executionId: id, workflowId, stepId: "call" });
    const [, at, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(second.headers["x-ipa-signature"]) ?? [];
    expect(mac).toBe(await hmacHex(channel.body.signingSecret, `${at}.${second.body}`));

    // The sender records the answer after the receiver has it: wait for the row, not the request.
    const deliveries = await until(
      () => callJson(`/api/v1/notification-channels/${channel.body.id}/deliveries`, { token: owner.token }),
      (seen) => seen.body.items?.[0]?.status === "delivered",
    );
    expect(deliveries.body.items).toEqual([
      expect.objectContaining({ event: "execution.failed", status: "delivered", attempts: 2, lastStatus: 200 }),
    ]);
    // The completed event it does not listen to, and the same failure flushed again, send nothing more.
    expect(await receiver.requests()).toHaveLength(2);
  }, 60_000);

  it("sends a Slack channel Slack's incoming-webhook JSON when an approval waits", async () => {
    const owner = await signIn("user");
    const slack = await scriptEndpoint([{ status: 200 }]);
    const workflowId = await workflowWith(owner.token, {
      steps: [{ id: "sign-off", type: "approval", message: "Ship `it`?" }],
    });
    const channel = await createChannel(owner.token, {
      name: "slack",
      type: "slack",
      url: slack.url,
      events: ["approval.waiting"],
      workflowId,
    });
    expect(channel.body.signingSecret).toBeUndefined();
    const id = await start(owner.token, workflowId);
    const [request] = await until(
      () => slack.requests(),
      (seen) => seen.length > 0,
    );
    const message = JSON.parse(request.body);
    expect(message.text).toBe("An approval is waiting (approval.waiting)");
    expect(message.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: "An approval is waiting" } });
    expect(message.blocks[1].text.text).toContain(`*executionId*: \`${id}\``);
    expect(request.headers["x-ipa-signature"]).toBeUndefined();
    await callJson(`/api/v1/executions/${id}/cancel`, { method: "POST", token: owner.token });
  });

  it("disables a channel after 20 failed deliveries in a row, counts them and raises the gauge", async () => {
    const admin = await signIn("admin");
    const down = await scriptEndpoint([{ status: 500 }]);
    const channel = await createChannel(admin.token, {
      name: "broken",
      type: "webhook",
      url: down.url,
      events: ["backup.failed"],
    });
    expect(channel.status).toBe(201);
    const metric = async (name: string) => {
      const text = await (await call("/metrics", { token: env.METRICS_TOKEN })).text();
      return Number(new RegExp(`^${name}\\{channel_type="webhook"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    };
    const failuresBefore = await metric("ipa_notification_failures_total");
    // Twenty backups failed (the platform's channels hear them).
    for (let n = 0; n < 20; n++)
      await query(
        `insert into notification_deliveries (channel_id, event, dedupe_key, payload)
         values ($1, 'backup.failed', $2, '{"event":"backup.failed","reason":"test"}')`,
        [channel.body.id, `test:${n}`],
      );
    // Another sender (a notify job of another file's execution, the cron) may claim some of them
    // first: the twenty are sent once each, whoever sends them.
    await runJob({ type: "notify" }, env);
    const view = await until(
      async () =>
        (await callJson("/api/v1/notification-channels", { token: admin.token })).body.items.find(
          (item: { id: string }) => item.id === channel.body.id,
        ),
      (found) => found.enabled === false,
    );
    // (A backup that fails meanwhile in another file is heard by this platform channel too.)
    expect((await down.requests()).length).toBeGreaterThanOrEqual(20);
    expect(view.enabled).toBe(false);
    expect(view.consecutiveFailures).toBeGreaterThanOrEqual(20);
    expect(view.disabledReason).toMatch(/^2\d deliveries failed in a row/);
    expect(await metric("ipa_notification_failures_total")).toBeGreaterThanOrEqual(failuresBefore + 20);
    expect(await metric("ipa_notification_channels_disabled")).toBeGreaterThanOrEqual(1);

    // A disabled channel records nothing new; re-enabled, it starts again from 0.
    const enabled = await callJson(`/api/v1/notification-channels/${channel.body.id}`, {
      method: "PATCH",
      token: admin.token,
      body: { enabled: true },
    });
    expect(enabled.body).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
    await callJson(`/api/v1/notification-channels/${channel.body.id}`, { method: "DELETE", token: admin.token });
  });

  it("lets owners manage their workflows' channels and admins the platform's; checks every URL", async () => {
    const owner = await signIn("user");
    const other = await signIn("user");
    const workflowId = await workflowWith(owner.token, { steps: [{ id: "t", type: "transform", output: 1 }] });
    const target = await scriptEndpoint([{ status: 200 }]);
    const body = { name: "c", type: "webhook", url: target.url, events: ["execution.failed"] };
    expect((await createChannel(owner.token, body)).status).toBe(403);
    expect((await createChannel(other.token, { ...body, workflowId })).status).toBe(404);
    const refused = await createChannel(owner.token, { ...body, workflowId, url: "http://10.0.0.7/hook" });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details[0].path).toBe("url");
    const bad = await createChannel(owner.token, { ...body, workflowId, events: ["execution.started"] });
    expect(bad.status).toBe(422);

    // A secret's URL is read when sent.
    await callJson(`/api/v1/workflows/${workflowId}/secrets/HOOK_URL`, {
      method: "PUT",
      token: owner.token,
      body: { value: target.url },
    });
    const secret = await createChannel(owner.token, {
      ...body,
      workflowId,
      url: "{{secrets.HOOK_URL}}",
      events: ["execution.completed"],
    });
    expect(secret.body.url).toBe("{{secrets.HOOK_URL}}");
    const listed = await callJson("/api/v1/notification-channels", { token: other.token });
    expect(listed.body.items.map((item: { id: string }) => item.id)).not.toContain(secret.body.id);
    expect(
      (await callJson(`/api/v1/notification-channels/${secret.body.id}/deliveries`, { token: other.token })).status,
    ).toBe(404);
    const id = await start(owner.token, workflowId);
    await waitForExecution(owner.token, id);
    const [request] = await until(
      () => target.requests(),
      (seen) => seen.length > 0,
    );
    expect(JSON.parse(request.body)).toMatchObject({ event: "execution.completed", executionId: id });
  });

  it("never shows a secret's value in a delivery's error when it is not a URL it may send to", async () => {
    const owner = await signIn("user");
    const workflowId = await workflowWith(owner.token, { steps: [{ id: "t", type: "transform", output: 1 }] });
    await callJson(`/api/v1/workflows/${workflowId}/secrets/NOT_A_URL`, {
      method: "PUT",
      token: owner.token,
      body: { value: "sk-live-0123456789" },
    });
    const channel = await createChannel(owner.token, {
      name: "leaky?",
      type: "webhook",
      url: "{{secrets.NOT_A_URL}}",
      events: ["execution.completed"],
      workflowId,
    });
    await waitForExecution(owner.token, await start(owner.token, workflowId));
    const [delivery] = (
      await until(
        () => callJson(`/api/v1/notification-channels/${channel.body.id}/deliveries`, { token: owner.token }),
        (res) => res.body.items[0]?.attempts > 0,
      )
    ).body.items;
    expect(delivery.lastError).toBe("the secret NOT_A_URL does not hold a URL the address guard allows");
    expect(JSON.stringify(delivery)).not.toContain("sk-live");
  });
});

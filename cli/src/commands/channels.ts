/**
 * `ipa channels list|create|enable|delete|deliveries`: notification channels (docs/operations.md
 * "Notifications"), a workflow's with --workflow, else the platform's (admins).
 */
import type { NotificationChannel, NotificationChannelCreated, NotificationDelivery } from "../api-types.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../errors.ts";
import { ago } from "../output.ts";
import { required, workflowId } from "../refs.ts";

export const list: Command = {
  usage: "[--workflow WORKFLOW]",
  summary: "The notification channels you manage",
  options: { workflow: { type: "string" } },
  async run({ api, out, flags }) {
    const query = flags.workflow ? `?workflowId=${await workflowId(api, flags.workflow as string)}` : "";
    const { items } = await api.get<{ items: NotificationChannel[] }>(`/notification-channels${query}`);
    out.table(items, [
      ["id", (c) => c.id],
      ["name", (c) => c.name],
      ["type", (c) => c.type],
      ["url", (c) => c.url],
      ["events", (c) => c.events.join(",")],
      ["workflow", (c) => c.workflowId ?? "platform"],
      ["state", (c) => (c.enabled ? "enabled" : `disabled: ${c.disabledReason ?? ""}`)],
    ]);
    return 0;
  },
};

export const create: Command = {
  usage: "--name NAME --type webhook|slack --target URL|{{secrets.NAME}} --event EVENT... [--workflow WORKFLOW]",
  summary: "Create a channel; a webhook channel's signing secret is printed this once",
  options: {
    name: { type: "string" },
    type: { type: "string" },
    // Not --url: that one names the platform for every command.
    target: { type: "string" },
    event: { type: "string", multiple: true },
    workflow: { type: "string" },
  },
  async run({ api, out, flags }) {
    const events = (flags.event as string[] | undefined) ?? [];
    if (events.length === 0) throw new UsageError("name at least one --event (execution.failed, approval.waiting, …)");
    const created = await api.request<NotificationChannelCreated>("POST", "/notification-channels", {
      name: required(flags.name as string | undefined, "--name"),
      type: required(flags.type as string | undefined, "--type"),
      url: required(flags.target as string | undefined, "--target"),
      events,
      ...(flags.workflow ? { workflowId: await workflowId(api, flags.workflow as string) } : {}),
    });
    const secret = created.signingSecret ? `; signing secret (shown once): ${created.signingSecret}` : "";
    out.done(`Channel ${created.id} created${secret}`, created);
    return 0;
  },
};

export const enable: Command = {
  usage: "CHANNEL",
  summary: "Re-enable a channel that was disabled after repeated failures",
  async run({ api, out, args }) {
    const channel = await api.request<NotificationChannel>(
      "PATCH",
      `/notification-channels/${required(args[0], "CHANNEL")}`,
      { enabled: true },
    );
    out.done(`Channel ${channel.id} enabled`, channel);
    return 0;
  },
};

export const remove: Command = {
  usage: "CHANNEL",
  summary: "Delete a channel and its deliveries",
  async run({ api, out, args }) {
    const id = required(args[0], "CHANNEL");
    await api.request("DELETE", `/notification-channels/${id}`);
    out.done(`Channel ${id} deleted`, { id });
    return 0;
  },
};

export const deliveries: Command = {
  usage: "CHANNEL [--status pending|delivered|failed] [--limit N]",
  summary: "A channel's deliveries, newest first",
  options: { status: { type: "string" }, limit: { type: "string" } },
  async run({ api, out, args, flags }) {
    const query = new URLSearchParams({ limit: String(flags.limit ?? 20) });
    if (flags.status) query.set("status", String(flags.status));
    const page = await api.get<{ items: NotificationDelivery[] }>(
      `/notification-channels/${required(args[0], "CHANNEL")}/deliveries?${query}`,
    );
    out.table(page.items, [
      ["event", (d) => d.event],
      ["status", (d) => d.status],
      ["attempts", (d) => d.attempts],
      ["last", (d) => d.lastError ?? d.lastStatus],
      ["created", (d) => ago(d.createdAt)],
    ]);
    return 0;
  },
};

/**
 * Notification channels (docs/operations.md "Notifications"): the ones the user manages, a form to
 * add one (for one of their workflows, or, for admins, the platform), each channel's deliveries,
 * and re-enabling a channel that was disabled after failing.
 */
import { useState } from "preact/hooks";
import { api, get, post } from "../api/client";
import { can } from "../api/session";
import type {
  NotificationChannel,
  NotificationChannelCreated,
  NotificationDelivery,
  Page,
  Workflow,
} from "../api/types";
import { when } from "../components/format";
import { Empty, ErrorNotice } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

type ChannelEvent = NotificationChannel["events"][number];
/** Every event a channel may hear, in the order the form offers them: one missing fails the typecheck. */
const EVENTS = [
  "execution.failed",
  "execution.completed",
  "approval.waiting",
  "step.dead_lettered",
  "backup.failed",
  "backup.verification_failed",
  "drill.failed",
] as const satisfies readonly ChannelEvent[];
const everyEvent: Exclude<ChannelEvent, (typeof EVENTS)[number]> extends never ? true : never = true;
void everyEvent;

export function Notifications() {
  const channels = useResource(() => get<{ items: NotificationChannel[] }>("/notification-channels"), []);
  const workflows = useResource(() => get<Page<Workflow>>("/workflows?limit=200"), []);
  const [open, setOpen] = useState<string>();
  const { error, run } = useAction();
  const act = (method: "PATCH" | "DELETE", id: string, body?: unknown) =>
    run(async () => {
      await api(method, `/notification-channels/${id}`, body);
      void channels.reload();
    });
  return (
    <section>
      <h1>Notifications</h1>
      <CreateChannel workflows={workflows.value?.items ?? []} onCreated={() => void channels.reload()} />
      <ErrorNotice error={error ?? channels.error} />
      {!channels.value?.items.length ? (
        <Empty>No channels yet.</Empty>
      ) : (
        <ul>
          {channels.value.items.map((channel) => (
            <li key={channel.id}>
              <strong>{channel.name}</strong> · {channel.type} <code>{channel.url}</code> ·{" "}
              {channel.workflowId ? <a href={`/workflows/${channel.workflowId}`}>its workflow</a> : "platform"} ·{" "}
              {channel.events.join(", ")} ·{" "}
              {channel.enabled ? "enabled" : <span class="notice-error">disabled: {channel.disabledReason}</span>}{" "}
              {!channel.enabled && (
                <button type="button" onClick={() => void act("PATCH", channel.id, { enabled: true })}>
                  Re-enable
                </button>
              )}{" "}
              <button type="button" onClick={() => setOpen(open === channel.id ? undefined : channel.id)}>
                {open === channel.id ? "Hide deliveries" : "Deliveries"}
              </button>{" "}
              <button type="button" class="danger" onClick={() => void act("DELETE", channel.id)}>
                Delete
              </button>
              {open === channel.id && <Deliveries channelId={channel.id} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function CreateChannel({ workflows, onCreated }: { workflows: Workflow[]; onCreated(): void }) {
  const [name, setName] = useState("");
  const [type, setType] = useState<"webhook" | "slack">("slack");
  const [url, setUrl] = useState("");
  const [workflowId, setWorkflowId] = useState("");
  const [events, setEvents] = useState<string[]>(["execution.failed"]);
  const [secret, setSecret] = useState<string>();
  const { error, busy, run } = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const created = await post<NotificationChannelCreated>("/notification-channels", {
        name,
        type,
        url,
        events,
        ...(workflowId ? { workflowId } : {}),
      });
      setSecret(created.signingSecret);
      setName("");
      setUrl("");
      onCreated();
    });
  };
  return (
    <form class="form" onSubmit={submit}>
      <label for="channel-name">Name</label>
      <input id="channel-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      <label for="channel-type">Type</label>
      <select id="channel-type" value={type} onChange={(e) => setType(e.currentTarget.value as "webhook" | "slack")}>
        <option value="slack">Slack incoming webhook</option>
        <option value="webhook">Webhook (signed JSON)</option>
      </select>
      <label for="channel-url">URL, or {"{{secrets.NAME}}"}</label>
      <input id="channel-url" value={url} onInput={(e) => setUrl(e.currentTarget.value)} required />
      <label for="channel-workflow">For</label>
      <select id="channel-workflow" value={workflowId} onChange={(e) => setWorkflowId(e.currentTarget.value)}>
        {can("settings:manage") && <option value="">The platform (every workflow, backups, drills)</option>}
        {!can("settings:manage") && <option value="">Choose one of your workflows</option>}
        {workflows.map((workflow) => (
          <option key={workflow.id} value={workflow.id}>
            {workflow.name}
          </option>
        ))}
      </select>
      <fieldset class="scopes">
        <legend>Events</legend>
        {EVENTS.map((name) => (
          <label key={name} class="check">
            <input
              type="checkbox"
              checked={events.includes(name)}
              onChange={(e) =>
                setEvents(e.currentTarget.checked ? [...events, name] : events.filter((item) => item !== name))
              }
            />{" "}
            <code>{name}</code>
          </label>
        ))}
      </fieldset>
      <button type="submit" class="primary" disabled={busy || events.length === 0}>
        Add channel
      </button>
      {secret && (
        <p class="notice notice-info" role="status">
          Signing secret (shown once): <code>{secret}</code>
        </p>
      )}
      <ErrorNotice error={error} />
    </form>
  );
}

function Deliveries({ channelId }: { channelId: string }) {
  const page = useResource(
    () => get<Page<NotificationDelivery>>(`/notification-channels/${channelId}/deliveries?limit=20`),
    [channelId],
  );
  if (page.error) return <ErrorNotice error={page.error} />;
  if (!page.value?.items.length) return <Empty>No deliveries yet.</Empty>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last answer</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {page.value.items.map((delivery) => (
          <tr key={delivery.id}>
            <td>{delivery.event}</td>
            <td>{delivery.status}</td>
            <td>{delivery.attempts}</td>
            <td>{delivery.lastError ?? delivery.lastStatus ?? "—"}</td>
            <td>{when(delivery.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * One workflow: its current definition as a diagram and as JSON, its versions with a diff between
 * any two, a new version, make one current, start it from a form built from `inputSchema`, and its
 * status, schedule and webhook secret.
 */
import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { ApiError, api, type ErrorDetail, get, post } from "../api/client";
import { can } from "../api/session";
import type { Page, Version, VersionSummary, Workflow } from "../api/types";
import { Dag } from "../components/dag";
import { DataTable } from "../components/data-table";
import { DiffView } from "../components/diff-view";
import { json, when } from "../components/format";
import { commaList, keyValuePairs } from "../components/labels";
import { ErrorNotice, Loading, StatusBadge } from "../components/notices";
import { SchemaForm } from "../components/schema-form";
import { JsonBlock } from "../components/scroll-region";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

const SAMPLE = { steps: [{ id: "hello", type: "transform", output: { greeting: "Hello, {{input.name}}" } }] };

export function WorkflowPage({ id }: { id: string }) {
  const workflow = useResource(() => get<Workflow>(`/workflows/${id}`), [id]);
  const versions = useResource(() => get<Page<VersionSummary>>(`/workflows/${id}/versions?limit=200`), [id]);
  const current = workflow.value?.currentVersion;
  const version = useResource(
    () => (current ? get<Version>(`/workflows/${id}/versions/${current}`) : Promise.resolve(undefined)),
    [id, current],
  );
  const reload = () => {
    void workflow.reload();
    void versions.reload();
  };
  if (workflow.error) return <ErrorNotice error={workflow.error} />;
  if (!workflow.value) return <Loading />;
  const wf = workflow.value;
  const mayUpdate = can("workflows:update");
  return (
    <section>
      <header class="page-head">
        <h1>
          {wf.name} <StatusBadge status={wf.status} />
        </h1>
        <p class="meta">
          {wf.description ?? "No description."} · current version {current ?? "none"} · updated {when(wf.updatedAt)} ·{" "}
          {wf.retentionDays ? `executions kept ${wf.retentionDays} days` : "executions kept for ever"} ·{" "}
          <a href={`/executions?workflowId=${wf.id}`}>its executions</a>
        </p>
      </header>
      <div class="grid-2">
        <div class="card">
          <h2>Definition</h2>
          {version.value ? (
            <>
              <Dag steps={version.value.definition.steps} />
              <details>
                <summary>JSON</summary>
                <JsonBlock label="Definition JSON" value={version.value.definition} />
              </details>
            </>
          ) : (
            <p class="empty">No version yet{mayUpdate ? ": add one below." : "."}</p>
          )}
        </div>
        <div class="card">
          <h2>Start</h2>
          {can("executions:create") && version.value && wf.status !== "archived" ? (
            <StartForm workflowId={wf.id} version={version.value} />
          ) : (
            <p class="empty">{wf.status === "archived" ? "Archived workflows start nothing." : "Nothing to start."}</p>
          )}
        </div>
      </div>
      <Versions workflow={wf} versions={versions.value?.items ?? []} onChange={reload} />
      {mayUpdate && (
        <NewVersion
          key={current ?? 0}
          workflowId={wf.id}
          base={version.value?.definition ?? SAMPLE}
          onCreated={reload}
        />
      )}
      {mayUpdate && <Settings workflow={wf} onChange={reload} />}
    </section>
  );
}

function StartForm({ workflowId, version }: { workflowId: string; version: Version }) {
  const { route } = useLocation();
  const [details, setDetails] = useState<ErrorDetail[]>([]);
  const [tags, setTags] = useState("");
  const [metadata, setMetadata] = useState("");
  const [priority, setPriority] = useState(0);
  const { error, busy, run } = useAction();
  const start = (input: Record<string, unknown>) =>
    run(async () => {
      try {
        const started = await post<{ id: string }>(`/workflows/${workflowId}/executions`, {
          input,
          ...labelsOf(tags, metadata),
          ...(priority ? { priority } : {}),
        });
        route(`/executions/${started.id}`);
      } catch (caught) {
        // A 422's details belong on the form's fields.
        setDetails(caught instanceof ApiError ? caught.details : []);
        throw caught;
      }
    });
  return (
    <>
      <div class="filters">
        <label>
          Tags (comma-separated)
          <input type="text" value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
        </label>
        <label>
          Metadata (key=value, …)
          <input type="text" value={metadata} onInput={(e) => setMetadata(e.currentTarget.value)} />
        </label>
        <label>
          Priority (-100 to 100; higher starts first when queued)
          <input
            type="number"
            min={-100}
            max={100}
            step={1}
            value={priority}
            onInput={(e) => setPriority(Number(e.currentTarget.value) || 0)}
          />
        </label>
      </div>
      <SchemaForm
        schema={version.definition.inputSchema}
        details={details}
        busy={busy}
        submitLabel="Start execution"
        onSubmit={(input) => void start(input)}
        onProblem={(problem) => setDetails([problem])}
      />
      <ErrorNotice error={error} />
    </>
  );
}

function Versions({
  workflow,
  versions,
  onChange,
}: {
  workflow: Workflow;
  versions: VersionSummary[];
  onChange(): void;
}) {
  const [left, setLeft] = useState<number>();
  const [right, setRight] = useState<number>();
  const [pair, setPair] = useState<[Version, Version]>();
  const { error, run, setError } = useAction();
  useEffect(() => {
    if (versions.length >= 2 && left === undefined) {
      setLeft(versions[1].versionNumber);
      setRight(versions[0].versionNumber);
    }
  }, [versions, left]);
  useEffect(() => {
    if (left === undefined || right === undefined) return;
    void Promise.all([
      get<Version>(`/workflows/${workflow.id}/versions/${left}`),
      get<Version>(`/workflows/${workflow.id}/versions/${right}`),
    ]).then(setPair, setError);
  }, [workflow.id, left, right]);
  const makeCurrent = (versionNumber: number) =>
    run(async () => {
      await api("PUT", `/workflows/${workflow.id}/current-version`, { versionNumber });
      onChange();
    });
  return (
    <div class="card">
      <h2>Versions</h2>
      <ErrorNotice error={error} />
      <DataTable caption="Versions" columns={["Version", "Change", "Created", ""]}>
        {versions.map((version) => (
          <tr key={version.id}>
            <td>
              {version.versionNumber} {version.isCurrent && <StatusBadge status="current" />}
            </td>
            <td>{version.changeSummary ?? "—"}</td>
            <td>{when(version.createdAt)}</td>
            <td>
              {!version.isCurrent && can("workflows:update") && (
                <button type="button" onClick={() => void makeCurrent(version.versionNumber)}>
                  Make current
                </button>
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      {versions.length >= 2 && (
        <>
          <h3>Compare</h3>
          <div class="filters">
            <label>
              From
              <select value={left} onChange={(e) => setLeft(Number(e.currentTarget.value))}>
                {versions.map((v) => (
                  <option key={v.id} value={v.versionNumber}>
                    {v.versionNumber}
                  </option>
                ))}
              </select>
            </label>
            <label>
              To
              <select value={right} onChange={(e) => setRight(Number(e.currentTarget.value))}>
                {versions.map((v) => (
                  <option key={v.id} value={v.versionNumber}>
                    {v.versionNumber}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {pair && <DiffView before={pair[0].definition} after={pair[1].definition} />}
        </>
      )}
    </div>
  );
}

function NewVersion({ workflowId, base, onCreated }: { workflowId: string; base: unknown; onCreated(): void }) {
  const [text, setText] = useState(() => json(base));
  const [summary, setSummary] = useState("");
  const { error, run, setError } = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    let definition: unknown;
    try {
      definition = JSON.parse(text);
    } catch {
      setError(new ApiError(400, "INVALID_JSON", "The definition is not valid JSON"));
      return;
    }
    await run(async () => {
      await post(`/workflows/${workflowId}/versions`, { definition, ...(summary ? { changeSummary: summary } : {}) });
      setSummary("");
      onCreated();
    });
  };
  return (
    <details class="card">
      <summary>
        <h2 class="inline-heading">New version</h2>
      </summary>
      <form class="form" onSubmit={submit}>
        <label for="definition">Definition (JSON)</label>
        <textarea
          id="definition"
          rows={14}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          spellcheck={false}
          class="code"
        />
        <label for="change-summary">Change summary</label>
        <input id="change-summary" value={summary} onInput={(e) => setSummary(e.currentTarget.value)} />
        <button type="submit" class="primary">
          Save as the current version
        </button>
        <ErrorNotice error={error} />
      </form>
    </details>
  );
}

function Settings({ workflow, onChange }: { workflow: Workflow; onChange(): void }) {
  const [cron, setCron] = useState(workflow.schedule?.cron ?? "");
  const [timezone, setTimezone] = useState(workflow.schedule?.timezone ?? "");
  const [retention, setRetention] = useState(workflow.retentionDays ? String(workflow.retentionDays) : "");
  const [secret, setSecret] = useState<string>();
  const { error, run } = useAction();
  const patch = (body: Record<string, unknown>) =>
    run(async () => {
      await api("PATCH", `/workflows/${workflow.id}`, body);
      onChange();
    });
  const rotate = () =>
    run(async () => {
      setSecret((await post<{ secret: string }>(`/workflows/${workflow.id}/webhook-secret`)).secret);
      onChange();
    });
  return (
    <div class="card">
      <h2>Settings</h2>
      <ErrorNotice error={error} />
      <div class="controls">
        {workflow.status === "draft" && (
          <button type="button" onClick={() => void patch({ status: "active" })}>
            Activate (webhooks and schedules fire)
          </button>
        )}
        {workflow.status === "active" && (
          <button type="button" onClick={() => void patch({ status: "draft" })}>
            Back to draft
          </button>
        )}
      </div>
      <form
        class="form inline"
        onSubmit={(e) => {
          e.preventDefault();
          void patch({
            schedule: cron.trim() ? { cron: cron.trim(), ...(timezone.trim() && { timezone: timezone.trim() }) } : null,
          });
        }}
      >
        <label for="cron">Schedule (cron; blank: none)</label>
        <input id="cron" value={cron} placeholder="0 9 * * 1-5" onInput={(e) => setCron(e.currentTarget.value)} />
        <label for="timezone">Time zone</label>
        <input id="timezone" value={timezone} placeholder="UTC" onInput={(e) => setTimezone(e.currentTarget.value)} />
        <button type="submit">Save schedule</button>
      </form>
      <form
        class="form inline"
        onSubmit={(e) => {
          e.preventDefault();
          void patch({ retentionDays: retention.trim() ? Number(retention) : null });
        }}
      >
        <label for="retention">Keep executions for (days; blank: for ever)</label>
        <input
          id="retention"
          type="number"
          min={1}
          max={3650}
          value={retention}
          onInput={(e) => setRetention(e.currentTarget.value)}
        />
        <button type="submit">Save retention</button>
      </form>
      <p>
        Webhook: <code>POST /api/v1/hooks/{workflow.id}</code> · secret {workflow.webhookSecretSet ? "set" : "not set"}{" "}
        <button type="button" onClick={() => void rotate()}>
          {workflow.webhookSecretSet ? "Rotate secret" : "Create secret"}
        </button>
      </p>
      {secret && (
        <p class="notice notice-info" role="status">
          New secret (shown once): <code>{secret}</code>
        </p>
      )}
    </div>
  );
}

/** The start form's tags and metadata as a start body's (absent when empty). */
function labelsOf(tags: string, metadata: string): { tags?: string[]; metadata?: Record<string, string> } {
  const tagList = commaList(tags);
  const pairs = keyValuePairs(metadata);
  return {
    ...(tagList.length ? { tags: tagList } : {}),
    ...(pairs.length ? { metadata: Object.fromEntries(pairs) } : {}),
  };
}

/** Executions the caller may see, newest first, with filters; kept current while any of them runs. */
import { useEffect, useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get, query } from "../api/client";
import type { ExecutionSummary, Page, Workflow } from "../api/types";
import { DataTable } from "../components/data-table";
import { duration, shortId, when } from "../components/format";
import { commaList, keyValuePairs } from "../components/labels";
import { Empty, ErrorNotice, Loading, StatusBadge } from "../components/notices";
import { useResource } from "../components/use-resource";
import { BulkAction } from "../execution/bulk-action";

const STATUSES = ["", "pending", "queued", "running", "paused", "completed", "failed", "cancelled"];
const ACTIVE = new Set(["pending", "queued", "running", "paused"]);
const ACTIVE_REFRESH_MS = 3_000;
const IDLE_REFRESH_MS = 10_000;

export function Executions() {
  const { query: params, route } = useLocation();
  const filters = {
    status: params.status ?? "",
    workflowId: params.workflowId ?? "",
    from: params.from ?? "",
    to: params.to ?? "",
    q: params.q ?? "",
    tags: params.tags ?? "",
    meta: params.meta ?? "",
  };
  const workflows = useResource(() => get<Page<Workflow>>("/workflows?limit=200"), []);
  const [pages, setPages] = useState<ExecutionSummary[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const list = useResource(async () => {
    const page = await get<Page<ExecutionSummary>>(`/executions${query({ ...isoFilters(filters), limit: 50 })}`);
    setPages([]);
    setCursor(page.nextCursor);
    return page.items;
  }, [filters.status, filters.workflowId, filters.from, filters.to, filters.q, filters.tags, filters.meta]);

  // Look again every few seconds while the tab is visible: quickly while something listed is still
  // going, less often otherwise (new executions still appear).
  const active = list.value?.some((execution) => ACTIVE.has(execution.status)) ?? false;
  useEffect(() => {
    const timer = setInterval(
      () => {
        if (document.visibilityState === "visible") void list.reload();
      },
      active ? ACTIVE_REFRESH_MS : IDLE_REFRESH_MS,
    );
    return () => clearInterval(timer);
  }, [active, list.reload]);

  const setFilter = (name: string, value: string) => {
    const next = { ...filters, [name]: value };
    route(`/executions${query(next)}`, true);
  };
  const more = async () => {
    if (!cursor) return;
    const page = await get<Page<ExecutionSummary>>(
      `/executions${query({ ...isoFilters(filters), limit: 50, cursor })}`,
    );
    setPages([...pages, page.items]);
    setCursor(page.nextCursor);
  };
  const names = new Map((workflows.value?.items ?? []).map((workflow) => [workflow.id, workflow.name]));
  const rows = [...(list.value ?? []), ...pages.flat()];

  return (
    <section>
      <h1>Executions</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Status
          <select value={filters.status} onChange={(e) => setFilter("status", e.currentTarget.value)}>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status || "any"}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workflow
          <select value={filters.workflowId} onChange={(e) => setFilter("workflowId", e.currentTarget.value)}>
            <option value="">any</option>
            {(workflows.value?.items ?? []).map((workflow) => (
              <option key={workflow.id} value={workflow.id}>
                {workflow.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input
            type="datetime-local"
            value={filters.from}
            onChange={(e) => setFilter("from", e.currentTarget.value)}
          />
        </label>
        <label>
          To
          <input type="datetime-local" value={filters.to} onChange={(e) => setFilter("to", e.currentTarget.value)} />
        </label>
        <TextFilter label="Tags" hint="customer-42, nightly" value={filters.tags} set={(v) => setFilter("tags", v)} />
        <TextFilter
          label="Metadata"
          hint="region=eu, plan=pro"
          value={filters.meta}
          set={(v) => setFilter("meta", v)}
        />
        <TextFilter label="Search" hint="id prefix, tag or value" value={filters.q} set={(v) => setFilter("q", v)} />
      </form>
      <BulkAction filter={bulkFilterOf(filters)} onDone={() => void list.reload()} />
      <ErrorNotice error={list.error} />
      {list.loading && !list.value ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty>No executions match.</Empty>
      ) : (
        <DataTable
          caption="Executions"
          columns={["Execution", "Workflow", "Status", "Trigger", "Tags", "Started", "Duration", "Tokens"]}
        >
          {rows.map((execution) => (
            <tr key={execution.id} data-execution={execution.id}>
              <td>
                <a href={`/executions/${execution.id}`}>{shortId(execution.id)}</a>
              </td>
              <td>{names.get(execution.workflowId) ?? shortId(execution.workflowId)}</td>
              <td>
                <StatusBadge status={execution.status} />
              </td>
              <td>{execution.triggerType}</td>
              <td>{execution.tags.join(", ")}</td>
              <td>{when(execution.startedAt ?? execution.createdAt)}</td>
              <td>{duration(execution.durationMs)}</td>
              <td>{execution.promptTokens + execution.completionTokens}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {cursor && (
        <button type="button" onClick={() => void more()}>
          Load more
        </button>
      )}
    </section>
  );
}

/**
 * The page's filters as the API's: datetime-local values are local times (the API wants ISO-8601
 * UTC), tags are repeated `tag` parameters, metadata pairs `meta.<key>=<value>` parameters.
 */
function isoFilters(filters: Record<string, string>) {
  const iso = (value: string) => (value ? new Date(value).toISOString() : undefined);
  const meta = Object.fromEntries(keyValuePairs(filters.meta).map(([key, value]) => [`meta.${key}`, value]));
  return {
    status: filters.status,
    workflowId: filters.workflowId,
    from: iso(filters.from),
    to: iso(filters.to),
    q: filters.q,
    tag: commaList(filters.tags),
    ...meta,
  };
}

/** The page's filters as a bulk job's (the same filters, in its body's shape). */
function bulkFilterOf(filters: Record<string, string>) {
  const { from, to } = isoFilters(filters);
  const tags = commaList(filters.tags);
  const metadata = Object.fromEntries(keyValuePairs(filters.meta));
  return {
    ...(filters.status ? { status: filters.status } : {}),
    ...(filters.workflowId ? { workflowId: filters.workflowId } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(filters.q ? { q: filters.q } : {}),
    ...(tags.length ? { tags } : {}),
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}

/** A text filter, applied when the field is left or Enter is pressed (not on every keystroke). */
function TextFilter(props: { label: string; hint: string; value: string; set(value: string): void }) {
  return (
    <label>
      {props.label}
      <input
        type="text"
        placeholder={props.hint}
        value={props.value}
        onChange={(e) => props.set(e.currentTarget.value)}
      />
    </label>
  );
}

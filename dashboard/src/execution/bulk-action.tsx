/**
 * Act on every execution the list's filters match (docs/dashboard.md): choose the action, see how
 * many match (a dry run), confirm, and follow the job's progress.
 */
import { useState } from "preact/hooks";
import { get, post } from "../api/client";
import { can } from "../api/session";
import type { BulkCreated, BulkJob } from "../api/types";
import { ErrorNotice } from "../components/notices";
import { useAction } from "../components/use-action";

export type BulkFilter = Record<string, unknown>;

const POLL_MS = 1_000;

export function BulkAction({ filter, onDone }: { filter: BulkFilter; onDone(): void }) {
  const actions = [...(can("executions:cancel") ? ["cancel"] : []), ...(can("executions:retry") ? ["retry"] : [])];
  const [action, setAction] = useState(actions[0] ?? "");
  const [matched, setMatched] = useState<number>();
  const [job, setJob] = useState<BulkJob>();
  const { error, busy, run } = useAction();
  if (actions.length === 0) return null;

  const preview = () =>
    run(async () => {
      setJob(undefined);
      setMatched((await post<BulkCreated>("/executions/bulk", { action, filter, dryRun: true })).matched);
    });
  const confirm = () =>
    run(async () => {
      const created = await post<BulkCreated>("/executions/bulk", { action, filter });
      setMatched(undefined);
      for (;;) {
        const current = await get<BulkJob>(`/executions/bulk/${created.id}`);
        setJob(current);
        if (current.status !== "running") break;
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      onDone();
    });

  return (
    <form class="filters" aria-label="Bulk action" onSubmit={(e) => e.preventDefault()}>
      <label>
        Bulk action
        <select
          value={action}
          onChange={(e) => {
            setAction(e.currentTarget.value);
            setMatched(undefined);
          }}
        >
          {actions.map((name) => (
            <option key={name} value={name}>
              {name} every match
            </option>
          ))}
        </select>
      </label>
      <button type="button" disabled={busy} onClick={() => void preview()}>
        Preview
      </button>
      {matched !== undefined && (
        <>
          <span role="status">
            {matched} execution{matched === 1 ? "" : "s"} match
          </span>
          {matched > 0 && (
            <button type="button" class="danger" disabled={busy} onClick={() => void confirm()}>
              {action} {matched}
            </button>
          )}
        </>
      )}
      {job && (
        <span role="status">
          {job.status}: {job.done} done, {job.skipped} skipped, {job.failed} failed of {job.matched}
        </span>
      )}
      <ErrorNotice error={error} />
    </form>
  );
}

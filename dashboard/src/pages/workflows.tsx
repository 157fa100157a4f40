/** Workflows the caller may see; users and admins create new ones here. */
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { get, post } from "../api/client";
import { can } from "../api/session";
import type { Page, Workflow } from "../api/types";
import { DataTable } from "../components/data-table";
import { when } from "../components/format";
import { Empty, ErrorNotice, Loading, StatusBadge } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

export function Workflows() {
  const list = useResource(() => get<Page<Workflow>>("/workflows?limit=200"), []);
  return (
    <section>
      <h1>Workflows</h1>
      {can("workflows:create") && <CreateWorkflow />}
      <ErrorNotice error={list.error} />
      {list.loading && !list.value ? (
        <Loading />
      ) : !list.value?.items.length ? (
        <Empty>No workflows yet.</Empty>
      ) : (
        <DataTable caption="Workflows" columns={["Name", "Status", "Version", "Schedule", "Updated"]}>
          {list.value.items.map((workflow) => (
            <tr key={workflow.id}>
              <td>
                <a href={`/workflows/${workflow.id}`}>{workflow.name}</a>
              </td>
              <td>
                <StatusBadge status={workflow.status} />
              </td>
              <td>{workflow.currentVersion ?? "—"}</td>
              <td>{workflow.schedule?.cron ?? "—"}</td>
              <td>{when(workflow.updatedAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

function CreateWorkflow() {
  const { route } = useLocation();
  const [name, setName] = useState("");
  const { error, run } = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    await run(async () => {
      const created = await post<Workflow>("/workflows", { name });
      route(`/workflows/${created.id}`);
    });
  };
  return (
    <form class="form inline" onSubmit={submit}>
      <label for="new-workflow">New workflow</label>
      <input
        id="new-workflow"
        value={name}
        placeholder="Name"
        onInput={(e) => setName(e.currentTarget.value)}
        required
      />
      <button type="submit" class="primary">
        Create
      </button>
      <ErrorNotice error={error} />
    </form>
  );
}

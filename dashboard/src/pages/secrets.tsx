/** Platform secrets: names and dates only; values are write-only. */
import { useState } from "preact/hooks";
import { api, get } from "../api/client";
import type { Page, Secret } from "../api/types";
import { DataTable } from "../components/data-table";
import { when } from "../components/format";
import { Empty, ErrorNotice, Loading } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

export function Secrets() {
  const list = useResource(() => get<Page<Secret>>("/secrets"), []);
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const { error, run } = useAction();
  const save = async (event: Event) => {
    event.preventDefault();
    await run(async () => {
      await api("PUT", `/secrets/${encodeURIComponent(name)}`, { value });
      setName("");
      setValue("");
      void list.reload();
    });
  };
  const remove = async (secret: string) => {
    if (!confirm(`Delete the secret ${secret}?`)) return;
    await run(async () => {
      await api("DELETE", `/secrets/${encodeURIComponent(secret)}`);
      void list.reload();
    });
  };
  return (
    <section>
      <h1>Secrets</h1>
      <p class="help">
        Referenced as <code>{"{{secrets.NAME}}"}</code> in http steps and tools; a workflow's own secret of the same
        name wins.
      </p>
      <form class="form inline" onSubmit={save}>
        <label for="secret-name">Name</label>
        <input
          id="secret-name"
          value={name}
          pattern="[A-Z][A-Z0-9_]{0,63}"
          placeholder="PAYMENTS_API_KEY"
          onInput={(e) => setName(e.currentTarget.value)}
          required
        />
        <label for="secret-value">Value</label>
        <input
          id="secret-value"
          type="password"
          autocomplete="off"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
          required
        />
        <button type="submit" class="primary">
          Save
        </button>
      </form>
      <ErrorNotice error={error ?? list.error} />
      {list.loading && !list.value ? (
        <Loading />
      ) : !list.value?.items.length ? (
        <Empty>No platform secrets.</Empty>
      ) : (
        <DataTable caption="Secrets" columns={["Name", "Created", "Updated", ""]}>
          {list.value.items.map((secret) => (
            <tr key={secret.name}>
              <td>
                <code>{secret.name}</code>
              </td>
              <td>{when(secret.createdAt)}</td>
              <td>{when(secret.updatedAt)}</td>
              <td>
                <button type="button" class="danger" onClick={() => void remove(secret.name)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

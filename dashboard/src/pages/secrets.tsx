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
  const [hosts, setHosts] = useState("");
  const [shared, setShared] = useState(false);
  const { error, run } = useAction();
  const save = async (event: Event) => {
    event.preventDefault();
    await run(async () => {
      const allowedHosts = hosts
        .split(",")
        .map((host) => host.trim())
        .filter(Boolean);
      await api("PUT", `/secrets/${encodeURIComponent(name)}`, {
        value,
        allowedHosts: allowedHosts.length ? allowedHosts : null,
        sharedWithUsers: shared,
      });
      setName("");
      setValue("");
      setHosts("");
      setShared(false);
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
        name wins in its steps. Admins' workflows and agents' tools may use every platform secret; users' workflows only
        those shared with users. With allowed hosts, a request carrying the value goes only there.
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
        <label for="secret-hosts">Allowed hosts</label>
        <input
          id="secret-hosts"
          value={hosts}
          placeholder="api.example.com, *.example.org (empty: any)"
          onInput={(e) => setHosts(e.currentTarget.value)}
        />
        <label class="check">
          <input type="checkbox" checked={shared} onChange={(e) => setShared(e.currentTarget.checked)} /> Shared with
          users
        </label>
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
        <DataTable caption="Secrets" columns={["Name", "Allowed hosts", "Shared with users", "Created", "Updated", ""]}>
          {list.value.items.map((secret) => (
            <tr key={secret.name}>
              <td>
                <code>{secret.name}</code>
              </td>
              <td>{secret.allowedHosts?.join(", ") ?? "any"}</td>
              <td>{secret.sharedWithUsers ? "yes" : "no"}</td>
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

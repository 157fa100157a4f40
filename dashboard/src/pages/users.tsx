/** Users (admins): create, change roles, deactivate. */
import { useState } from "preact/hooks";
import { api, get, post } from "../api/client";
import { me } from "../api/session";
import type { Page, Role, User } from "../api/types";
import { DataTable } from "../components/data-table";
import { when } from "../components/format";
import { ErrorNotice, Loading, StatusBadge } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

const ROLES: Role[] = ["admin", "user", "viewer"];

export function Users() {
  const list = useResource(() => get<Page<User>>("/users?limit=200"), []);
  const { error, run } = useAction();
  const change = async (user: User, body: Record<string, unknown>, method = "PATCH") => {
    await run(async () => {
      await api(method, `/users/${user.id}`, method === "PATCH" ? body : undefined);
      void list.reload();
    });
  };
  return (
    <section>
      <h1>Users</h1>
      <CreateUser onCreated={() => void list.reload()} />
      <ErrorNotice error={error ?? list.error} />
      {!list.value ? (
        <Loading />
      ) : (
        <DataTable caption="Users" columns={["User", "Role", "State", "Last sign-in", ""]}>
          {list.value.items.map((user) => (
            <tr key={user.id}>
              <td>
                {user.username} <small>{user.email}</small>
              </td>
              <td>
                <label class="sr-only" for={`role-${user.id}`}>
                  Role of {user.username}
                </label>
                <select
                  id={`role-${user.id}`}
                  value={user.roles[0]}
                  disabled={user.id === me.value?.id}
                  onChange={(e) => void change(user, { roles: [e.currentTarget.value] })}
                >
                  {ROLES.map((role) => (
                    <option key={role}>{role}</option>
                  ))}
                </select>
              </td>
              <td>
                <StatusBadge status={user.isActive ? "active" : "inactive"} />
              </td>
              <td>{when(user.lastLoginAt)}</td>
              <td>
                {user.isActive && user.id !== me.value?.id && (
                  <button type="button" class="danger" onClick={() => void change(user, {}, "DELETE")}>
                    Deactivate
                  </button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

function CreateUser({ onCreated }: { onCreated(): void }) {
  const [form, setForm] = useState({ email: "", username: "", password: "", role: "user" });
  const { error, run } = useAction();
  const set = (name: string, value: string) => setForm({ ...form, [name]: value });
  const submit = async (event: Event) => {
    event.preventDefault();
    await run(async () => {
      await post("/users", { email: form.email, username: form.username, password: form.password, roles: [form.role] });
      setForm({ email: "", username: "", password: "", role: "user" });
      onCreated();
    });
  };
  return (
    <details class="card">
      <summary>
        <h2 class="inline-heading">New user</h2>
      </summary>
      <form class="form" onSubmit={submit}>
        <label for="user-email">Email</label>
        <input
          id="user-email"
          type="email"
          value={form.email}
          onInput={(e) => set("email", e.currentTarget.value)}
          required
        />
        <label for="user-name">Username</label>
        <input id="user-name" value={form.username} onInput={(e) => set("username", e.currentTarget.value)} required />
        <label for="user-password">Password</label>
        <input
          id="user-password"
          type="password"
          autocomplete="new-password"
          value={form.password}
          onInput={(e) => set("password", e.currentTarget.value)}
          required
        />
        <label for="user-role">Role</label>
        <select id="user-role" value={form.role} onChange={(e) => set("role", e.currentTarget.value)}>
          {ROLES.map((role) => (
            <option key={role}>{role}</option>
          ))}
        </select>
        <button type="submit" class="primary">
          Create user
        </button>
        <ErrorNotice error={error} />
      </form>
    </details>
  );
}

/** The signed-in user's personal API tokens (CLIs, CI, MCP clients): created here, shown once, revoked at once. */
import { useState } from "preact/hooks";
import { api, get, post } from "../api/client";
import { me } from "../api/session";
import type { ApiToken, Page } from "../api/types";
import { when } from "../components/format";
import { Empty, ErrorNotice } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

export function Tokens() {
  const list = useResource(() => get<Page<ApiToken>>("/auth/api-tokens"), []);
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  // Permissions a token may carry: the user's own, but managing users (no token carries it).
  const offered = (me.value?.permissions ?? []).filter((permission) => permission !== "users:manage");
  const [scopes, setScopes] = useState<string[] | null>(null);
  const chosen = scopes ?? offered;
  const toggle = (permission: string, on: boolean) =>
    setScopes(on ? [...chosen, permission] : chosen.filter((p) => p !== permission));
  const [created, setCreated] = useState<string>();
  const { error, run } = useAction();
  const create = async (event: Event) => {
    event.preventDefault();
    await run(async () => {
      const answer = await post<{ token: string }>("/auth/api-tokens", {
        name,
        expiresInDays: Number(days),
        scopes: chosen,
      });
      setCreated(answer.token);
      setName("");
      setScopes(null);
      void list.reload();
    });
  };
  const revoke = async (id: string) => {
    await run(async () => {
      await api("DELETE", `/auth/api-tokens/${id}`);
      void list.reload();
    });
  };
  return (
    <section>
      <h1>API tokens</h1>
      <form class="form inline" onSubmit={create}>
        <label for="token-name">Name</label>
        <input id="token-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        <label for="token-days">Days</label>
        <input
          id="token-days"
          type="number"
          min={1}
          max={365}
          value={days}
          onInput={(e) => setDays(e.currentTarget.value)}
        />
        <fieldset class="scopes">
          <legend>Scopes: what the token may do</legend>
          {offered.map((permission) => (
            <label key={permission} class="check">
              <input
                type="checkbox"
                checked={chosen.includes(permission)}
                onChange={(e) => toggle(permission, e.currentTarget.checked)}
              />{" "}
              <code>{permission}</code>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={chosen.length === 0}>
          Create token
        </button>
      </form>
      {created && (
        <p class="notice notice-info" role="status">
          New token (shown once): <code>{created}</code>
        </p>
      )}
      <ErrorNotice error={error ?? list.error} />
      {!list.value?.items.length ? (
        <Empty>No live tokens.</Empty>
      ) : (
        <ul>
          {list.value.items.map((token) => (
            <li key={token.id}>
              <strong>{token.name}</strong> <code>{token.prefix}…</code> · expires {when(token.expiresAt)} · last used{" "}
              {when(token.lastUsedAt)} · scopes <span class="scope-list">{token.scopes.join(", ")}</span>{" "}
              <button type="button" class="danger" onClick={() => void revoke(token.id)}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Agents and their tools: everyone reads them, admins change them. Tool header values never show (the API answers ***). */
import { useState } from "preact/hooks";
import { api, get, post } from "../api/client";
import { can } from "../api/session";
import type { Agent, AgentTool, Page } from "../api/types";
import { DataTable } from "../components/data-table";
import { json, when } from "../components/format";
import { Empty, ErrorNotice, Loading, StatusBadge } from "../components/notices";
import { JsonBlock } from "../components/scroll-region";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

export function Agents() {
  const list = useResource(() => get<Page<Agent>>("/agents?limit=200"), []);
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <section>
      <h1>Agents</h1>
      {can("agents:create") && <CreateAgent onCreated={() => void list.reload()} />}
      <ErrorNotice error={list.error} />
      {list.loading && !list.value ? (
        <Loading />
      ) : !list.value?.items.length ? (
        <Empty>No agents yet.</Empty>
      ) : (
        <DataTable caption="Agents" columns={["Name", "Status", "Provider", "Model", "Updated"]}>
          {list.value.items.map((agent) => (
            <tr key={agent.id}>
              <td>
                <button
                  type="button"
                  class="link"
                  aria-expanded={selected === agent.id}
                  onClick={() => setSelected(selected === agent.id ? null : agent.id)}
                >
                  {agent.name}
                </button>
              </td>
              <td>
                <StatusBadge status={agent.status} />
              </td>
              <td>{String(agent.configuration.provider ?? "—")}</td>
              <td>{agent.modelName ?? "—"}</td>
              <td>{when(agent.updatedAt)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      {selected && <AgentDetail id={selected} onChange={() => void list.reload()} />}
    </section>
  );
}

function CreateAgent({ onCreated }: { onCreated(): void }) {
  const [name, setName] = useState("");
  const { error, run } = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    await run(async () => {
      await post("/agents", { name, type: "custom", configuration: { provider: "builtin" } });
      setName("");
      onCreated();
    });
  };
  return (
    <form class="form inline" onSubmit={submit}>
      <label for="new-agent">New agent</label>
      <input id="new-agent" value={name} placeholder="Name" onInput={(e) => setName(e.currentTarget.value)} required />
      <button type="submit" class="primary">
        Create
      </button>
      <ErrorNotice error={error} />
    </form>
  );
}

function AgentDetail({ id, onChange }: { id: string; onChange(): void }) {
  const agent = useResource(() => get<Agent>(`/agents/${id}`), [id]);
  const tools = useResource(() => get<Page<AgentTool>>(`/agents/${id}/tools`), [id]);
  const [text, setText] = useState<string>();
  const { error, run } = useAction();
  if (!agent.value) return <Loading />;
  const editable = can("agents:update");
  const save = async () => {
    await run(async () => {
      const { configuration, systemPrompt, modelName, temperature, maxTokens, status } = JSON.parse(text ?? "{}");
      await api("PATCH", `/agents/${id}`, { configuration, systemPrompt, modelName, temperature, maxTokens, status });
      onChange();
      void agent.reload();
    });
  };
  const { configuration, systemPrompt, modelName, temperature, maxTokens, status } = agent.value;
  return (
    <div class="card">
      <h2>{agent.value.name}</h2>
      <ErrorNotice error={error ?? agent.error} />
      {editable ? (
        <form
          class="form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <label for="agent-json">Configuration (JSON)</label>
          <textarea
            id="agent-json"
            class="code"
            rows={12}
            spellcheck={false}
            value={text ?? json({ status, modelName, temperature, maxTokens, systemPrompt, configuration })}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <button type="submit" class="primary">
            Save
          </button>
        </form>
      ) : (
        <JsonBlock
          label="Agent settings"
          value={{ status, modelName, temperature, maxTokens, systemPrompt, configuration }}
        />
      )}
      <h3>Tools</h3>
      {!tools.value?.items.length ? (
        <Empty>No tools.</Empty>
      ) : (
        <ul>
          {tools.value.items.map((tool) => (
            <li key={tool.id}>
              <strong>{tool.toolName}</strong> ({tool.toolType}
              {tool.isEnabled ? "" : ", disabled"}){" "}
              <JsonBlock label={`${tool.toolName} configuration`} value={tool.configuration} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Delivers a named event (with an optional JSON payload) to the execution's `event` steps. */
import { useState } from "preact/hooks";
import { ApiError, post } from "../api/client";
import type { Execution } from "../api/types";
import { ErrorNotice } from "../components/notices";
import { useAction } from "../components/use-action";

export function EventForm({ execution }: { execution: Execution }) {
  const waitingFor = execution.steps.find((s) => s.waiting?.reason === "event")?.waiting?.event ?? "";
  const [name, setName] = useState(waitingFor);
  const [payload, setPayload] = useState("{}");
  const [result, setResult] = useState<string>();
  const { error, run, setError } = useAction();
  const send = async (event: Event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = payload.trim() ? JSON.parse(payload) : undefined;
    } catch {
      setError(new ApiError(400, "INVALID_JSON", "The payload is not valid JSON"));
      return;
    }
    await run(async () => {
      const answer = await post<{ delivered: boolean; buffered: boolean }>(
        `/executions/${execution.id}/events/${encodeURIComponent(name)}`,
        parsed === undefined ? {} : { payload: parsed },
      );
      setResult(
        answer.delivered
          ? "Delivered to a waiting step."
          : answer.buffered
            ? "Buffered until a step waits for it."
            : "Not delivered.",
      );
    });
  };
  return (
    <form class="form" onSubmit={send}>
      <label for="event-name">Event name</label>
      <input id="event-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      <label for="event-payload">Payload (JSON)</label>
      <textarea
        id="event-payload"
        rows={3}
        value={payload}
        onInput={(e) => setPayload(e.currentTarget.value)}
        spellcheck={false}
      />
      <button type="submit">Deliver</button>
      {result && <p role="status">{result}</p>}
      <ErrorNotice error={error} />
    </form>
  );
}

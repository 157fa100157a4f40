/** Cancel, pause, resume and retry: offered only when the execution's state and the user's permissions allow. */
import { useState } from "preact/hooks";
import { post } from "../api/client";
import { can } from "../api/session";
import type { Execution } from "../api/types";
import { ErrorNotice } from "../components/notices";

const ACTIONS: Array<{ action: string; label: string; permission: string; when: string[] }> = [
  { action: "pause", label: "Pause", permission: "executions:cancel", when: ["running", "queued", "pending"] },
  { action: "resume", label: "Resume", permission: "executions:cancel", when: ["paused"] },
  {
    action: "cancel",
    label: "Cancel",
    permission: "executions:cancel",
    when: ["running", "queued", "pending", "paused"],
  },
  { action: "retry", label: "Retry failed steps", permission: "executions:retry", when: ["failed"] },
];

export function Controls({ execution, onDone }: { execution: Execution; onDone(): void }) {
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const offered = ACTIONS.filter((a) => can(a.permission) && a.when.includes(execution.status));
  if (offered.length === 0) return null;
  const run = async (action: string) => {
    if (action === "cancel" && !confirm("Cancel this execution?")) return;
    setBusy(true);
    try {
      await post(`/executions/${execution.id}/${action}`);
      setError(undefined);
      onDone();
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <fieldset class="controls">
      <legend class="sr-only">Execution controls</legend>
      {offered.map((a) => (
        <button
          type="button"
          key={a.action}
          disabled={busy}
          class={a.action === "cancel" ? "danger" : ""}
          onClick={() => void run(a.action)}
        >
          {a.label}
        </button>
      ))}
      <ErrorNotice error={error} />
    </fieldset>
  );
}

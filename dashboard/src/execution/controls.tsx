/** Cancel, pause, resume and retry: offered only when the execution's state and the user's permissions allow. */
import { post } from "../api/client";
import { can } from "../api/session";
import type { Execution } from "../api/types";
import { ErrorNotice } from "../components/notices";
import { useAction } from "../components/use-action";

const ACTIONS: Array<{ action: string; label: string; permission: string; when: string[] }> = [
  // A queued execution can only be cancelled until it starts (the API answers 409 EXECUTION_QUEUED).
  { action: "pause", label: "Pause", permission: "executions:cancel", when: ["running", "pending"] },
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
  const { error, busy, run } = useAction();
  const offered = ACTIONS.filter((a) => can(a.permission) && a.when.includes(execution.status));
  if (offered.length === 0) return null;
  const control = async (action: string) => {
    if (action === "cancel" && !confirm("Cancel this execution?")) return;
    await run(async () => {
      await post(`/executions/${execution.id}/${action}`);
      onDone();
    });
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
          onClick={() => void control(a.action)}
        >
          {a.label}
        </button>
      ))}
      <ErrorNotice error={error} />
    </fieldset>
  );
}

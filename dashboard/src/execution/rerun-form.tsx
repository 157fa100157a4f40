/** Rerun from a step: first the plan (dry run) with the side effects that would fire again, then the run. */
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { ApiError, post } from "../api/client";
import type { Execution, RerunPlan } from "../api/types";
import { ErrorNotice } from "../components/notices";

export function RerunForm({ execution, steps }: { execution: Execution; steps: string[] }) {
  const { route } = useLocation();
  const [fromStep, setFromStep] = useState(steps[0] ?? "");
  const [version, setVersion] = useState("");
  const [input, setInput] = useState("");
  const [plan, setPlan] = useState<RerunPlan>();
  const [error, setError] = useState<Error>();
  const body = (dryRun: boolean) => {
    const out: Record<string, unknown> = { fromStep, dryRun };
    if (version) out.version = Number(version);
    if (input.trim()) out.input = JSON.parse(input);
    return out;
  };
  const submit = async (dryRun: boolean) => {
    try {
      const answer = await post<{ plan?: RerunPlan; id: string }>(`/executions/${execution.id}/rerun`, body(dryRun));
      setError(undefined);
      if (dryRun) setPlan(answer.plan);
      else route(`/executions/${execution.id}`, true);
    } catch (caught) {
      setError(
        caught instanceof SyntaxError
          ? new ApiError(400, "INVALID_JSON", "The input is not valid JSON")
          : (caught as Error),
      );
    }
  };
  return (
    <form class="form" onSubmit={(e) => e.preventDefault()}>
      <label for="rerun-from">From step</label>
      <select
        id="rerun-from"
        value={fromStep}
        onChange={(e) => {
          setFromStep(e.currentTarget.value);
          setPlan(undefined);
        }}
      >
        {steps.map((id) => (
          <option key={id}>{id}</option>
        ))}
      </select>
      <label for="rerun-version">Version (blank: the same)</label>
      <input
        id="rerun-version"
        type="number"
        min={1}
        value={version}
        onInput={(e) => {
          setVersion(e.currentTarget.value);
          setPlan(undefined);
        }}
      />
      <label for="rerun-input">New input (JSON, blank: the same)</label>
      <textarea
        id="rerun-input"
        rows={3}
        value={input}
        onInput={(e) => {
          setInput(e.currentTarget.value);
          setPlan(undefined);
        }}
        spellcheck={false}
      />
      <div class="controls">
        <button type="button" onClick={() => void submit(true)}>
          Preview
        </button>
        <button type="button" class="primary" disabled={!plan} onClick={() => void submit(false)}>
          Rerun
        </button>
      </div>
      {plan && (
        <div class="plan" role="status">
          <p>
            Run {plan.run} on version {plan.versionNumber}: keeps {plan.keep.join(", ") || "nothing"}; runs again{" "}
            {plan.rerun.map((step) => step.stepId).join(", ")}.
          </p>
          <p>
            <strong>Side effects that fire again:</strong>{" "}
            {plan.sideEffects.length ? plan.sideEffects.join(", ") : "none"}
          </p>
        </div>
      )}
      <ErrorNotice error={error} />
    </form>
  );
}

/** One step: state, why it waits, input, output, error, and the approval decision when it is the user's to make. */
import { useState } from "preact/hooks";
import { get, post } from "../api/client";
import { can, me } from "../api/session";
import type { Execution, ExecutionStep } from "../api/types";
import { when } from "../components/format";
import { ErrorNotice, StatusBadge } from "../components/notices";
import { JsonBlock, ScrollRegion } from "../components/scroll-region";
import { useAction } from "../components/use-action";
import { SubSteps } from "./sub-steps";

export function StepPanel(props: { execution: Execution; step: ExecutionStep; text?: string; onDone(): void }) {
  const { step } = props;
  return (
    <div class="step-panel">
      <p>
        <StatusBadge status={step.status} /> {step.type} · attempt {step.attempt} · run {step.run}
      </p>
      <dl class="facts">
        <dt>Started</dt>
        <dd>{when(step.startedAt)}</dd>
        <dt>Ended</dt>
        <dd>{when(step.completedAt)}</dd>
        {step.promptTokens + step.completionTokens > 0 && (
          <>
            <dt>Tokens</dt>
            <dd>
              {step.promptTokens} in / {step.completionTokens} out
              {typeof step.costUsd === "number" ? ` · $${step.costUsd.toFixed(6)}` : ""}
            </dd>
          </>
        )}
        {step.waiting && (
          <>
            <dt>Waiting for</dt>
            <dd>
              {step.waiting.reason}
              {step.waiting.event ? ` "${step.waiting.event}"` : ""}
              {step.waiting.until ? ` until ${when(step.waiting.until)}` : ""}
              {step.waiting.expiresAt ? ` (expires ${when(step.waiting.expiresAt)})` : ""}
              {step.waiting.reason === "budget" && (
                <>
                  : ${step.waiting.spentUsd} of ${step.waiting.budgetUsd} spent, the next call could cost up to $
                  {step.waiting.nextCallUsd} — <a href="/approvals">raise or reject it</a>
                </>
              )}
            </dd>
          </>
        )}
      </dl>
      {step.status === "waiting" && step.waiting?.reason === "approval" && <Decision {...props} />}
      {step.progress && <SubSteps execution={props.execution} step={step} />}
      <Children execution={props.execution} stepId={step.stepId} />
      {step.error && (
        <div class="notice notice-error">
          {step.error.reason ? <code>{step.error.reason}</code> : null} {step.error.message}
        </div>
      )}
      {props.text && (
        <>
          <h3>Agent text</h3>
          <ScrollRegion label={`${step.stepId} agent text`} className="agent-text">
            <pre>{props.text}</pre>
          </ScrollRegion>
        </>
      )}
      <details>
        <summary>Input</summary>
        <JsonBlock label={`${step.stepId} input`} value={step.input} />
      </details>
      <Output executionId={props.execution.id} step={step} />
    </div>
  );
}

/** The child executions a workflow step (or an agent's workflow tool) started. */
function Children({ execution, stepId }: { execution: Execution; stepId: string }) {
  const children = (execution.children ?? []).filter((child) => child.parentStepId === stepId);
  if (children.length === 0) return null;
  return (
    <>
      <h3>Child executions</h3>
      <ul class="children">
        {children.map((child) => (
          <li key={child.id}>
            <a href={`/executions/${child.id}`} data-child={child.id}>
              {child.id.slice(0, 8)}
            </a>{" "}
            <StatusBadge status={child.status} />
          </li>
        ))}
      </ul>
    </>
  );
}

function Output({ executionId, step }: { executionId: string; step: ExecutionStep }) {
  const [full, setFull] = useState<unknown>();
  const offloaded = !!step.output && typeof step.output === "object" && "$ref" in (step.output as object);
  return (
    <details open={step.status === "completed"}>
      <summary>Output</summary>
      <JsonBlock label={`${step.stepId} output`} value={full ?? step.output} />
      {offloaded && full === undefined && (
        <button
          type="button"
          onClick={async () =>
            setFull((await get<{ output: unknown }>(`/executions/${executionId}/steps/${step.stepId}/output`)).output)
          }
        >
          Load the whole output
        </button>
      )}
    </details>
  );
}

function Decision({ execution, step, onDone }: { execution: Execution; step: ExecutionStep; onDone(): void }) {
  const [comment, setComment] = useState("");
  const { error, busy, run } = useAction();
  const roles = step.waiting?.approverRoles ?? [];
  const allowed =
    can("executions:approve") && (roles.length === 0 || roles.some((role) => me.value?.roles.includes(role as never)));
  if (!allowed) return <p class="help">Waiting for {roles.length ? roles.join(" or ") : "an approver"}.</p>;
  const decide = async (decision: "approve" | "reject") => {
    await run(async () => {
      await post(`/executions/${execution.id}/steps/${step.stepId}/${decision}`, comment ? { comment } : {});
      onDone();
    });
  };
  return (
    <form class="form decision" onSubmit={(e) => e.preventDefault()} aria-label={`Decide ${step.stepId}`}>
      {step.waiting?.message && <p>{step.waiting.message}</p>}
      <label for={`comment-${step.stepId}`}>Comment</label>
      <textarea
        id={`comment-${step.stepId}`}
        rows={2}
        value={comment}
        onInput={(e) => setComment(e.currentTarget.value)}
      />
      <div class="controls">
        <button type="button" class="primary" disabled={busy} onClick={() => void decide("approve")}>
          Approve
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void decide("reject")}>
          Reject
        </button>
      </div>
      <ErrorNotice error={error} />
    </form>
  );
}

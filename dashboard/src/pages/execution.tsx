/**
 * One execution, live: its DAG with each step's state, a timeline, streaming agent text, the
 * stream's events and the logs, and the controls, approvals, event delivery and rerun that the
 * signed-in user may use.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { get } from "../api/client";
import { can } from "../api/session";
import type { Definition, Execution, StepStatus, Version, Workflow } from "../api/types";
import { Dag } from "../components/dag";
import { duration, shortId, when } from "../components/format";
import { ErrorNotice, Loading, StatusBadge } from "../components/notices";
import { ScrollRegion } from "../components/scroll-region";
import { Timeline } from "../components/timeline";
import { Controls } from "../execution/controls";
import { EventForm } from "../execution/event-form";
import { Logs } from "../execution/logs";
import { QueueNotice } from "../execution/queue-notice";
import { RerunForm } from "../execution/rerun-form";
import { StepPanel } from "../execution/step-panel";
import { progressLine } from "../execution/sub-steps";
import { type AgentText, withToken } from "../live/agent-text";
import { applyEvent } from "../live/apply-event";
import { ExecutionStream, type StreamEvent, type StreamState } from "../live/execution-stream";

export function ExecutionPage({ id }: { id: string }) {
  const [execution, setExecution] = useState<Execution>();
  const [definition, setDefinition] = useState<Definition>();
  const [workflow, setWorkflow] = useState<Workflow>();
  const [error, setError] = useState<Error>();
  const [events, setEvents] = useState<StreamEvent[]>([]);
  const [tokens, setTokens] = useState<Record<string, AgentText>>({});
  const [streamState, setStreamState] = useState<{ state: StreamState; detail?: string }>({ state: "connecting" });
  const [selected, setSelected] = useState<string | null>(null);
  const [lastSeq, setLastSeq] = useState(0);
  const [now, setNow] = useState(Date.now());
  const refetch = useRef<ReturnType<typeof setTimeout>>(undefined);

  const load = async () => {
    try {
      const fresh = await get<Execution>(`/executions/${id}`);
      setExecution(fresh);
      setError(undefined);
      return fresh;
    } catch (caught) {
      setError(caught as Error);
      return undefined;
    }
  };

  useEffect(() => {
    let alive = true;
    setEvents([]);
    setTokens({});
    void (async () => {
      const first = await load();
      if (!first || !alive) return;
      const [wf, version] = await Promise.all([
        get<Workflow>(`/workflows/${first.workflowId}`).catch(() => undefined),
        get<Version>(`/workflows/${first.workflowId}/versions/${first.versionNumber}`).catch(() => undefined),
      ]);
      if (!alive) return;
      setWorkflow(wf);
      setDefinition(version?.definition);
    })();
    const stream = new ExecutionStream(id, {
      snapshot: (snapshot, seq) => {
        setLastSeq(seq);
        setExecution((current) => ({ ...(current ?? snapshot), ...snapshot }));
      },
      event: (event) => {
        setLastSeq(event.seq);
        setEvents((seen) => [...seen, event]);
        setExecution((current) => (current ? applyEvent(current, event) : current));
        clearTimeout(refetch.current);
        refetch.current = setTimeout(() => void load(), 300);
      },
      token: (message) =>
        setTokens((seen) => ({ ...seen, [message.stepId]: withToken(seen[message.stepId], message) })),
      state: (state, detail) => setStreamState({ state, detail }),
    });
    stream.start();
    const ticker = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      alive = false;
      stream.stop();
      clearInterval(ticker);
      clearTimeout(refetch.current);
    };
  }, [id]);

  const statuses = useMemo(() => {
    const out: Record<string, StepStatus> = {};
    for (const step of execution?.steps ?? []) out[step.stepId] = step.status;
    return out;
  }, [execution]);
  // A map's or a loop's live counter, and what compensation did to each step, on its node.
  const details = useMemo(() => {
    const out: Record<string, string> = {};
    for (const step of execution?.steps ?? []) {
      const line = progressLine(step);
      if (line) out[step.stepId] = line;
    }
    for (const stepId of execution?.compensation?.completed ?? []) out[stepId] = "↺ compensated";
    for (const { stepId } of execution?.compensation?.failed ?? []) out[stepId] = "↺ compensation failed";
    for (const step of execution?.compensations ?? [])
      if (!isTerminal(step.status)) out[step.stepId.replace("[compensate]", "")] = "↺ compensating…";
    return out;
  }, [execution]);

  if (error && !execution) return <ErrorNotice error={error} />;
  if (!execution) return <Loading />;
  const step = execution.steps.find((candidate) => candidate.stepId === selected) ?? null;
  const steps = definition?.steps ?? execution.steps.map((s) => ({ id: s.stepId, type: s.type }));
  const waiting = execution.steps.filter((s) => s.status === "waiting");
  // What each agent step said: as it streams, then (for a viewer who came later) its stored answer.
  const agentTexts = execution.steps
    .filter((s) => s.type === "agent")
    .map((s) => ({
      stepId: s.stepId,
      // Once the step is done its stored answer is the whole truth (tokens sent before the page came are not).
      text: (s.status === "completed" && answerText(s.output)) || tokens[s.stepId]?.text || answerText(s.output),
    }))
    .filter((entry) => entry.text);

  return (
    <section class="execution">
      <header class="page-head">
        <div>
          <h1>
            Execution <code>{shortId(execution.id)}</code> <StatusBadge status={execution.status} />
          </h1>
          <p class="meta">
            {workflow ? <a href={`/workflows/${workflow.id}`}>{workflow.name}</a> : shortId(execution.workflowId)} ·
            version {execution.versionNumber} · run {execution.run} · {execution.triggerType} · started{" "}
            {when(execution.startedAt)} ·{" "}
            {duration(execution.durationMs ?? (execution.startedAt ? now - Date.parse(execution.startedAt) : null))}
          </p>
          {execution.parentExecutionId && (
            <p class="meta">
              child of <a href={`/executions/${execution.parentExecutionId}`}>{shortId(execution.parentExecutionId)}</a>
              {execution.parentStepId ? ` (step ${execution.parentStepId})` : ""}
            </p>
          )}
          <p class="meta">
            tokens {execution.promptTokens} in / {execution.completionTokens} out
            {typeof execution.costUsd === "number" ? ` · $${execution.costUsd.toFixed(4)}` : ""}
            {typeof execution.costBudgetUsd === "number" ? ` of a $${execution.costBudgetUsd} budget` : ""}
          </p>
        </div>
        <p
          class={`stream-state stream-${streamState.state}`}
          role="status"
          data-stream-state={streamState.state}
          data-last-seq={lastSeq}
        >
          {streamState.state === "live" ? "● live" : streamState.state}
          {streamState.detail ? `: ${streamState.detail}` : ""}
        </p>
      </header>
      <ErrorNotice error={error} />
      {execution.syncError && <div class="notice notice-error">Sync error: {execution.syncError}</div>}
      {execution.error && <div class="notice notice-error">Failed: {execution.error.message}</div>}
      {execution.compensation && (
        <div class="notice notice-info" role="status" data-compensation>
          Compensated: {execution.compensation.completed.join(", ") || "none"}
          {execution.compensation.failed.length > 0 &&
            ` · compensation failed: ${execution.compensation.failed.map((f) => `${f.stepId} (${f.error.message})`).join(", ")}`}
          {execution.compensation.notRun.length > 0 &&
            ` · ${execution.status === "compensating" ? "to run" : "not run"}: ${execution.compensation.notRun.join(", ")}`}
        </div>
      )}
      <Controls execution={execution} onDone={() => void load()} />

      {execution.status === "queued" && execution.queue && <QueueNotice queue={execution.queue} />}

      {waiting.length > 0 && (
        <div class="notice notice-info" role="status">
          Waiting:{" "}
          {waiting.map((w) => (
            <span key={w.stepId}>
              <button type="button" class="link" onClick={() => setSelected(w.stepId)}>
                {w.stepId}
              </button>{" "}
              ({w.waiting?.reason ?? "waiting"}
              {w.waiting?.until ? ` until ${when(w.waiting.until)}` : ""}){" "}
            </span>
          ))}
        </div>
      )}

      <div class="grid-2">
        <div class="card">
          <h2>Steps</h2>
          <Dag steps={steps} statuses={statuses} details={details} selected={selected} onSelect={setSelected} />
          <p class="help">Select a step to see its input, output and controls.</p>
        </div>
        <div class="card">
          <h2>{step ? `Step ${step.stepId}` : "Step"}</h2>
          {step ? (
            <StepPanel execution={execution} step={step} text={tokens[step.stepId]?.text} onDone={() => void load()} />
          ) : (
            <p class="empty">No step selected.</p>
          )}
        </div>
      </div>

      {agentTexts.length > 0 && (
        <div class="card">
          <h2>Agent text</h2>
          {agentTexts.map(({ stepId, text }) => (
            <div key={stepId}>
              <h3>{stepId}</h3>
              <ScrollRegion label={`${stepId} agent text`} className="agent-text">
                <pre aria-live="polite" data-agent-text={stepId}>
                  {text}
                </pre>
              </ScrollRegion>
            </div>
          ))}
        </div>
      )}

      <div class="card">
        <h2>Timeline</h2>
        <Timeline steps={[...execution.steps, ...(execution.compensations ?? [])]} now={now} />
      </div>

      <div class="grid-2">
        <div class="card">
          <h2>Live events</h2>
          <ScrollRegion label="Stream events" className="events">
            <ol data-events>
              {events.map((event) => (
                <li key={event.seq} data-seq={event.seq}>
                  <span class="seq">#{event.seq}</span> <code>{event.event}</code>
                  {event.stepId ? ` ${event.stepId}` : ""} <time>{when(event.at)}</time>
                </li>
              ))}
            </ol>
          </ScrollRegion>
          {events.length === 0 && <p class="empty">Events appear here as they happen.</p>}
        </div>
        <div class="card">
          <h2>Logs</h2>
          <Logs executionId={execution.id} version={events.length} />
        </div>
      </div>

      {can("executions:signal") && execution.steps.some((s) => s.type === "event") && (
        <div class="card">
          <h2>Deliver an event</h2>
          <EventForm execution={execution} />
        </div>
      )}
      {can("executions:retry") && !["pending", "queued", "running", "paused"].includes(execution.status) && (
        <div class="card">
          <h2>Rerun from a step</h2>
          <RerunForm execution={execution} steps={steps.map((s) => s.id)} />
        </div>
      )}
    </section>
  );
}

function answerText(output: unknown): string {
  const text = output && typeof output === "object" ? (output as { text?: unknown }).text : undefined;
  return typeof text === "string" ? text : "";
}

function isTerminal(status: StepStatus): boolean {
  return status === "completed" || status === "failed" || status === "skipped";
}

/** Every approval (and budget wait) that the signed-in user may decide now, decided inline. */
import { useState } from "preact/hooks";
import { get, post } from "../api/client";
import type { Approval, Page } from "../api/types";
import { shortId, when } from "../components/format";
import { Empty, ErrorNotice, Loading } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

export function Approvals() {
  const inbox = useResource(() => get<Page<Approval>>("/approvals?limit=200"), []);
  // Decided here: gone at once, though the inbox (synced from the executions) may list them a moment longer.
  const [decided, setDecided] = useState<Set<string>>(() => new Set());
  const open = (inbox.value?.items ?? []).filter((item) => !decided.has(keyOf(item)));
  return (
    <section>
      <h1>Approvals</h1>
      <ErrorNotice error={inbox.error} />
      {inbox.loading && !inbox.value ? (
        <Loading />
      ) : !open.length ? (
        <Empty>Nothing waits for you.</Empty>
      ) : (
        <ul class="cards">
          {open.map((item) => (
            <ApprovalCard
              key={keyOf(item)}
              item={item}
              onDone={() => {
                setDecided((seen) => new Set(seen).add(keyOf(item)));
                void inbox.reload();
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

const keyOf = (item: Approval) => `${item.executionId}/${item.stepId}`;

function ApprovalCard({ item, onDone }: { item: Approval; onDone(): void }) {
  const [comment, setComment] = useState("");
  // Rounded up, so the suggested budget is never a hair short of what the server asks.
  const needed = item.budget ? Math.ceil((item.budget.spentUsd + item.budget.nextCallUsd) * 1e6) / 1e6 : 0;
  const [budget, setBudget] = useState(() => String(needed));
  const { error, run } = useAction();
  const id = `comment-${item.executionId}-${item.stepId}`;
  const decide = async (decision: "approve" | "reject") => {
    const body = {
      ...(comment ? { comment } : {}),
      ...(item.budget && decision === "approve" ? { raiseBudgetUsd: Number(budget) } : {}),
    };
    await run(async () => {
      await post(`/executions/${item.executionId}/steps/${item.stepId}/${decision}`, body);
      onDone();
    });
  };
  return (
    <li class="card" data-approval={keyOf(item)}>
      <h2>
        {item.workflowName} · <code>{item.stepId}</code>
      </h2>
      <p class="meta">
        <a href={`/executions/${item.executionId}`}>execution {shortId(item.executionId)}</a> · waiting since{" "}
        {when(item.waitingSince)}
        {item.expiresAt ? ` · expires ${when(item.expiresAt)}` : ""}
        {item.approverRoles.length ? ` · for ${item.approverRoles.join(", ")}` : ""}
      </p>
      {item.message && <p>{item.message}</p>}
      {item.budget && (
        <>
          <p>
            The next model call could cost up to ${usd(item.budget.nextCallUsd)}; ${usd(item.budget.spentUsd)} of the $
            {usd(item.budget.budgetUsd)} budget is spent.
          </p>
          <label for={`${id}-budget`}>New budget (USD, at least {needed})</label>
          <input
            id={`${id}-budget`}
            type="number"
            min={needed}
            step="any"
            value={budget}
            onInput={(e) => setBudget(e.currentTarget.value)}
          />
        </>
      )}
      <label for={id}>Comment</label>
      <textarea id={id} rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      <div class="controls">
        <button type="button" class="primary" onClick={() => void decide("approve")}>
          {item.budget ? "Raise and continue" : "Approve"}
        </button>
        <button type="button" class="danger" onClick={() => void decide("reject")}>
          Reject
        </button>
      </div>
      <ErrorNotice error={error} />
    </li>
  );
}

/** Dollars to six decimals (model calls cost fractions of a cent), trailing zeros dropped. */
function usd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Every approval waiting now that the signed-in user may decide, decided inline. */
import { useState } from "preact/hooks";
import { get, post } from "../api/client";
import type { Approval, Page } from "../api/types";
import { shortId, when } from "../components/format";
import { Empty, ErrorNotice, Loading } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

export function Approvals() {
  const inbox = useResource(() => get<Page<Approval>>("/approvals"), []);
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
  const { error, run } = useAction();
  const id = `comment-${item.executionId}-${item.stepId}`;
  const decide = async (decision: "approve" | "reject") => {
    await run(async () => {
      await post(`/executions/${item.executionId}/steps/${item.stepId}/${decision}`, comment ? { comment } : {});
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
      <label for={id}>Comment</label>
      <textarea id={id} rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
      <div class="controls">
        <button type="button" class="primary" onClick={() => void decide("approve")}>
          Approve
        </button>
        <button type="button" class="danger" onClick={() => void decide("reject")}>
          Reject
        </button>
      </div>
      <ErrorNotice error={error} />
    </li>
  );
}

/** The audit trail, newest first, and a check of its hash chain. */
import { useState } from "preact/hooks";
import { get } from "../api/client";
import type { AuditEntry, Page } from "../api/types";
import { DataTable } from "../components/data-table";
import { when } from "../components/format";
import { Empty, ErrorNotice, Loading } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

export function Audit() {
  const list = useResource(() => get<Page<AuditEntry>>("/audit?limit=100"), []);
  const [verdict, setVerdict] = useState<{
    valid: boolean;
    checked: number;
    brokenAt?: { seq: number; reason: string };
  }>();
  const { error, run } = useAction();
  const verify = async () => {
    await run(async () => {
      setVerdict(await get("/audit/verify"));
    });
  };
  return (
    <section>
      <h1>Audit log</h1>
      <div class="controls">
        <button type="button" onClick={() => void verify()}>
          Verify the chain
        </button>
        {verdict && (
          <span role="status" class={verdict.valid ? "ok" : "bad"}>
            {verdict.valid
              ? `Intact: ${verdict.checked} entries checked.`
              : `Broken at #${verdict.brokenAt?.seq} (${verdict.brokenAt?.reason}) after ${verdict.checked} entries.`}
          </span>
        )}
      </div>
      <ErrorNotice error={error ?? list.error} />
      {list.loading && !list.value ? (
        <Loading />
      ) : !list.value?.items.length ? (
        <Empty>No entries.</Empty>
      ) : (
        <DataTable caption="Audit entries" columns={["#", "When", "Who", "Action", "Resource"]}>
          {list.value.items.map((entry) => (
            <tr key={entry.id}>
              <td>{entry.seq}</td>
              <td>{when(entry.createdAt)}</td>
              <td>{entry.actorEmail ?? "system"}</td>
              <td>
                <code>{entry.action}</code>
              </td>
              <td>
                {entry.resourceType} {entry.resourceId ? <code>{entry.resourceId.slice(0, 8)}</code> : null}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

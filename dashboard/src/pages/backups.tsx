/** Backups and drills: status, sizes, verify now, and the RPO/RTO the newest drill measured. */
import { useEffect } from "preact/hooks";
import { ApiError, get, post } from "../api/client";
import type { Backup, Page } from "../api/types";
import { DataTable } from "../components/data-table";
import { bytes, duration, shortId, when } from "../components/format";
import { Empty, ErrorNotice, Loading, StatusBadge } from "../components/notices";
import { useAction } from "../components/use-action";
import { useResource } from "../components/use-resource";

interface Drill {
  id: string;
  status: string;
  rtoSeconds?: number | null;
  rpoSeconds?: number | null;
  createdAt: string;
}

export function Backups() {
  const list = useResource(() => get<Page<Backup>>("/admin/backups?limit=50"), []);
  // A backup in progress shows how far it has got: look again every second until none runs.
  const busy = list.value?.items.some((b) => b.status === "pending" || b.status === "running") ?? false;
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => void list.reload(), 1000);
    return () => clearInterval(timer);
  }, [busy, list.reload]);
  const drills = useResource(async () => {
    try {
      return await get<Page<Drill>>("/admin/drills?limit=5");
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return { items: [], nextCursor: null };
      throw error;
    }
  }, []);
  // A drill under way reports when it ends: look again every two seconds until then.
  const drilling = drills.value?.items[0]?.status === "running";
  useEffect(() => {
    if (!drilling) return;
    const timer = setInterval(() => void drills.reload(), 2000);
    return () => clearInterval(timer);
  }, [drilling, drills.reload]);
  const { error, run } = useAction();
  const act = (path: string, body?: unknown) =>
    run(async () => {
      await post(path, body);
      void list.reload();
    });
  const newest = drills.value?.items[0];
  // The data a restore would lose right now: everything since the newest snapshot that finished.
  const lastSnapshot = list.value?.items.find((b) => ["completed", "verified"].includes(b.status) && b.snapshotAt);
  const rpoNow = lastSnapshot?.snapshotAt ? Date.now() - Date.parse(lastSnapshot.snapshotAt) : null;
  return (
    <section>
      <h1>Backups</h1>
      <div class="controls">
        <button type="button" onClick={() => void act("/admin/backups", { kind: "full" })}>
          Full backup now
        </button>
        <button type="button" onClick={() => void act("/admin/backups", { kind: "incremental" })}>
          Incremental now
        </button>
        <button
          type="button"
          onClick={() =>
            void run(async () => {
              await post("/admin/drills");
              void drills.reload();
            })
          }
        >
          Drill now
        </button>
      </div>
      <p class="meta">
        Recovery point now:{" "}
        {rpoNow === null ? "no finished backup yet" : `${duration(rpoNow)} ago (${lastSnapshot?.kind})`}
      </p>
      <p class="meta">
        Newest drill:{" "}
        {newest
          ? `${newest.status}, RTO ${newest.rtoSeconds ?? "—"} s, RPO ${newest.rpoSeconds ?? "—"} s (${when(newest.createdAt)})`
          : "none yet"}
      </p>
      <ErrorNotice error={error ?? list.error} />
      {list.loading && !list.value ? (
        <Loading />
      ) : !list.value?.items.length ? (
        <Empty>No backups yet.</Empty>
      ) : (
        <DataTable
          caption="Backups"
          columns={["Backup", "Kind", "Status", "Snapshot", "Current as of", "Replica", "Size", "Took", ""]}
        >
          {list.value.items.map((backup) => (
            <tr key={backup.id}>
              <td>
                <code>{shortId(backup.id)}</code>
              </td>
              <td>{backup.kind}</td>
              <td>
                <StatusBadge status={backup.status} /> {backup.reason ? <small>{backup.reason}</small> : null}
                {backup.status === "running" && backup.progress ? (
                  <small>
                    {" "}
                    {backup.progress.stage} {backup.progress.tablesDone}/{backup.progress.tablesTotal} tables,{" "}
                    {backup.progress.rows} rows{backup.progress.table ? ` (${backup.progress.table})` : ""}
                  </small>
                ) : null}
              </td>
              <td>{when(backup.snapshotAt)}</td>
              <td>{backup.unchangedAt ? when(backup.unchangedAt) : "—"}</td>
              <td>
                {backup.replica ? <StatusBadge status={backup.replica.status} /> : "—"}
                {backup.replica?.reason ? <small> {backup.replica.reason}</small> : null}
              </td>
              <td>{bytes(backup.sizeBytes)}</td>
              <td>{duration(backup.durationMs)}</td>
              <td>
                {["completed", "verified", "verification_failed"].includes(backup.status) && (
                  <button type="button" onClick={() => void act(`/admin/backups/${backup.id}/verify`)}>
                    Verify now
                  </button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

/** `ipa backups list|start|verify` and `ipa secrets list|set|delete` (admins; workflow secrets with --workflow). */
import type { Backup } from "../api-types.ts";
import type { Command } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { ago } from "../output.ts";
import { required, workflowId } from "../refs.ts";

export const backupsList: Command = {
  usage: "[--limit N]",
  summary: "Backups, newest first",
  options: { limit: { type: "string" } },
  async run({ api, out, flags }) {
    const page = await api.get<{ items: Backup[] }>(`/admin/backups?limit=${flags.limit ?? 20}`);
    out.table(page.items, [
      ["id", (b) => b.id],
      ["kind", (b) => b.kind],
      ["status", (b) => b.status],
      ["rows", (b) => b.rows],
      ["bytes", (b) => b.sizeBytes],
      ["snapshot", (b) => ago(b.snapshotAt)],
      ["verified", (b) => ago(b.verifiedAt)],
    ]);
    return 0;
  },
};

export const backupsStart: Command = {
  usage: "[--kind full|incremental] [--wait]",
  summary: "Start a backup now (it runs in the jobs queue); --wait polls until it has finished",
  options: { kind: { type: "string" }, wait: { type: "boolean" } },
  async run({ api, out, flags }) {
    const kind = String(flags.kind ?? "full");
    if (!["full", "incremental"].includes(kind)) throw new UsageError("--kind is full or incremental");
    const started = await api.post<Backup>("/admin/backups", { kind });
    if (!flags.wait) {
      out.done(`Backup ${started.id} (${kind}) ${started.status}`, started);
      return 0;
    }
    const deadline = Date.now() + 10 * 60_000;
    let shown = "";
    for (;;) {
      const backup = await api.get<Backup & { reason: string | null }>(`/admin/backups/${started.id}`);
      const p = backup.progress;
      const line =
        p && backup.status === "running"
          ? `  ${p.stage}: ${p.tablesDone}/${p.tablesTotal} tables, ${p.rows} rows${p.table ? ` (${p.table})` : ""}`
          : "";
      if (line && line !== shown) {
        out.line(line);
        shown = line;
      }
      if (!["pending", "running"].includes(backup.status)) {
        out.done(`Backup ${backup.id} (${kind}) ${backup.status}${backup.reason ? `: ${backup.reason}` : ""}`, backup);
        return backup.status === "failed" ? 1 : 0;
      }
      if (Date.now() > deadline)
        throw new UsageError(`backup ${started.id} is still ${backup.status} after 10 minutes`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
};

export const backupsVerify: Command = {
  usage: "BACKUP",
  summary:
    "Verify a backup by restoring it (objects against the signed manifest, then a scratch restore); waits for the verdict",
  async run({ api, out, args }) {
    const id = required(args[0], "BACKUP");
    // Verification runs in the jobs queue: wait for a verdict newer than the one before the request.
    const asked = await api.post<Backup>(`/admin/backups/${id}/verify`);
    const before = asked.verification?.checkedAt ?? null;
    const deadline = Date.now() + 10 * 60_000;
    let backup = asked;
    while (!backup.verification || backup.verification.checkedAt === before) {
      if (Date.now() > deadline) throw new CliError(`no verdict on backup ${id} after 10 minutes`);
      await new Promise((r) => setTimeout(r, 500));
      backup = await api.get<Backup>(`/admin/backups/${id}`);
    }
    const { ok, reason, tables, durationMs } = backup.verification;
    const rows = tables.reduce((sum, t) => sum + t.rows, 0);
    out.done(
      ok
        ? `Backup ${id} verified by restore: ${tables.length} tables, ${rows} rows, checksums match (${durationMs} ms)`
        : `Backup ${id} failed verification: ${reason}`,
      backup,
    );
    return ok ? 0 : 1;
  },
};

const scopeOf = async (api: Parameters<Command["run"]>[0]["api"], workflow: unknown) =>
  workflow ? `/workflows/${await workflowId(api, String(workflow))}/secrets` : "/secrets";

export const secretsList: Command = {
  usage: "[--workflow WORKFLOW]",
  summary: "Secret names (values are write-only)",
  options: { workflow: { type: "string" } },
  async run({ api, out, flags }) {
    const page = await api.get<{
      items: Array<{ name: string; allowedHosts: string[] | null; sharedWithUsers?: boolean; updatedAt: string }>;
    }>(await scopeOf(api, flags.workflow));
    out.table(page.items, [
      ["name", (s) => s.name],
      ["hosts", (s) => s.allowedHosts?.join(",") ?? "any"],
      ["shared with users", (s) => (s.sharedWithUsers === undefined ? "-" : s.sharedWithUsers ? "yes" : "no")],
      ["updated", (s) => ago(s.updatedAt)],
    ]);
    return 0;
  },
};

export const secretsSet: Command = {
  usage:
    "NAME [--workflow WORKFLOW] [--hosts api.example.com,*.example.org] [--shared]   (the value is read from stdin, never from the command line)",
  summary:
    "Create or replace a secret, reading its value from stdin; --hosts limits where requests carrying it may go, " +
    "--shared lets users' workflows use a platform secret",
  options: { workflow: { type: "string" }, hosts: { type: "string" }, shared: { type: "boolean" } },
  async run({ api, out, args, flags }) {
    const name = required(args[0], "NAME");
    // From stdin only: a value on the command line would stay in the shell's history and `ps`.
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const value = Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
    if (!value) throw new UsageError('no value on stdin (for example: printf %s "$KEY" | ipa secrets set NAME)');
    if (flags.shared && flags.workflow) throw new UsageError("--shared is for platform secrets (without --workflow)");
    const allowedHosts = flags.hosts
      ? String(flags.hosts)
          .split(",")
          .map((host) => host.trim())
      : undefined;
    await api.put(`${await scopeOf(api, flags.workflow)}/${encodeURIComponent(name)}`, {
      value,
      ...(allowedHosts ? { allowedHosts } : {}),
      ...(flags.shared ? { sharedWithUsers: true } : {}),
    });
    out.done(`Secret ${name} set`, { name });
    return 0;
  },
};

export const secretsDelete: Command = {
  usage: "NAME [--workflow WORKFLOW]",
  summary: "Delete a secret",
  options: { workflow: { type: "string" } },
  async run({ api, out, args, flags }) {
    const name = required(args[0], "NAME");
    await api.request("DELETE", `${await scopeOf(api, flags.workflow)}/${encodeURIComponent(name)}`);
    out.done(`Secret ${name} deleted`, { name });
    return 0;
  },
};

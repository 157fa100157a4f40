/**
 * `npm run restore -- --backup <id> --target <DATABASE_URL> [--until <ISO time>] [--replica]`
 *
 * Restores a backup (a full, or an incremental with its full base and the incrementals before it,
 * up to --until) into an empty database with stock psql, then checks every table's row count and
 * checksum. Reads from the platform at IPA_URL (IPA_TOKEN, or ADMIN_EMAIL / ADMIN_PASSWORD), or
 * straight from R2 with R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY and R2_BUCKET.
 * `--replica` reads the copies in the replica bucket instead (STORAGE_REPLICA through the
 * platform; R2_REPLICA_BUCKET from R2). Encrypted backups need ENCRYPTION_KEYS.
 */

import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { localDevKeys } from "./lib/restore/local-keys.ts";
import { restore, scratchDirectories } from "./lib/restore/restore.ts";
import { openSource } from "./lib/restore/sources.ts";

const { values } = parseArgs({
  options: {
    backup: { type: "string" },
    target: { type: "string" },
    until: { type: "string" },
    "allow-unsigned": { type: "boolean", default: false },
    replica: { type: "boolean", default: false },
  },
});
// Stopped midway, the restore still leaves no decrypted SQL behind.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    for (const dir of scratchDirectories) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}
if (!values.target || (!values.backup && !values.until)) {
  console.error("usage: npm run restore -- --backup <id> --target <DATABASE_URL> [--until <ISO time>] [--replica]");
  process.exit(2);
}
const until = values.until ? new Date(values.until) : undefined;
if (until && Number.isNaN(until.getTime())) {
  console.error(`--until: "${values.until}" is not a time`);
  process.exit(2);
}
try {
  const report = await restore({
    source: await openSource(process.env, { replica: values.replica }),
    target: values.target,
    backupId: values.backup,
    until,
    encryptionKeys: process.env.ENCRYPTION_KEYS ?? localDevKeys(process.env.IPA_URL),
    allowUnsigned: values["allow-unsigned"],
    log: (line) => console.log(line),
  });
  const seconds = (report.elapsedMs / 1000).toFixed(1);
  console.log(`restored ${report.tables} tables, ${report.rows} rows (${report.bytes} bytes stored) in ${seconds} s`);
  if (report.mismatches.length) {
    console.error(`MISMATCH:\n  ${report.mismatches.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`checks: all ${report.tables} tables match the manifest (row counts and checksums)`);
} catch (error) {
  console.error(`restore failed: ${(error as Error).message}`);
  process.exit(1);
}

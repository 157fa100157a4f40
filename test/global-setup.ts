/**
 * Vitest globalSetup (Node), once for every project: a real PostgreSQL with the migrations
 * applied, the Neon WebSocket relay the Worker reaches it through, a second relay the outage
 * tests may cut, and the scripted "outside world" HTTP server.
 */
import { rm } from "node:fs/promises";
import type { TestProject } from "vitest/node";
import { runMigrations } from "../scripts/lib/migrate.ts";
import { freePort } from "../scripts/lib/ports.ts";
import { startPostgres } from "../scripts/lib/postgres.ts";
import { startRelay } from "../scripts/lib/ws-relay.ts";
import { startOutsideWorld } from "./fixtures/outside-world.ts";

export default async function setup(project: TestProject) {
  const dataDir = `${process.cwd()}/.data/test-postgres-${process.pid}`;
  await rm(dataDir, { recursive: true, force: true });
  const pg = await startPostgres({ dataDir, port: await freePort(), password: "test-password" });
  await pg.createDatabase("ipa_test");
  await runMigrations(pg.url("ipa_test"));
  // Backup tests need data nobody else changes while they compare it.
  for (const name of [
    "ipa_backup_test",
    "ipa_incremental_test",
    "ipa_checksum_test",
    "ipa_schedule_test",
    "ipa_partitions_test",
  ]) {
    await pg.createDatabase(name);
    await runMigrations(pg.url(name));
  }
  const target = `127.0.0.1:${pg.port}`;
  const relay = await startRelay({ port: await freePort(), target });
  const outageRelay = await startRelay({ port: await freePort(), target, controllable: true });
  const outside = await startOutsideWorld();

  project.provide("databaseUrl", pg.url("ipa_test"));
  project.provide("backupDatabaseUrl", pg.url("ipa_backup_test"));
  project.provide("incrementalDatabaseUrl", pg.url("ipa_incremental_test"));
  project.provide("checksumDatabaseUrl", pg.url("ipa_checksum_test"));
  project.provide("scheduleDatabaseUrl", pg.url("ipa_schedule_test"));
  project.provide("partitionsDatabaseUrl", pg.url("ipa_partitions_test"));
  project.provide("postgresAdminUrl", pg.url("postgres"));
  project.provide("postgresPort", pg.port);
  project.provide("wsProxy", relay.wsProxy);
  project.provide("directWsProxy", relay.directWsProxy);
  project.provide("outageWsProxy", outageRelay.wsProxy);
  project.provide("outageDirectWsProxy", outageRelay.directWsProxy);
  project.provide("outageControlUrl", `http://127.0.0.1:${outageRelay.port}/control`);
  project.provide("outsideUrl", outside.url);
  project.provide("otherOriginUrl", outside.otherOriginUrl);

  return async () => {
    await outside.close();
    await outageRelay.close();
    await relay.close();
    await pg.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

declare module "vitest" {
  interface ProvidedContext {
    databaseUrl: string;
    backupDatabaseUrl: string;
    incrementalDatabaseUrl: string;
    checksumDatabaseUrl: string;
    scheduleDatabaseUrl: string;
    partitionsDatabaseUrl: string;
    postgresAdminUrl: string;
    postgresPort: number;
    wsProxy: string;
    directWsProxy: string;
    outageWsProxy: string;
    outageDirectWsProxy: string;
    outageControlUrl: string;
    outsideUrl: string;
    otherOriginUrl: string;
  }
}

/**
 * The restore CLI against a real platform (`npm run dev`): backups taken by the Worker through its
 * jobs queue and R2, restored with stock psql into fresh databases, then compared.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiOf, type DevStack, startDevStack } from "../../scripts/lib/dev-stack.ts";
import { type FakeBucket, serveBucket } from "./helpers/s3-bucket.ts";

const dataDir = await mkdtemp(`${tmpdir()}/ipa-restore-test-`);
const admin = { email: "restore@example.test", password: "restore-password-123" };
let stack: DevStack;
let api: Awaited<ReturnType<typeof apiOf>>;

beforeAll(async () => {
  stack = await startDevStack({ dataDir, admin });
  api = await apiOf(stack, admin);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function backup(kind: "full" | "incremental") {
  const started = await api("/admin/backups", { kind });
  expect(started.status).toBe(202);
  for (let i = 0; i < 240; i++) {
    const row = await api(`/admin/backups/${started.body.id}`);
    if (["completed", "verified"].includes(row.body.status)) return row.body;
    if (row.body.status === "failed") throw new Error(`backup failed: ${row.body.reason}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("backup did not finish");
}

async function freshDatabase(name: string): Promise<string> {
  const url = new URL(await stack.postgresUrl());
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  url.pathname = `/${name}`;
  return url.toString();
}

function runRestore(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["scripts/restore.ts", ...args], {
      env: {
        ...process.env,
        IPA_URL: stack.url,
        IPA_DATA_DIR: dataDir,
        ADMIN_EMAIL: admin.email,
        ADMIN_PASSWORD: admin.password,
        ...extraEnv,
      },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
}

async function rowsOf(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe("npm run restore", () => {
  it("restores a full backup with psql into a fresh database, with identical counts and checksums", async () => {
    const wf = await api("/workflows", { name: "restore me" });
    await api(`/workflows/${wf.body.id}/versions`, {
      definition: { steps: [{ id: "t", type: "transform", output: "{{input.n}}" }] },
    });
    for (let n = 0; n < 3; n++) await api(`/workflows/${wf.body.id}/executions`, { input: { n } });
    await new Promise((r) => setTimeout(r, 1000));
    const full = await backup("full");

    const target = await freshDatabase("restored_full");
    const { code, output } = await runRestore(["--backup", full.id, "--target", target]);
    expect(output).toContain(`checks: all ${full.manifest.tables.length} tables match the manifest`);
    expect(code).toBe(0);
    expect(output).toMatch(/restored \d+ tables, \d+ rows \(\d+ bytes stored\) in [\d.]+ s/);
    for (const table of full.manifest.tables) {
      const [{ n }] = await rowsOf(target, `select count(*)::int as n from "${table.name}"`);
      expect(n, table.name).toBe(table.rows);
    }
    expect(await rowsOf(target, "select name from workflows where id = $1", [wf.body.id])).toEqual([
      { name: "restore me" },
    ]);
    // The restore knows its migrations: applying them again changes nothing.
    const migrated = await rowsOf(target, "select count(*)::int as n from drizzle.__drizzle_migrations");
    expect(migrated[0].n).toBe(full.manifest.migrations.length);
    expect((await runRestore(["--backup", full.id, "--target", target])).output).toContain("not empty");
  }, 300_000);

  it("applies incrementals up to --until: later rows are absent and a deleted row stays deleted", async () => {
    const agent = await api("/agents", {
      name: "doomed agent",
      type: "custom",
      configuration: { provider: "builtin" },
    });
    const tool = await api(`/agents/${agent.body.id}/tools`, {
      toolName: "clock",
      toolType: "builtin",
      configuration: { builtin: "current_time" },
    });
    const full = await backup("full");

    await api(`/agents/${agent.body.id}/tools/${tool.body.id}`, undefined, "DELETE");
    const early = await api("/users", {
      email: "early@example.test",
      username: "early",
      password: "early-password-123",
      roles: ["viewer"],
    });
    const first = await backup("incremental");
    expect(first.manifest.previous.id).toBe(full.id);
    await new Promise((r) => setTimeout(r, 1100));
    const late = await api("/users", {
      email: "late@example.test",
      username: "late",
      password: "late-password-123",
      roles: ["viewer"],
    });
    const second = await backup("incremental");

    const until = new Date(new Date(first.snapshotAt).getTime() + 500).toISOString();
    const target = await freshDatabase("restored_until");
    const { code, output } = await runRestore(["--backup", second.id, "--until", until, "--target", target]);
    expect(output).toContain(`incremental ${first.id}`);
    expect(output).not.toContain(`incremental ${second.id}`);
    expect(code, output).toBe(0);
    expect(await rowsOf(target, "select id from users where id = $1", [early.body.id])).toHaveLength(1);
    expect(await rowsOf(target, "select id from users where id = $1", [late.body.id])).toHaveLength(0);
    expect(await rowsOf(target, "select id from agent_tools where id = $1", [tool.body.id])).toHaveLength(0);

    const everything = await freshDatabase("restored_all");
    const all = await runRestore(["--backup", second.id, "--target", everything]);
    expect(all.code, all.output).toBe(0);
    expect(await rowsOf(everything, "select id from users where id = $1", [late.body.id])).toHaveLength(1);

    const verify = await api(`/admin/backups/${second.id}/verify`, {});
    expect(verify.status).toBe(202);
    for (let i = 0; i < 120; i++) {
      const row = await api(`/admin/backups/${second.id}`);
      if (row.body.status === "verified") return;
      if (row.body.status === "verification_failed") throw new Error(`verification failed: ${row.body.reason}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error("verification did not finish");
  }, 300_000);

  it("restores to a minute boundary from the replica bucket: writes before it are in, writes after it are not", async () => {
    const person = (name: string) =>
      api("/users", {
        email: `${name}@example.test`,
        username: name,
        password: `${name}-password-123`,
        roles: ["viewer"],
      });
    await backup("full");
    const before = await person("before-minute");
    const first = await backup("incremental");
    // The first whole minute after that snapshot, and writes after it.
    const boundary = new Date(Math.floor(new Date(first.snapshotAt).getTime() / 60_000 + 1) * 60_000);
    await new Promise((r) => setTimeout(r, Math.max(0, boundary.getTime() - Date.now() + 200)));
    const after = await person("after-minute");
    const second = await backup("incremental");
    expect(new Date(second.snapshotAt).getTime()).toBeGreaterThan(boundary.getTime());
    for (const id of [first.id, second.id]) await replicated(id);

    const target = await freshDatabase("restored_minute");
    const restored = await runRestore([
      "--backup",
      second.id,
      "--until",
      boundary.toISOString(),
      "--target",
      target,
      "--replica",
    ]);
    expect(restored.code, restored.output).toBe(0);
    expect(restored.output).toContain("(its replica bucket)");
    expect(restored.output).toContain(`incremental ${first.id}`);
    expect(restored.output).not.toContain(`incremental ${second.id}`);
    expect(await rowsOf(target, "select id from users where id = $1", [before.body.id])).toHaveLength(1);
    expect(await rowsOf(target, "select id from users where id = $1", [after.body.id])).toHaveLength(0);
  }, 300_000);
});

/** Waits for the platform to have copied a backup to its replica bucket. */
async function replicated(id: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const row = await api(`/admin/backups/${id}`);
    if (row.body.replica?.status === "copied") return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`backup ${id} was not copied to the replica`);
}

/**
 * An attacker with write access to the bucket alone: the backup's objects and manifest copied
 * to a bucket they control, then changed as consistently as they can without the keyring.
 */
describe("npm run restore from a bucket an attacker wrote to", () => {
  const marker = `${dataDir}/attacker-was-here`;
  let original: { id: string; prefix: string; manifest: any; objects: Map<string, Uint8Array> };
  let bucket: FakeBucket;
  let keys: string;

  beforeAll(async () => {
    const full = await backup("full");
    const token = (await login()).accessToken;
    const objects = new Map<string, Uint8Array>();
    for (const object of full.manifest.objects) {
      const res = await fetch(`${stack.url}/api/v1/admin/backups/${full.id}/objects/${object.name}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      objects.set(`${full.prefix}${object.name}`, new Uint8Array(await res.arrayBuffer()));
    }
    original = { id: full.id, prefix: full.prefix, manifest: full.manifest, objects };
    bucket = await serveBucket("ipa-platform-data", new Map());
    keys = JSON.stringify(JSON.parse(await readFile(`${dataDir}/dev-secrets.json`, "utf8")).encryptionKeys);
  }, 300_000);

  afterAll(() => bucket?.close());

  /** Puts the backup in the attacker's bucket with `change` applied to its manifest and objects. */
  function plant(change: (manifest: any, objects: Map<string, Uint8Array>) => void) {
    const manifest = structuredClone(original.manifest);
    const objects = new Map(original.objects);
    change(manifest, objects);
    bucket.objects.clear();
    for (const [key, bytes] of objects) bucket.objects.set(key, bytes);
    bucket.objects.set(`${original.prefix}manifest.json`, new TextEncoder().encode(JSON.stringify(manifest)));
  }

  /** Replaces the schema object with the attacker's SQL, updating its size and hash in the manifest. */
  function forgeSchemaObject(manifest: any, objects: Map<string, Uint8Array>, sql: string) {
    const bytes = new Uint8Array(gzipSync(sql));
    const schema = manifest.objects[0];
    schema.bytes = bytes.length;
    schema.sha256 = createHash("sha256").update(bytes).digest("hex");
    manifest.encryption = null;
    objects.set(`${original.prefix}${schema.name}`, bytes);
  }

  async function attackerLeftNothing(target: string) {
    expect(await rowsOf(target, "select tablename from pg_tables where tablename = 'pwned'")).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  }

  it("refuses a forged manifest and object pair, changed consistently, and runs none of it", async () => {
    plant((manifest, objects) => forgeSchemaObject(manifest, objects, "CREATE TABLE public.pwned (x int);\n"));
    const target = await freshDatabase("attacked_forged");
    const forged = await runRestore(["--backup", original.id, "--target", target], {
      ...bucket.env,
      ENCRYPTION_KEYS: keys,
    });
    expect(forged.code).toBe(1);
    expect(forged.output).toContain(`backup ${original.id}: the manifest's signature does not match its contents`);
    expect(await rowsOf(target, "select count(*)::int as n from pg_tables where schemaname = 'public'")).toEqual([
      { n: 0 },
    ]);
    await attackerLeftNothing(target);

    // Without the signature, or without the keys to check it, nothing is restored either.
    plant((manifest, objects) => {
      forgeSchemaObject(manifest, objects, "CREATE TABLE public.pwned (x int);\n");
      delete manifest.signature;
    });
    const stripped = await runRestore(["--backup", original.id, "--target", target], {
      ...bucket.env,
      ENCRYPTION_KEYS: keys,
    });
    expect(stripped.output).toContain("the manifest is not signed");
    const keyless = await runRestore(["--backup", original.id, "--target", target], bucket.env);
    expect(keyless.output).toContain("set ENCRYPTION_KEYS to check the manifests' signatures");
    await attackerLeftNothing(target);

    // The untouched copy restores: the refusals above are the forgery's doing.
    plant(() => {});
    const honest = await runRestore(["--backup", original.id, "--target", target], {
      ...bucket.env,
      ENCRYPTION_KEYS: keys,
    });
    expect(honest.code, honest.output).toBe(0);
  }, 120_000);

  it("refuses, picked by time, a bucket rolled back to older backups than the catalog holds; warns when it cannot ask", async () => {
    plant(() => {});
    // The catalog now holds a newer full backup than the bucket does.
    await backup("full");
    const target = await freshDatabase("attacked_rollback");
    const now = new Date().toISOString();
    const stale = await runRestore(["--until", now, "--target", target], { ...bucket.env, ENCRYPTION_KEYS: keys });
    expect(stale.code).toBe(1);
    expect(stale.output).toContain("it may have been rolled back");
    expect(await rowsOf(target, "select count(*)::int as n from pg_tables where schemaname = 'public'")).toEqual([
      { n: 0 },
    ]);
    const unchecked = await runRestore(["--until", now, "--target", target], {
      ...bucket.env,
      ENCRYPTION_KEYS: keys,
      IPA_URL: "http://127.0.0.1:9",
    });
    expect(unchecked.output).toContain("WARNING: the platform's catalog could not be reached");
    expect(unchecked.code, unchecked.output).toBe(0);
  }, 180_000);

  it("refuses a backslash command even with --allow-unsigned, and nothing of its object stays", async () => {
    plant((manifest, objects) =>
      forgeSchemaObject(manifest, objects, `CREATE TABLE public.pwned (x int);\n\\! touch ${marker}\n`),
    );
    const target = await freshDatabase("attacked_meta");
    const { code, output } = await runRestore(["--backup", original.id, "--target", target, "--allow-unsigned"], {
      ...bucket.env,
    });
    expect(output).toContain("WARNING: --allow-unsigned");
    expect(code).toBe(1);
    expect(output).toContain("line 2 holds a backslash outside a string: psql would run it as a meta-command");
    await attackerLeftNothing(target);
  }, 120_000);

  it("refuses an object name that would leave its temporary directory", async () => {
    const outside = `${dataDir}/escaped.sql.gz`;
    plant((manifest, objects) => {
      forgeSchemaObject(manifest, objects, "CREATE TABLE public.pwned (x int);\n");
      const name = `../../../../../../..${outside}`;
      objects.set(
        `${original.prefix}${name}`,
        objects.get(`${original.prefix}${manifest.objects[0].name}`) as Uint8Array,
      );
      manifest.objects[0].name = name;
    });
    const target = await freshDatabase("attacked_path");
    const { code, output } = await runRestore(["--backup", original.id, "--target", target, "--allow-unsigned"], {
      ...bucket.env,
    });
    expect(code).toBe(1);
    expect(output).toContain(`backup ${original.id}: manifest refused: objects.0.name`);
    expect(existsSync(outside)).toBe(false);
    await attackerLeftNothing(target);
  }, 120_000);
});

async function login(): Promise<{ accessToken: string }> {
  const res = await fetch(`${stack.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(admin),
  });
  return (await res.json()) as { accessToken: string };
}

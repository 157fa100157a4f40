/**
 * Where the restore CLI reads backups from: the running platform's admin API (IPA_URL with an
 * admin token, or ADMIN_EMAIL / ADMIN_PASSWORD), or straight from R2's S3 API when the platform
 * itself is down (R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_BUCKET). Either way it
 * can read the replica bucket's copies instead (`replica`: STORAGE_REPLICA behind the platform,
 * R2_REPLICA_BUCKET in R2); the manifests' signatures and the objects' hashes are checked the same.
 */
import { Readable } from "node:stream";
import { type Manifest, ManifestSchema } from "../../../src/backup/manifest.ts";
import { answer, connectApi } from "../api-client.ts";
import { r2Client } from "./r2-client.ts";

export interface BackupRef {
  id: string;
  kind: "full" | "incremental";
  snapshotAt: string;
  manifest: Manifest;
  /** The manifest as stored, which its signature covers. */
  raw: unknown;
}

/** A manifest as the source gave it, parsed; one that breaks the rules (object names that are paths, say) is refused. */
export function parseManifest(id: string, raw: unknown): Manifest {
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problem = parsed.error.issues[0];
    throw new Error(`backup ${id}: manifest refused: ${problem.path.join(".")}: ${problem.message}`);
  }
  if (parsed.data.id !== id) throw new Error(`backup ${id}: the manifest is for backup ${parsed.data.id}`);
  return parsed.data;
}

export interface BackupSource {
  describe: string;
  /** The backup with its manifest. */
  backup(id: string): Promise<BackupRef>;
  /** Backups that finished, newest snapshot first (to pick one by time). */
  finished(): Promise<Array<{ id: string; snapshotAt: string }>>;
  object(backup: BackupRef, name: string): Promise<Readable>;
  /**
   * A bucket read directly: the platform's catalog of the backups it holds (those it copied, for
   * the replica), to tell a bucket rolled back to older backups from a current one; null when the
   * platform cannot be reached to ask.
   */
  catalog?(): Promise<Array<{ id: string; snapshotAt: string }> | null>;
}

export interface SourceOptions {
  /** Read the replica bucket's copies. */
  replica?: boolean;
}

export async function openSource(env: NodeJS.ProcessEnv, options: SourceOptions = {}): Promise<BackupSource> {
  if (env.R2_ACCOUNT_ID && env.R2_ACCESS_KEY_ID && env.R2_SECRET_ACCESS_KEY && env.R2_BUCKET) {
    const catalog = () => catalogOf(env, options.replica ? "replica" : "primary");
    if (!options.replica) return { ...r2Source(env, env.R2_BUCKET), catalog };
    if (!env.R2_REPLICA_BUCKET) throw new Error("--replica from R2 needs R2_REPLICA_BUCKET");
    return { ...r2Source(env, env.R2_REPLICA_BUCKET), catalog };
  }
  return apiSource(env, options.replica ? "replica" : "primary");
}

async function apiSource(env: NodeJS.ProcessEnv, bucket: "primary" | "replica"): Promise<BackupSource> {
  const api = await connectApi(env);
  const { backups } = api.client.api.v1.admin;
  const backup = async (id: string): Promise<BackupRef> => {
    const row = await answer(`backup ${id}`, backups[":id"].$get({ param: { id } }));
    if (!row.manifest || !row.snapshotAt) throw new Error(`backup ${id} is ${row.status}; it has no manifest`);
    return {
      id,
      kind: row.kind,
      snapshotAt: row.snapshotAt,
      manifest: parseManifest(id, row.manifest),
      raw: row.manifest,
    };
  };
  return {
    describe: `the platform at ${api.baseUrl}${bucket === "replica" ? " (its replica bucket)" : ""}`,
    backup,
    finished: async () => {
      const out: Array<{ id: string; snapshotAt: string }> = [];
      let cursor: string | undefined;
      do {
        const page = await answer("list backups", backups.$get({ query: { limit: "200", cursor } }));
        for (const item of page.items) {
          if (item.snapshotAt && ["completed", "verified"].includes(item.status))
            out.push({ id: item.id, snapshotAt: item.snapshotAt });
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out.sort((a, b) => b.snapshotAt.localeCompare(a.snapshotAt));
    },
    object: async (ref, name) => {
      const res = await backups[":id"].objects[":name"].$get({
        param: { id: ref.id, name: encodeURIComponent(name) },
        query: { bucket },
      });
      if (res.status !== 200 || !res.body)
        throw new Error(`object ${name} of ${ref.id}: the platform answered ${res.status}`);
      return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
    },
  };
}

/** How long the restore waits for the platform's catalog before saying it could not check. */
const CATALOG_TIMEOUT_MS = 10_000;

/** The finished backups the platform's catalog holds in `bucket`, or null when it cannot be asked. */
async function catalogOf(
  env: NodeJS.ProcessEnv,
  bucket: "primary" | "replica",
): Promise<Array<{ id: string; snapshotAt: string }> | null> {
  const asking = (async () => {
    const api = await connectApi(env);
    const out: Array<{ id: string; snapshotAt: string }> = [];
    let cursor: string | undefined;
    do {
      const page = await answer(
        "list backups",
        api.client.api.v1.admin.backups.$get({ query: { limit: "200", cursor } }),
      );
      for (const item of page.items) {
        const held = bucket === "primary" || item.replica?.status === "copied";
        if (item.snapshotAt && held && ["completed", "verified"].includes(item.status))
          out.push({ id: item.id, snapshotAt: item.snapshotAt });
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  })();
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), CATALOG_TIMEOUT_MS).unref());
  return Promise.race([asking.catch(() => null), timeout]);
}

function r2Source(env: NodeJS.ProcessEnv, bucket: string): BackupSource {
  // R2_ENDPOINT for a bucket under a jurisdiction (https://<account>.eu.r2.cloudflarestorage.com).
  const host = env.R2_ENDPOINT ?? `https://${env.R2_ACCOUNT_ID}.r2.cloudflarestorage.com`;
  const endpoint = new URL(`${host.replace(/\/$/, "")}/${bucket}/`);
  const credentials = {
    accessKeyId: env.R2_ACCESS_KEY_ID as string,
    secretAccessKey: env.R2_SECRET_ACCESS_KEY as string,
    region: "auto",
  };
  const r2 = r2Client(credentials);
  const get = async (url: URL) => {
    const res = await r2.get(url);
    if (!res.ok) throw new Error(`R2 answered ${res.status} for ${url.pathname}`);
    return res;
  };
  const manifestKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    let token: string | null = null;
    do {
      const url = new URL(endpoint);
      url.searchParams.set("list-type", "2");
      url.searchParams.set("prefix", "backups/");
      if (token) url.searchParams.set("continuation-token", token);
      const xml = await (await get(url)).text();
      keys.push(...[...xml.matchAll(/<Key>([^<]+manifest\.json)<\/Key>/g)].map((m) => m[1]));
      token = /<NextContinuationToken>([^<]+)</.exec(xml)?.[1] ?? null;
    } while (token);
    return keys;
  };
  const prefixes = new Map<string, string>();
  const backup = async (id: string): Promise<BackupRef> => {
    if (!prefixes.size)
      for (const key of await manifestKeys())
        prefixes.set(key.split("/").at(-2) as string, key.replace(/manifest\.json$/, ""));
    const prefix = prefixes.get(id);
    if (!prefix) throw new Error(`backup ${id} has no manifest in bucket ${bucket}`);
    const raw: unknown = await (await get(new URL(`${prefix}manifest.json`, endpoint))).json();
    const manifest = parseManifest(id, raw);
    return { id, kind: manifest.kind, snapshotAt: manifest.snapshotAt, manifest, raw };
  };
  return {
    describe: `R2 bucket ${bucket}`,
    backup,
    finished: async () => {
      const refs = await Promise.all((await manifestKeys()).map((key) => backup(key.split("/").at(-2) as string)));
      return refs
        .map((ref) => ({ id: ref.id, snapshotAt: ref.snapshotAt }))
        .sort((a, b) => b.snapshotAt.localeCompare(a.snapshotAt));
    },
    object: async (ref, name) => {
      if (!prefixes.has(ref.id)) await backup(ref.id);
      const prefix = prefixes.get(ref.id);
      const res = await get(new URL(`${prefix}${name}`, endpoint));
      return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream);
    },
  };
}

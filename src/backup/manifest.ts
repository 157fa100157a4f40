/** The manifest of a backup (docs/backups.md): what was stored, what the data was, and what it builds on. */
import { z } from "zod";

export const MANIFEST_FORMAT = "ipa-backup/1";

/** Object names a manifest may list: a file name, never a path (the restore CLI joins them to a directory). */
export const OBJECT_NAME = /^[A-Za-z0-9._-]+$/;

const Reference = z.object({ id: z.uuid(), snapshotAt: z.string(), snapshot: z.string() });

export const ManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  id: z.uuid(),
  kind: z.enum(["full", "incremental"]),
  createdAt: z.string(),
  snapshotAt: z.string(),
  /** pg_current_snapshot() of the backup's transaction. */
  snapshot: z.string(),
  serverVersion: z.string(),
  /** Applied drizzle migrations, so a restore can mark its database migrated. */
  migrations: z.array(z.object({ hash: z.string(), createdAt: z.number() })),
  base: Reference.nullable(),
  previous: Reference.nullable(),
  compression: z.literal("gzip"),
  encryption: z.object({ algorithm: z.literal("AES-256-GCM"), keyId: z.string(), chunkBytes: z.number() }).nullable(),
  /** Session settings under which row text (and so the checksums) is computed. */
  settings: z.array(z.string()),
  objects: z.array(
    z.object({
      name: z
        .string()
        .regex(OBJECT_NAME)
        .refine((name) => name !== "." && name !== "..", "not a file name"),
      role: z.enum(["pre-data", "data", "post-data", "changes"]),
      bytes: z.number(),
      sha256: z.string(),
      table: z.string().optional(),
      rows: z.number().optional(),
    }),
  ),
  tables: z.array(z.object({ name: z.string(), rows: z.number(), checksum: z.string(), chunkRows: z.number() })),
  changes: z.object({ upserts: z.number(), deletes: z.number(), truncated: z.array(z.string()) }).optional(),
  /** HMAC over the rest (see manifest-signature.ts). */
  signature: z.object({ keyId: z.string(), hmacSha256: z.string() }).optional(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type ManifestObject = Manifest["objects"][number];

export const MANIFEST_NAME = "manifest.json";

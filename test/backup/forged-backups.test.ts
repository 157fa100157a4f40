/**
 * An attacker with write access to the bucket (and, further down, to the catalog too) but not to
 * the keyring: every forgery is refused by verification, and nothing the attacker wrote runs.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { statement } from "../../src/backup/sql-text";
import { toHex, utf8 } from "../../src/crypto/encoding";
import { backupHarness } from "../helpers/backup";

const { sql, takeBackup, verify } = backupHarness(env.TEST_BACKUP_DATABASE_URL);
const PLAIN = { BACKUP_ENCRYPTION: "off" };
// In the objects' own format (a statement, then its end marker), so the verifier would run it.
const EVIL = statement("CREATE TABLE public.pwned (x int)");

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function gunzip(bytes: Uint8Array): Promise<string> {
  return new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
}

const sha256 = async (bytes: Uint8Array | string) =>
  toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", typeof bytes === "string" ? utf8(bytes) : bytes)));

const stored = async (key: string) =>
  new Uint8Array(await ((await env.STORAGE.get(key)) as R2ObjectBody).arrayBuffer());

type Backup = { id: string; prefix: string; manifest: any };

/**
 * Rewrites the users object (its rows kept, one statement added) and the manifest with the
 * object's new size and hash, consistently, as someone holding the bucket but not the keys would.
 * Returns the forged manifest's text.
 */
async function forge(backup: Backup, change: (manifest: Backup["manifest"]) => void = () => {}) {
  const object = backup.manifest.objects.find((o: { table?: string }) => o.table === "users");
  const key = `${backup.prefix}${object.name}`;
  const rows = backup.manifest.encryption ? "" : await gunzip(await stored(key));
  const bytes = await gzip(rows + EVIL);
  await env.STORAGE.put(key, bytes);
  const manifest = structuredClone(backup.manifest);
  const entry = manifest.objects.find((o: { name: string }) => o.name === object.name);
  entry.bytes = bytes.length;
  entry.sha256 = await sha256(bytes);
  change(manifest);
  const text = JSON.stringify(manifest);
  await env.STORAGE.put(`${backup.prefix}manifest.json`, text);
  return text;
}

/** The attacker can write the catalog too: its manifest hash now matches the forged manifest. */
async function forgeCatalog(backup: Backup, manifestText: string) {
  await sql("update backups set manifest_sha256 = $2 where id = $1", [backup.id, await sha256(manifestText)]);
}

async function attackerRanNothing() {
  // Neither in the platform's database (where the verifier's scratch schema lives) nor anywhere else.
  expect(await sql("select 1 from pg_tables where tablename = 'pwned'")).toEqual([]);
  expect(await sql("select 1 from pg_namespace where nspname like 'ipa_verify_%'")).toEqual([]);
}

describe("forged backups", () => {
  beforeEach(async () => {
    await sql("drop table if exists public.pwned");
  });

  it("refuses a forged object and manifest pair: the manifest differs from the catalog's hash", async () => {
    const backup = await takeBackup("full", PLAIN);
    await forge(backup);
    const verdict = await verify(backup.id, {}, PLAIN);
    expect(verdict).toMatchObject({
      ok: false,
      reason: `manifest of backup ${backup.id} differs from the one the catalog recorded`,
    });
    const [row] = await sql<{ status: string }>("select status from backups where id = $1", [backup.id]);
    expect(row.status).toBe("verification_failed");
    await attackerRanNothing();
  });

  it("refuses the pair even when the catalog was changed to match: the signature does not", async () => {
    const backup = await takeBackup("full", PLAIN);
    await forgeCatalog(backup, await forge(backup));
    expect(await verify(backup.id, {}, PLAIN)).toMatchObject({
      ok: false,
      reason: `manifest of backup ${backup.id}: the manifest's signature does not match its contents`,
    });
    await attackerRanNothing();

    // Without a signature at all, or with one from a key the platform does not hold: refused too.
    await forgeCatalog(backup, await forge(backup, (manifest) => delete manifest.signature));
    expect((await verify(backup.id, {}, PLAIN)).reason).toBe(
      `manifest of backup ${backup.id}: the manifest is not signed`,
    );
    await forgeCatalog(backup, await forge(backup, (manifest) => (manifest.signature.keyId = "attacker")));
    expect((await verify(backup.id, {}, PLAIN)).reason).toBe(
      `manifest of backup ${backup.id}: the manifest is signed with key "attacker", which is not in ENCRYPTION_KEYS`,
    );
    await attackerRanNothing();
  });

  it('cannot switch decryption off with "encryption": null in the manifest', async () => {
    // Encrypted by default: the attacker cannot write ciphertext, so they write plaintext and say so.
    const backup = await takeBackup("full");
    expect(backup.manifest.encryption).not.toBeNull();
    await forgeCatalog(backup, await forge(backup, (manifest) => (manifest.encryption = null)));
    expect((await verify(backup.id)).reason).toBe(
      `manifest of backup ${backup.id}: the manifest's signature does not match its contents`,
    );
    await attackerRanNothing();

    // A genuinely signed unencrypted backup is refused too while the platform encrypts.
    const plain = await takeBackup("full", PLAIN);
    expect((await verify(plain.id)).reason).toBe(
      `backup ${plain.id} is not encrypted, and this platform encrypts its backups`,
    );
  });

  it("reads only the version of an object it checked: one swapped in after the check is refused", async () => {
    const backup = await takeBackup("full", PLAIN);
    const object = backup.manifest.objects.find((o: { table?: string }) => o.table === "users");
    const key = `${backup.prefix}${object.name}`;
    const verdict = await verify(
      backup.id,
      {
        beforeLoad: async () => {
          await env.STORAGE.put(key, await gzip((await gunzip(await stored(key))) + EVIL));
        },
      },
      PLAIN,
    );
    expect(verdict).toMatchObject({ ok: false, reason: `object ${object.name} changed after it was checked` });
    await attackerRanNothing();
  });

  it("still verifies the untouched backups (the refusals above are the forgeries' doing)", async () => {
    const plain = await takeBackup("full", PLAIN);
    expect(await verify(plain.id, {}, PLAIN)).toMatchObject({ ok: true });
    const encrypted = await takeBackup("full");
    expect(await verify(encrypted.id)).toMatchObject({ ok: true });
  });
});

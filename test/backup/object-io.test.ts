import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { measureObject, readStatements } from "../../src/backup/object-reader";
import { ObjectWriter, PART_BYTES } from "../../src/backup/object-writer";
import { literal, statement } from "../../src/backup/sql-text";
import { settings } from "../../src/config";
import { toHex } from "../../src/crypto/encoding";
import { keyringOf } from "../../src/crypto/keyring-of";

/** Incompressible statements, so the stored object outgrows one multipart part. */
function randomStatements(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const noise = toHex(crypto.getRandomValues(new Uint8Array(2048)));
    return statement(`INSERT INTO t VALUES (${i}, ${literal(`${noise}\nline's end\\`)})`);
  });
}

describe("backup objects", () => {
  it("uploads large objects in equal multipart parts and reads every statement back", async () => {
    const statements = randomStatements(5_000);
    const writer = new ObjectWriter(env.STORAGE, "test/multipart/plain.sql.gz", "plain.sql.gz", null);
    for (const text of statements) await writer.write(text);
    const stored = await writer.close();
    expect(stored.bytes).toBeGreaterThan(PART_BYTES);
    expect(await measureObject(env.STORAGE, stored.key, stored.name)).toEqual({
      bytes: stored.bytes,
      sha256: stored.sha256,
      etag: expect.any(String),
    });
    const back: string[] = [];
    for await (const sql of readStatements(env.STORAGE, stored.key, stored.name, null)) back.push(sql);
    expect(back).toHaveLength(5_000);
    expect(back[1234]).toBe(statements[1234].split("\n-- ipa:end")[0]);
  });

  it("encrypts in chunks that refuse to be reordered, moved or cut short", async () => {
    const context = (objectName: string) => ({
      keyring: keyringOf(settings(env)),
      keyId: "k2",
      backupId: "b-1",
      objectName,
    });
    const statements = randomStatements(1_500);
    const writer = new ObjectWriter(env.STORAGE, "test/enc/a.sql.gz.enc", "a.sql.gz.enc", context("a.sql.gz.enc"));
    for (const text of statements) await writer.write(text);
    const stored = await writer.close();
    const read = async (key: string, name: string) => {
      let n = 0;
      for await (const _ of readStatements(env.STORAGE, key, name, context(name))) n++;
      return n;
    };
    expect(await read(stored.key, stored.name)).toBe(1_500);
    // The same bytes under another object name do not open.
    const bytes = new Uint8Array(await ((await env.STORAGE.get(stored.key)) as R2ObjectBody).arrayBuffer());
    await env.STORAGE.put("test/enc/b.sql.gz.enc", bytes);
    await expect(read("test/enc/b.sql.gz.enc", "b.sql.gz.enc")).rejects.toThrow();
    // Cut after the first chunk: the now-last chunk was not sealed as the last.
    const firstLength = new DataView(bytes.buffer).getUint32(0);
    await env.STORAGE.put("test/enc/a-cut.sql.gz.enc", bytes.slice(0, 4 + firstLength));
    await expect(read("test/enc/a-cut.sql.gz.enc", "a.sql.gz.enc")).rejects.toThrow(/chunk does not decrypt/);
  });
});

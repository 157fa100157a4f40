import { describe, expect, it } from "vitest";
import { fromBase64, toBase64Url } from "../../src/crypto/encoding";
import { Keyring, KeyringError } from "../../src/crypto/keyring";

const K1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const K2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
const row = { table: "agents", column: "api_key", rowId: "0b0e6f3a-1111-4c4c-9999-000000000001" };

describe("keyring", () => {
  it("round-trips a value with a fresh IV each time", async () => {
    const ring = Keyring.fromSettings(JSON.stringify({ k1: K1 }), "k1");
    const a = await ring.encrypt("sk-secret", row);
    const b = await ring.encrypt("sk-secret", row);
    expect(a).not.toBe(b);
    expect(a).not.toContain("sk-secret");
    expect(await ring.decrypt(a, row)).toBe("sk-secret");
    expect(ring.keyIdOf(a)).toBe("k1");
  });

  it("refuses a ciphertext with one flipped bit", async () => {
    const ring = Keyring.fromSettings(JSON.stringify({ k1: K1 }), "k1");
    const sealed = await ring.encrypt("sk-secret", row);
    const [format, keyId, iv, data] = sealed.split(":");
    const bytes = fromBase64(data);
    bytes[3] ^= 0x01;
    const tampered = [format, keyId, iv, toBase64Url(bytes)].join(":");
    await expect(ring.decrypt(tampered, row)).rejects.toBeInstanceOf(KeyringError);
  });

  it("refuses a ciphertext moved to another row or column", async () => {
    const ring = Keyring.fromSettings(JSON.stringify({ k1: K1 }), "k1");
    const sealed = await ring.encrypt("sk-secret", row);
    await expect(ring.decrypt(sealed, { ...row, rowId: "0b0e6f3a-1111-4c4c-9999-000000000002" })).rejects.toThrow(
      KeyringError,
    );
    await expect(ring.decrypt(sealed, { ...row, column: "webhook_secret" })).rejects.toThrow(KeyringError);
  });

  it("still decrypts old data after rotation and re-encrypts it under the new key", async () => {
    const before = Keyring.fromSettings(JSON.stringify({ k1: K1 }), "k1");
    const old = await before.encrypt("sk-secret", row);

    const after = Keyring.fromSettings(JSON.stringify({ k1: K1, k2: K2 }), "k2");
    expect(await after.decrypt(old, row)).toBe("sk-secret");
    expect(after.keyIdOf(await after.encrypt("new", row))).toBe("k2");

    const moved = await after.reencrypt(old, row);
    expect(moved).not.toBeNull();
    expect(after.keyIdOf(moved as string)).toBe("k2");
    expect(await after.decrypt(moved as string, row)).toBe("sk-secret");
    expect(await after.reencrypt(moved as string, row)).toBeNull();
  });

  it("rejects bad key material and unknown key ids", async () => {
    expect(() => Keyring.fromSettings(undefined, "k1")).toThrow(/ENCRYPTION_KEYS is not set/);
    expect(() => Keyring.fromSettings("{nope", "k1")).toThrow(/not valid JSON/);
    expect(() => Keyring.fromSettings(JSON.stringify({ k1: "c2hvcnQ=" }), "k1")).toThrow(/32 bytes/);
    expect(() => Keyring.fromSettings(JSON.stringify({ k1: K1 }), "k9")).toThrow(/not in ENCRYPTION_KEYS/);
    const ring = Keyring.fromSettings(JSON.stringify({ k1: K1 }), "k1");
    await expect(ring.decrypt("enc1:k9:AAAA:AAAA", row)).rejects.toThrow(/unknown encryption key id/);
  });
});

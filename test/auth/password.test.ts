import { describe, expect, it } from "vitest";
import { hashPassword, needsRehash, SCRYPT_PARAMS, verifyPassword } from "../../src/auth/password";

describe("password hashing", () => {
  it("hashes with scrypt N=2^14, r=8, p=5 and a random salt, stored with the parameters", async () => {
    const a = await hashPassword("hunter2-but-longer");
    const b = await hashPassword("hunter2-but-longer");
    expect(a).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(SCRYPT_PARAMS).toEqual({ logN: 14, r: 8, p: 5 });
    expect(await verifyPassword("hunter2-but-longer", a)).toBe(true);
    expect(await verifyPassword("hunter3-but-longer", a)).toBe(false);
  });

  it("refuses stored parameters beyond the caps instead of burning CPU", async () => {
    const real = await hashPassword("pw-123456789012");
    const [, , , salt, key] = real.split("$");
    const costly = `$scrypt$ln=22,r=8,p=5$${salt}$${key}`;
    const started = Date.now();
    expect(await verifyPassword("pw-123456789012", costly)).toBe(false);
    expect(Date.now() - started).toBeLessThan(50);
    expect(await verifyPassword("pw", `$scrypt$ln=14,r=8,p=99$${salt}$${key}`)).toBe(false);
    expect(await verifyPassword("pw", "plaintext")).toBe(false);
  });

  it("asks for a rehash of weaker hashes", async () => {
    expect(needsRehash(await hashPassword("x-long-password", { logN: 12, r: 8, p: 1 }))).toBe(true);
    expect(needsRehash(await hashPassword("x-long-password"))).toBe(false);
  });
});

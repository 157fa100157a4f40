/**
 * The client side of PostgreSQL's password authentication for the local pooler's own connections:
 * cleartext (the embedded database, as Neon's proxy asks), md5, and SCRAM-SHA-256, which a plain
 * PostgreSQL server uses by default. Hand-written because the pooler speaks the wire protocol
 * itself, and pg's SASL helpers are not public API.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { passwordMessage, typedMessage } from "./pg-frames.ts";

const AUTH = { cleartext: 3, md5: 5, sasl: 10, saslContinue: 11, saslFinal: 12 } as const;

export class PasswordAuthError extends Error {}

/**
 * Answers one connection's Authentication requests: the returned function takes each `R`
 * message but AuthenticationOk and returns what to send back (null after SASLFinal).
 */
export function passwordAuthenticator(user: string, password: string) {
  const clientNonce = randomBytes(18).toString("base64");
  const clientFirstBare = `n=*,r=${clientNonce}`;
  let expectedServerSignature: Buffer | undefined;

  return (message: Buffer): Buffer | null => {
    const code = message.readInt32BE(5);
    const body = message.subarray(9);
    switch (code) {
      case AUTH.cleartext:
        return passwordMessage(password);
      case AUTH.md5: {
        const inner = createHash("md5")
          .update(password + user)
          .digest("hex");
        const outer = createHash("md5").update(Buffer.concat([Buffer.from(inner), body.subarray(0, 4)]));
        return passwordMessage(`md5${outer.digest("hex")}`);
      }
      case AUTH.sasl: {
        const mechanisms = body.toString("utf8").split("\0");
        if (!mechanisms.includes("SCRAM-SHA-256")) {
          throw new PasswordAuthError(`the server offers ${mechanisms.filter(Boolean).join(", ")}, not SCRAM-SHA-256`);
        }
        const first = Buffer.from(`n,,${clientFirstBare}`, "utf8");
        const length = Buffer.alloc(4);
        length.writeInt32BE(first.length);
        return typedMessage("p", Buffer.concat([Buffer.from("SCRAM-SHA-256\0"), length, first]));
      }
      case AUTH.saslContinue: {
        const serverFirst = body.toString("utf8");
        const fields = Object.fromEntries(serverFirst.split(",").map((part) => [part[0], part.slice(2)]));
        if (!fields.r?.startsWith(clientNonce) || !fields.s || !(Number(fields.i) > 0)) {
          throw new PasswordAuthError("the server's SCRAM challenge is malformed");
        }
        const salted = pbkdf2Sync(password, Buffer.from(fields.s, "base64"), Number(fields.i), 32, "sha256");
        const clientKey = hmac(salted, "Client Key");
        const withoutProof = `c=biws,r=${fields.r}`;
        const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
        const signature = hmac(createHash("sha256").update(clientKey).digest(), authMessage);
        const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]));
        expectedServerSignature = hmac(hmac(salted, "Server Key"), authMessage);
        return typedMessage("p", Buffer.from(`${withoutProof},p=${proof.toString("base64")}`, "utf8"));
      }
      case AUTH.saslFinal: {
        const verifier = Buffer.from(body.toString("utf8").replace(/^v=/, ""), "base64");
        const expected = expectedServerSignature ?? Buffer.alloc(0);
        if (verifier.length !== expected.length || !timingSafeEqual(verifier, expected)) {
          throw new PasswordAuthError("the server's SCRAM signature does not match");
        }
        return null;
      }
      default:
        throw new PasswordAuthError(`authentication method ${code} is not supported by the local pooler`);
    }
  };
}

function hmac(key: Buffer, text: string): Buffer {
  return createHmac("sha256", key).update(text).digest();
}

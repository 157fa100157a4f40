/**
 * Access tokens: HS256 JWTs (jose), 15 minutes. Verification pins the algorithm and requires
 * issuer, audience and expiry, then checks the claims' shape, so `alg: none`, a foreign key, a
 * tampered claim or a token minted for another audience are all refused the same way.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Settings } from "../config";
import { utf8 } from "../crypto/encoding";
import { UnauthorizedError } from "../errors";
import type { AuthenticatedUser, Role } from "./principal";

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

/**
 * The HMAC key, imported once per isolate and secret: jose would otherwise import the raw bytes
 * on every call (a WebCrypto round trip per request). A changed JWT_SECRET imports anew.
 */
let signingKey: { secret: string; key: Promise<CryptoKey> } | null = null;

function keyOf(secret: string): Promise<CryptoKey> {
  if (signingKey?.secret !== secret) {
    const key = crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    signingKey = { secret, key };
    // A failed import is not kept: the next call tries again.
    key.catch(() => {
      if (signingKey?.key === key) signingKey = null;
    });
  }
  return signingKey.key;
}

const ClaimsSchema = z.object({
  sub: z.uuid(),
  email: z.string(),
  name: z.string(),
  roles: z.array(z.enum(["admin", "user", "viewer"])).min(1),
  permissions: z.array(z.string()),
  sid: z.uuid(),
  jti: z.uuid(),
});

export interface TokenSubject {
  id: string;
  email: string;
  name: string;
  roles: Role[];
  permissions: string[];
}

export async function issueAccessToken(
  config: Settings,
  subject: TokenSubject,
  sessionId: string,
): Promise<{ token: string; jti: string; expiresIn: number }> {
  const jti = crypto.randomUUID();
  const token = await new SignJWT({
    email: subject.email,
    name: subject.name,
    roles: subject.roles,
    permissions: subject.permissions,
    sid: sessionId,
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject.id)
    .setJti(jti)
    .setIssuedAt()
    .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .sign(await keyOf(config.JWT_SECRET));
  return { token, jti, expiresIn: ACCESS_TOKEN_TTL_SECONDS };
}

/** The token's principal; throws UnauthorizedError for any defect, without saying which. */
export async function verifyAccessToken(config: Settings, token: string): Promise<AuthenticatedUser> {
  try {
    const { payload } = await jwtVerify(token, await keyOf(config.JWT_SECRET), {
      algorithms: ["HS256"],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      requiredClaims: ["exp", "iat", "jti", "sub"],
      // Pinned: a JWT of another kind signed with the same key is not an access token.
      typ: "JWT",
    });
    const claims = ClaimsSchema.parse(payload);
    return {
      id: claims.sub,
      email: claims.email,
      name: claims.name,
      roles: claims.roles,
      permissions: claims.permissions,
      jti: claims.jti,
      sessionId: claims.sid,
      credential: "session",
      scopes: null,
    };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new UnauthorizedError("The access token has expired");
    throw new UnauthorizedError("The access token is invalid");
  }
}

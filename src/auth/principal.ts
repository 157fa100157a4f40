/** The authenticated caller as the rest of the code sees it. */

export type Role = "admin" | "user" | "viewer";

export interface AuthenticatedUser {
  id: string;
  email: string;
  name: string;
  roles: Role[];
  permissions: string[];
  /** Access token id, revoked on logout. */
  jti: string;
  /** Refresh-token family (session) the access token belongs to; the token's id for an API token. */
  sessionId: string;
  /** What the caller presented: a session's access JWT or a personal API token. */
  credential: "session" | "api_token";
  /** An API token's scopes: the permissions it may use of those its owner's roles grant (null: a session). */
  scopes: string[] | null;
}

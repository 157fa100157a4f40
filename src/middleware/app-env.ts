import type { AuthenticatedUser } from "../auth/principal";
import type { DatabaseSession } from "../db/client";
import type { Bindings } from "../env";
import type { TraceContext } from "../observability/tracing/trace-context";

/** Hono environment shared by every router and middleware. */
export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    db: DatabaseSession;
    user: AuthenticatedUser;
    /** Resolves once the caller's credential is known live; a write awaits it before its first effect. */
    confirmCaller: () => Promise<void>;
    /** The caller's `traceparent`, when it sent a valid one. */
    trace: TraceContext | null;
  };
}

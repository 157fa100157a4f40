/** One Durable Object per execution: the authoritative state of that execution. */
import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env";

export class ExecutionObject extends DurableObject<Bindings> {}

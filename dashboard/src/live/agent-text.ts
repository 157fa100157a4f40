/**
 * Agent text as it streams (docs/engine.md token durability): a `replay` carries the attempt's text so far,
 * an `offset` says where a piece starts, so a resend after a reconnect replaces rather than repeats.
 */
import type { TokenMessage } from "./execution-stream";

export interface AgentText {
  attempt: number | undefined;
  text: string;
}

export function withToken(seen: AgentText | undefined, message: TokenMessage): AgentText {
  const sameAttempt = seen && seen.attempt === message.attempt;
  const before = sameAttempt ? seen.text : "";
  if (message.replay) return { attempt: message.attempt, text: message.text };
  if (typeof message.offset === "number" && message.offset <= before.length)
    return { attempt: message.attempt, text: before.slice(0, message.offset) + message.text };
  return { attempt: message.attempt, text: before + message.text };
}

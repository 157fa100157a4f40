/** Why a queued execution waits, at which start gate, and until when (docs/workflows.md "Flow control on starts"). */
import type { Execution } from "../api/types";
import { ordinal, when } from "../components/format";

type Queue = NonNullable<Execution["queue"]>;

export function QueueNotice({ queue }: { queue: Queue }) {
  const key = queue.key ? ` (key ${queue.key})` : "";
  const expires = queue.expiresAt ? ` If it is still queued at ${when(queue.expiresAt)}, it expires.` : "";
  return (
    <div class="notice notice-info" role="status">
      {describe(queue, key)}
      {expires}
    </div>
  );
}

function describe(queue: Queue, key: string): string {
  switch (queue.reason) {
    case "debounce":
      return `Debounced${key}: it begins at ${when(queue.until)}, unless another start of its key moves that later.`;
    case "throttle":
      return `Throttled${key}: ${ordinal(queue.position)} in line; at most ${queue.limit} start per window. It starts as the window opens.`;
    case "concurrency":
      return `Queued: ${ordinal(queue.position)} in line behind a concurrency limit of ${queue.limit}${key}. It starts when a running execution ends.`;
    default:
      return queue.reason satisfies never;
  }
}

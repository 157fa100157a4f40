/**
 * A live terminal view of one execution over its stream (docs/engine.md): a single-use ticket, the
 * snapshot, then numbered events, each printed once (a reconnect resumes with `after=N`), agent
 * text as it streams. Resolves with the execution's final status.
 */
import type { Execution } from "./api-types.ts";
import type { Client } from "./client.ts";
import { CliError } from "./errors.ts";

/** The stream's first message: the execution as GET /executions/:id answers it. */
interface Snapshot {
  type: "snapshot";
  seq: number;
  execution: Execution;
}

interface StreamEvent {
  type: "event";
  seq: number;
  event: string;
  stepId: string | null;
  data: Record<string, unknown> | null;
}

interface Token {
  type: "token";
  stepId: string;
  attempt?: number;
  /** Where `text` starts in the attempt's text (a replay after a reconnect starts at 0). */
  offset?: number;
  text: string;
}

/** How often to look again at an execution that has not started (queued). */
const QUEUED_POLL_MS = 2_000;
const ENDED = new Set(["completed", "failed", "cancelled"]);
const MAX_RECONNECTS = 20;

export async function watchExecution(
  api: Client,
  executionId: string,
  print: (text: string) => void,
  write: (text: string) => void,
): Promise<string> {
  const started = Date.now();
  const elapsed = () => `+${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(8);
  let lastSeq = 0;
  let status = "pending";
  let total = 0;
  const done = new Set<string>();
  let streaming: string | null = null;
  // A terminal cannot take text back: per step and attempt, how much is printed, so a replay adds only the rest.
  const printed = new Map<string, number>();
  const endText = () => {
    if (streaming) write("\n");
    streaming = null;
  };
  const progress = () => `[${done.size}/${total}]`;
  let lastSnapshotLine = "";

  const handle = (message: Snapshot | StreamEvent | Token): boolean => {
    if (message.type === "snapshot") {
      lastSeq = message.seq;
      status = message.execution.status;
      total = message.execution.steps.length;
      for (const step of message.execution.steps)
        if (ENDED.has(step.status) || step.status === "skipped") done.add(step.stepId);
      const queue = message.execution.queue;
      const line = `execution ${message.execution.id} ${status}${queue ? ` (position ${queue.position} behind a concurrency limit of ${queue.limit})` : ""}`;
      // A queued execution is looked at again every few seconds: say so only when it changes.
      if (line !== lastSnapshotLine) print(`${elapsed()} ${progress()} ${line}`);
      lastSnapshotLine = line;
      for (const step of message.execution.steps.filter((s) => s.status !== "pending")) {
        const why =
          step.status === "waiting" ? waitingHint(message.execution.id, step.stepId, step.waiting ?? null) : "";
        const counts = step.progress ? `: ${countsLine(step.progress)}` : "";
        print(`${elapsed()} ${progress()} ${step.stepId} (${step.type}) ${step.status}${why}${counts}`);
      }
      return ENDED.has(status);
    }
    if (message.type === "token") {
      const key = `${message.stepId}#${message.attempt ?? 0}`;
      const shown = printed.get(key) ?? 0;
      const offset = message.offset ?? shown;
      const fresh = message.text.slice(Math.max(0, shown - offset));
      printed.set(key, Math.max(shown, offset + message.text.length));
      if (!fresh) return false;
      if (streaming !== message.stepId) {
        endText();
        write(`${elapsed()}   ${message.stepId} │ `);
        streaming = message.stepId;
      }
      write(fresh.replaceAll("\n", `\n${" ".repeat(11)}${message.stepId} │ `));
      return false;
    }
    if (message.seq <= lastSeq) return false;
    lastSeq = message.seq;
    if (message.event === "log") return false;
    endText();
    if (message.event.startsWith("execution.")) {
      status = message.event.slice("execution.".length);
      print(`${elapsed()} ${progress()} execution ${status}`);
      return ENDED.has(status);
    }
    const stepStatus = message.event.slice("step.".length);
    if (stepStatus === "progress") {
      // A map or a loop: one line per change of its counts, never one per item.
      print(`${elapsed()} ${progress()} ${message.stepId} ${countsLine(message.data as Counts | null)}`);
      return false;
    }
    // A map's items and a loop's iterations show in their container's progress; only failures print.
    if (message.stepId?.includes("[") && !message.stepId.endsWith("[compensate]") && stepStatus !== "failed")
      return false;
    if (message.stepId && ["completed", "failed", "skipped"].includes(stepStatus) && !message.stepId.includes("["))
      done.add(message.stepId);
    const why = stepStatus === "waiting" ? waitingHint(executionId, message.stepId, message.data) : "";
    const error = stepStatus === "failed" && message.data?.error ? `: ${JSON.stringify(message.data.error)}` : "";
    print(`${elapsed()} ${progress()} ${message.stepId} ${stepStatus}${error}${why}`);
    return false;
  };

  for (let attempt = 0; attempt <= MAX_RECONNECTS; attempt++) {
    const { ticket } = await api.post<{ ticket: string }>(`/executions/${executionId}/stream-ticket`);
    const url = new URL(`${api.url}/api/v1/executions/${executionId}/stream`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("ticket", ticket);
    if (lastSeq) url.searchParams.set("after", String(lastSeq));
    const ended = await new Promise<boolean | "not started">((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.addEventListener("message", (event) => {
        if (event.data === "pong") return;
        if (handle(JSON.parse(String(event.data)))) {
          socket.close(1000);
          resolve(true);
        }
      });
      socket.addEventListener("close", (event) => {
        if (event.code === 4404) reject(new CliError(`execution ${executionId} is not visible to you`));
        // 1013: not started yet (queued behind its workflow's concurrency limit): not a lost stream.
        else resolve(event.code === 1013 ? "not started" : false);
      });
      socket.addEventListener("error", () => undefined);
    });
    if (ended === true) {
      endText();
      return status;
    }
    if (ended === "not started") {
      attempt--;
      await new Promise((r) => setTimeout(r, QUEUED_POLL_MS));
      continue;
    }
    await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
  }
  throw new CliError(`lost the stream of ${executionId} ${MAX_RECONNECTS} times`);
}

type Counts = { total: number | null; completed: number; running: number; failed: number };

/** A map's or a loop's counts, as its progress lines and its snapshot line say them. */
function countsLine(counts: Counts | null): string {
  if (!counts) return "";
  const of = counts.total === null || counts.total === undefined ? "" : ` of ${counts.total}`;
  return `${counts.completed} done${of}, ${counts.running} running, ${counts.failed} failed`;
}

function waitingHint(executionId: string, stepId: string | null, data: Record<string, unknown> | null): string {
  const reason = typeof data?.reason === "string" ? data.reason : "";
  if (reason === "approval") return ` (approval: ipa approve ${executionId} ${stepId})`;
  if (reason === "event")
    return ` (event ${data?.event ?? ""}: ipa events send ${executionId} ${data?.event ?? "NAME"})`;
  return reason ? ` (${reason}${data?.until ? ` until ${data.until}` : ""})` : "";
}

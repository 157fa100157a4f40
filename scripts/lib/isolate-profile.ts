/**
 * The local Worker isolate's CPU profile, through its inspector (the DevTools protocol's Profiler
 * domain, which workerd speaks): how much of a stretch of time the isolate was busy, and where.
 * Locally one isolate runs the API, every execution's object and the consumers on one thread, so
 * its busy time over N executions is their CPU each.
 */
import WebSocket from "ws";

export interface IsolateProfile {
  /** Sampled time the isolate was not idle (JavaScript, the runtime's own work, garbage collection). */
  busyMs: number;
  totalMs: number;
  /** The functions with the most self time, `name (file:line)`. */
  top: Array<{ name: string; selfMs: number }>;
  /** The profile as the inspector gave it (a `.cpuprofile`, for DevTools). */
  raw: unknown;
}

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export async function startIsolateProfile(inspectorUrl: string): Promise<{ stop(): Promise<IsolateProfile> }> {
  const ws = new WebSocket(inspectorUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let nextId = 0;
  const waiting = new Map<number, (result: unknown) => void>();
  ws.on("message", (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve as (result: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 250 });
  await send("Profiler.start");
  return {
    async stop() {
      const { profile } = await send<{ profile: CpuProfile }>("Profiler.stop");
      ws.close();
      return summarize(profile);
    },
  };
}

function summarize(profile: CpuProfile): IsolateProfile {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let idle = 0;
  profile.samples.forEach((nodeId, i) => {
    const frame = nodes.get(nodeId)?.callFrame;
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (!frame || frame.functionName === "(idle)") {
      idle += us;
      return;
    }
    const file = frame.url.split("/").slice(-2).join("/");
    const name = `${frame.functionName || "(anonymous)"}${file ? ` (${file}:${frame.lineNumber + 1})` : ""}`;
    self.set(name, (self.get(name) ?? 0) + us);
  });
  const totalUs = profile.endTime - profile.startTime;
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([name, us]) => ({ name, selfMs: us / 1000 }));
  return { busyMs: (totalUs - idle) / 1000, totalMs: totalUs / 1000, top, raw: profile };
}

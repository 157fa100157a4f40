/**
 * Starts the bench's peer Worker (bench/peer/) with `wrangler dev` beside the platform: the same
 * local runtime, the same Postgres through the same relay (from `npm run dev`'s dev-state.json).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { DevState } from "./dev-state.ts";
import { freePort } from "./ports.ts";

export interface BenchPeer {
  url: string;
  stop(): Promise<void>;
}

export async function startBenchPeer(state: DevState): Promise<BenchPeer> {
  if (!state.wsProxy) throw new Error("dev-state.json names no relay: restart `npm run dev`");
  const port = await freePort(18900);
  const persist = await mkdtemp(`${tmpdir()}/ipa-bench-peer-`);
  const child: ChildProcess = spawn(
    "wrangler",
    [
      "dev",
      "-c",
      "bench/peer/wrangler.toml",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort(9330)),
      "--persist-to",
      persist,
      "--show-interactive-dev-session=false",
      "--var",
      `DATABASE_URL:${state.databaseUrl}`,
      "--var",
      `NEON_WS_PROXY:${state.wsProxy}`,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await rm(persist, { recursive: true, force: true });
  };
  for (let i = 0; i < 120 && child.exitCode === null; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  throw new Error("the bench peer (wrangler dev -c bench/peer/wrangler.toml) did not start");
}

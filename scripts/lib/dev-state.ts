/** What `npm run dev` records for the local tools in `<IPA_DATA_DIR>/dev-state.json` (the password stays in .data/). */
import { readFile } from "node:fs/promises";

export interface DevState {
  postgresUrl: string;
  databaseUrl: string;
  /** The relay's pooled endpoint in front of the embedded PostgreSQL (the Worker's NEON_WS_PROXY). */
  wsProxy?: string;
  /** The relay's direct endpoint (the Worker's NEON_DIRECT_WS_PROXY, for backups). */
  directWsProxy?: string;
  /** The relay's `GET /stats`: `{ roundTrips, latencyMs }` (the bench counts round trips per request). */
  statsUrl?: string;
  port: number;
  /** The Worker isolate's inspector (DevTools protocol): the bench profiles its CPU through it. */
  inspectorUrl?: string;
}

export async function readDevState(env: NodeJS.ProcessEnv = process.env): Promise<DevState> {
  const dir = env.IPA_DATA_DIR ?? `${process.cwd()}/.data`;
  try {
    return JSON.parse(await readFile(`${dir}/dev-state.json`, "utf8"));
  } catch {
    throw new Error("start the platform with `npm run dev` first (it writes .data/dev-state.json)");
  }
}

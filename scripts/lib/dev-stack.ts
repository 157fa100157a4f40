/**
 * `npm run dev` in a child process with its own data directory and port, for the soak and the
 * Node-side tests: started, stopped with Ctrl-C, or killed with SIGKILL like a power loss.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { connectApi } from "./api-client.ts";
import { freePort } from "./ports.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface DevStack {
  url: string;
  port: number;
  output(): string;
  /** Superuser connection string of the stack's embedded Postgres (from .data/dev-state.json). */
  postgresUrl(): Promise<string>;
  /** The relay's control URL (`…/control`; POST /down, /up), when started with IPA_RELAY_CONTROL=1. */
  relayControlUrl(): Promise<string | null>;
  /** Ctrl-C as a terminal sends it: SIGINT to every process of the stack; resolves with the launcher's exit code. */
  stop(): Promise<number | null>;
  /** Whether any process the stack started (the launcher's process group) is still running. */
  anyProcessLeft(): boolean;
  /** SIGKILL to the launcher and everything it started (workerd, Postgres, the relay). */
  kill(): Promise<void>;
}

export async function startDevStack(options: {
  dataDir: string;
  admin: { email: string; password: string };
  port?: number;
  env?: Record<string, string>;
  /** How long to wait for /health/ready. */
  readySeconds?: number;
  /** Also appends the stack's output to this file. */
  logFile?: string;
}): Promise<DevStack> {
  const port = options.port ?? (await freePort(18800));
  let output = "";
  const child: ChildProcess = spawn(process.execPath, ["scripts/dev.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      IPA_DASHBOARD_WATCH: "0",
      ...options.env,
      PORT: String(port),
      IPA_DATA_DIR: options.dataDir,
      ADMIN_EMAIL: options.admin.email,
      ADMIN_PASSWORD: options.admin.password,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a kill reaches workerd and Postgres too.
    detached: true,
  });
  const record = (chunk: Buffer) => {
    output += chunk;
    if (options.logFile) appendFileSync(options.logFile, chunk);
  };
  child.stdout?.on("data", record);
  child.stderr?.on("data", record);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited: ${output}`);
    if (i > (options.readySeconds ?? 180)) throw new Error(`npm run dev never became ready: ${output}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return {
    url,
    port,
    output: () => output,
    postgresUrl: async () => JSON.parse(await readFile(`${options.dataDir}/dev-state.json`, "utf8")).postgresUrl,
    relayControlUrl: async () =>
      JSON.parse(await readFile(`${options.dataDir}/dev-state.json`, "utf8")).relayControlUrl ?? null,
    kill: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || !child.pid) return resolve();
        child.once("exit", () => resolve());
        process.kill(-child.pid, "SIGKILL");
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || !child.pid) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        process.kill(-child.pid, "SIGINT");
      }),
    anyProcessLeft: () => {
      if (!child.pid) return false;
      try {
        process.kill(-child.pid, 0);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** The typed client, signed in to the stack as `admin`. */
export function connectStack(stack: DevStack, admin: { email: string; password: string }) {
  return connectApi({ IPA_URL: stack.url, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password });
}

/** Logs in and returns a loose JSON caller for the stack's API, for tests that read answers by hand (the tools use `connectStack`). */
export async function apiOf(stack: DevStack, admin: { email: string; password: string }) {
  const login = await fetch(`${stack.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(admin),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  const { accessToken } = (await login.json()) as { accessToken: string };
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers are read loosely by the tools and tests that drive it
  return async <T = any>(
    path: string,
    body?: unknown,
    method = body === undefined ? "GET" : "POST",
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${stack.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${accessToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

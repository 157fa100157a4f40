/** `npm run dev` in a child process with its own data directory, for the Node-side tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { freePort } from "../../../scripts/lib/ports.ts";

export interface DevStack {
  url: string;
  port: number;
  output(): string;
  /** Superuser connection string of the stack's embedded Postgres (from .data/dev-state.json). */
  postgresUrl(): Promise<string>;
  stop(): Promise<number | null>;
}

export async function startDevStack(options: {
  dataDir: string;
  admin: { email: string; password: string };
  port?: number;
}): Promise<DevStack> {
  const port = options.port ?? (await freePort(18800));
  let output = "";
  const child: ChildProcess = spawn(process.execPath, ["scripts/dev.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      IPA_DATA_DIR: options.dataDir,
      ADMIN_EMAIL: options.admin.email,
      ADMIN_PASSWORD: options.admin.password,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d) => (output += d));
  child.stderr?.on("data", (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited: ${output}`);
    if (i > 180) throw new Error(`npm run dev never became ready: ${output}`);
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
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGINT");
      }),
  };
}

/** Logs in and returns a JSON caller for the stack's API. */
export async function apiOf(stack: DevStack, admin: { email: string; password: string }) {
  const login = await fetch(`${stack.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(admin),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  const { accessToken } = (await login.json()) as { accessToken: string };
  return async <T = any>(
    path: string,
    body?: unknown,
    method = body === undefined ? "GET" : "POST",
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${stack.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${accessToken}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

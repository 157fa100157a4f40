/** Stock psql, as an operator would use it: loading SQL from a stream and running queries. */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

/**
 * Runs psql with `input` on stdin in one transaction; rejects with psql's error output if it
 * fails, and then nothing of the input stays. With `restrictKey`, psql starts in `\restrict`
 * mode: no meta-command runs until `\unrestrict <key>`, which the input cannot know.
 */
export function psqlLoad(target: string, input: Readable, restrictKey?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", [target, "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1"], {
      stdio: ["pipe", "ignore", "pipe"],
      // The meta-command scan starts from this setting, whatever the server's default is.
      env: { ...process.env, PGOPTIONS: `${process.env.PGOPTIONS ?? ""} -c standard_conforming_strings=on`.trim() },
    });
    if (restrictKey) child.stdin.write(`\\restrict ${restrictKey}\n`);
    let errors = "";
    child.stderr.on("data", (chunk) => (errors += chunk));
    child.on("error", (error) =>
      reject(new Error(`psql could not start (${error.message}); install postgresql-client`)),
    );
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`psql failed (${code}): ${errors.trim().slice(0, 2000)}`)),
    );
    input.on("error", (error) => {
      child.kill();
      reject(error);
    });
    input.pipe(child.stdin);
    child.stdin.on("error", () => {});
  });
}

/**
 * Whether the local psql has `\restrict` (added in the August 2025 releases: 13.22, 14.19, 15.14,
 * 16.10, 17.6, and every 18).
 */
export async function psqlHasRestrict(): Promise<boolean> {
  const version = await new Promise<string>((resolve) => {
    const child = spawn("psql", ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.on("error", () => resolve(""));
    child.on("close", () => resolve(out));
  });
  const match = /(\d+)\.(\d+)/.exec(version);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const firstWith: Record<number, number> = { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 };
  return major >= 18 || (firstWith[major] !== undefined && minor >= firstWith[major]);
}

/** Runs `sql` and returns its unaligned output rows, fields split on `|`. */
export function psqlQuery(target: string, sql: string): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", [target, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let errors = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (errors += chunk));
    child.on("error", (error) =>
      reject(new Error(`psql could not start (${error.message}); install postgresql-client`)),
    );
    child.on("close", (code) =>
      code === 0
        ? resolve(
            out
              .split("\n")
              .filter(Boolean)
              .map((line) => line.split("|")),
          )
        : reject(new Error(`psql failed (${code}): ${errors.trim()}`)),
    );
  });
}

/** Stock psql, as an operator would use it: loading SQL from a stream and running queries. */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

/** Runs psql with `input` on stdin; rejects with psql's error output if it fails. */
export function psqlLoad(target: string, input: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("psql", [target, "-X", "-q", "-v", "ON_ERROR_STOP=1"], { stdio: ["pipe", "ignore", "pipe"] });
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

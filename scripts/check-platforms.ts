/**
 * `npm run check:platforms`: fails when package-lock.json makes a package bound to one os or cpu
 * required. npm refuses such a package on every other machine (EBADPLATFORM), and its `--os`/`--cpu`
 * overrides do not reproduce that refusal, so a dry-run install from Linux would not catch it.
 * It also fails when the lock holds more than one workerd: the tests (@cloudflare/vitest-plugin,
 * which pins its own wrangler) must run on the runtime `npm run dev` and the deploy use.
 */
import { readFile } from "node:fs/promises";

interface LockedPackage {
  version?: string;
  os?: string[];
  cpu?: string[];
  optional?: boolean;
  devOptional?: boolean;
}

const lock = JSON.parse(await readFile(new URL("../package-lock.json", import.meta.url), "utf8")) as {
  packages: Record<string, LockedPackage>;
};

const bound = Object.entries(lock.packages).filter(
  ([path, entry]) => path !== "" && (entry.os || entry.cpu) && !entry.optional && !entry.devOptional,
);
for (const [path, entry] of bound) {
  console.error(
    `${path} is bound to os ${entry.os?.join("/") ?? "any"}, cpu ${entry.cpu?.join("/") ?? "any"} but required: ` +
      "install it as an optional dependency (or leave it to the package that lists it as one)",
  );
}
const workerds = new Map<string, string[]>();
for (const [path, entry] of Object.entries(lock.packages)) {
  if (!/(^|\/)node_modules\/workerd$/.test(path) || !entry.version) continue;
  workerds.set(entry.version, [...(workerds.get(entry.version) ?? []), path]);
}
if (workerds.size > 1) {
  console.error(
    `package-lock.json holds ${workerds.size} workerd versions (${[...workerds.entries()].map(([v, paths]) => `${v} at ${paths.join(", ")}`).join("; ")}): ` +
      "pin wrangler to the version @cloudflare/vitest-plugin depends on",
  );
}
if (bound.length > 0 || workerds.size > 1) process.exit(1);
console.log(
  `package-lock.json: every package bound to a platform is optional (${Object.keys(lock.packages).length - 1} packages); ` +
    `one workerd (${[...workerds.keys()].join(", ")}) for the tests, npm run dev and the deploy`,
);

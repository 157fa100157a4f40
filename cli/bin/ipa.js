#!/usr/bin/env node
// The system's Node may be older than the one that runs TypeScript: start the CLI on the Node the
// project brings (node_modules/.bin/node, Node 22), passing every argument and the exit code on.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const projectNode = fileURLToPath(new URL("../../node_modules/node/bin/node", import.meta.url));
const node = existsSync(projectNode) ? projectNode : process.execPath;
const run = spawnSync(node, [main, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(run.status ?? 1);

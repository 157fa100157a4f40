/**
 * `npm run bench:dashboard`: cold loads of the dashboard in the system's Chromium against the
 * running platform (`npm run dev`, or IPA_URL), each in a fresh browser context (empty cache):
 * the sign-in page until its form shows, a signed-in /executions until its list shows and an
 * execution until its diagram shows its waiting step, beside the API docs page (Swagger UI, same origin and server) as the peer. Prints medians, p99, the
 * ratio to the peer, and the gzipped JavaScript and CSS each load fetched.
 *
 *   ADMIN_EMAIL=… ADMIN_PASSWORD=… npm run bench:dashboard [-- --runs 15]
 */
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { connectApi, createWorkflow, startExecution } from "./lib/api-client.ts";
import { launchBrowser } from "./lib/chromium.ts";
import { summary } from "./lib/stats.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "15" } } });
const RUNS = Number(args.runs);
const BASE = (process.env.IPA_URL ?? "http://localhost:8787").replace(/\/$/, "");
const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = process.env;
if (!email || !password) throw new Error("set ADMIN_EMAIL and ADMIN_PASSWORD");

/** A refresh cookie of its own per load: each refresh rotates it, and a reused one ends the session. */
async function refreshCookie() {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password, refreshIn: "cookie" }),
  });
  const value = /ipa_refresh=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  if (!value) throw new Error(`login gave no refresh cookie (${res.status})`);
  return {
    name: "ipa_refresh",
    value,
    url: `${BASE}/api/v1/auth`,
    httpOnly: true,
    secure: true,
    sameSite: "Strict" as const,
  };
}

interface Load {
  ms: number;
  gzipBytes: number;
}

async function coldLoad(
  browser: Browser,
  path: string,
  ready: (page: Page) => Promise<unknown>,
  signedIn: boolean,
): Promise<Load> {
  const context = await browser.newContext();
  if (signedIn) await context.addCookies([await refreshCookie()]);
  const page = await context.newPage();
  const bodies: Array<Promise<Buffer | null>> = [];
  page.on("response", (response) => {
    if (/\.(js|css)$/.test(new URL(response.url()).pathname)) bodies.push(response.body().catch(() => null));
  });
  const started = performance.now();
  await page.goto(`${BASE}${path}`);
  await ready(page);
  const ms = performance.now() - started;
  const gzipBytes = (await Promise.all(bodies)).reduce((sum, body) => sum + (body ? gzipSync(body).length : 0), 0);
  await context.close();
  return { ms, gzipBytes };
}

/** One execution of a three-step workflow, for the detail page's load (its diagram and stream). */
async function sampleExecution(): Promise<string> {
  const { client } = await connectApi();
  const steps = [
    { id: "first", type: "transform", output: 1 },
    { id: "second", type: "transform", output: 2, dependsOn: ["first"] },
    { id: "review", type: "approval", dependsOn: ["second"] },
  ];
  const workflow = await createWorkflow(client, `bench dashboard ${Date.now()}`, steps);
  return startExecution(client, workflow.id);
}
const executionId = await sampleExecution();

const PAGES = {
  "sign-in page": {
    path: "/",
    signedIn: false,
    ready: (p: Page) => p.getByRole("button", { name: "Sign in" }).waitFor(),
  },
  "executions, signed in": {
    path: "/executions",
    signedIn: true,
    ready: (p: Page) => p.locator("main table, main .empty").first().waitFor(),
  },
  "an execution, signed in": {
    path: `/executions/${executionId}`,
    signedIn: true,
    ready: (p: Page) => p.locator('.dag [data-step="review"][data-status="waiting"]').waitFor(),
  },
  "API docs (peer)": {
    path: "/docs/",
    signedIn: false,
    ready: (p: Page) => p.locator(".swagger-ui .info .title").waitFor(),
  },
};

const browser = await launchBrowser();
const results: Record<string, Load[]> = Object.fromEntries(Object.keys(PAGES).map((name) => [name, []]));
// Interleaved, so the machine's noise falls on every page alike.
for (let run = 0; run < RUNS + 1; run++) {
  for (const [name, page] of Object.entries(PAGES)) {
    const load = await coldLoad(browser, page.path, page.ready, page.signedIn);
    if (run > 0) results[name].push(load); // the first round warms the server
  }
}
await browser.close();

const peer = summary(results["API docs (peer)"].map((l) => l.ms)).p50;
console.log(`dashboard cold loads against ${BASE}, ${RUNS} runs each (median, p99; ratio to the docs page's median)`);
for (const [name, loads] of Object.entries(results)) {
  const s = summary(loads.map((l) => l.ms));
  const kb = (loads[0].gzipBytes / 1024).toFixed(1);
  console.log(
    `  ${name.padEnd(24)} p50 ${s.p50.toFixed(0)} ms  p99 ${s.p99.toFixed(0)} ms  ×${(s.p50 / peer).toFixed(2)}  JS+CSS ${kb} KB gzip`,
  );
}

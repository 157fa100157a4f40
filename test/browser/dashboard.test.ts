/**
 * The dashboard as its users meet it: `npm run dev`, a real Chromium, the platform's accounts.
 * Sign in (the refresh token only in its cookie), build a workflow, start it from the form its
 * inputSchema draws, watch the diagram change live, lose the stream mid-run and see every event
 * once, approve from the inbox, and look as a viewer who may steer nothing. Every page is checked
 * with axe-core, at 360 px and by keyboard.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { Browser, BrowserContext, Page, WebSocketRoute } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiOf, type DevStack, startDevStack } from "../../scripts/lib/dev-stack.ts";
import { streamed } from "../fixtures/model-answers.ts";
import { type OutsideWorld, startOutsideWorld } from "../fixtures/outside-world.ts";
import { horizontalOverflow, launchBrowser, seriousViolations, watchProblems } from "./helpers/browser.ts";

const admin = { email: "dash-admin@example.test", password: "dash-admin-password-1" };
const viewer = { email: "dash-viewer@example.test", username: "dashviewer", password: "dash-viewer-password-1" };
/** Set to a folder (docs/screenshots) to refresh the README's pictures from this run. */
const SCREENSHOTS = process.env.DASHBOARD_SCREENSHOTS;

const definition = {
  inputSchema: {
    type: "object",
    properties: { name: { type: "string", minLength: 2, description: "Who to greet" } },
    required: ["name"],
  },
  steps: [
    { id: "greet", type: "transform", output: { greeting: "Hello, {{input.name}}" } },
    { id: "draft", type: "agent", agentId: "AGENT", prompt: "Write to {{input.name}}", dependsOn: ["greet"] },
    { id: "review", type: "approval", approverRoles: ["admin"], dependsOn: ["draft"] },
    { id: "send", type: "transform", output: { sent: "{{steps.draft.output.text}}" }, dependsOn: ["review"] },
    { id: "archive", type: "delay", seconds: 1, dependsOn: ["review"] },
  ],
};

let dataDir: string;
let stack: DevStack;
let api: Awaited<ReturnType<typeof apiOf>>;
let browser: Browser;
let outside: OutsideWorld;

beforeAll(async () => {
  dataDir = await mkdtemp(`${tmpdir()}/ipa-dashboard-test-`);
  outside = await startOutsideWorld();
  stack = await startDevStack({ dataDir, admin });
  api = await apiOf(stack, admin);
  const created = await api("/users", { ...viewer, roles: ["viewer"] });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await outside?.close();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function signedIn(
  who: { email: string; password: string },
  width = 1280,
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${stack.url}/`);
  await page.getByLabel("Email or username").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL("**/executions");
  await page.getByRole("heading", { name: "Executions" }).waitFor();
  return { context, page, problems };
}

async function shoot(page: Page, name: string) {
  if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/${name}.png` });
}

const stepNode = (page: Page, stepId: string) => page.locator(`.dag [data-step="${stepId}"]`);

async function expectNoSeriousViolations(page: Page) {
  expect(await seriousViolations(page)).toEqual([]);
}

describe("dashboard", () => {
  let workflowId: string;
  let executionId: string;

  it("logs nothing to the console on a first visit (no session to restore, no refresh asked for)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const logged: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") logged.push(message.text());
    });
    const refreshes: string[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/auth/refresh")) refreshes.push(request.url());
    });
    await page.goto(`${stack.url}/`);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect({ logged, refreshes }).toEqual({ logged: [], refreshes: [] });
    await context.close();
  });

  it("signs in with the refresh token in an httpOnly cookie only, and stays signed in across a reload", async () => {
    const { context, page, problems } = await signedIn(admin);
    const cookie = (await context.cookies()).find((c) => c.name === "ipa_refresh");
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: "Strict", path: "/api/v1/auth" });
    // Nothing long-lived is readable by page script.
    const readable = await page.evaluate(() => ({
      cookies: document.cookie,
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
    }));
    expect(readable).toEqual({ cookies: "ipa_session=1", local: "{}", session: "{}" });
    await page.reload();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    await expectNoSeriousViolations(page);
    // Signing out revokes the session: the cookie's refresh token no longer works.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await expectNoSeriousViolations(page);
    await page.reload();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    const refused = await page.evaluate(async () => (await fetch("/api/v1/auth/refresh", { method: "POST" })).status);
    expect(refused).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("keeps one session across tabs that open at the same moment (each refresh rotates the shared cookie)", async () => {
    const { context, problems } = await signedIn(admin);
    const tabs = await Promise.all(Array.from({ length: 4 }, () => context.newPage()));
    await Promise.all(tabs.map((tab) => tab.goto(`${stack.url}/executions`)));
    for (const tab of tabs) await tab.getByRole("button", { name: "Sign out" }).waitFor();
    // The session survived: a fresh load still signs in from the cookie.
    const later = await context.newPage();
    await later.goto(`${stack.url}/approvals`);
    await later.getByRole("button", { name: "Sign out" }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it("creates a workflow, shows its definition as a diagram, and starts it from a form that shows 422 details on their fields", async () => {
    // A model that streams its answer slowly, held after its first piece until the test lets it go on.
    const answer = ["Dear ", "Ada, ", "your ", "draft ", "is ", "ready."];
    await fetch(`${outside.url}/_scripts/model`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ responses: [streamed(answer, { holdAfter: 1, chunkDelayMs: 150 })] }),
    });
    const agent = await api("/agents", {
      name: "Drafter",
      type: "custom",
      modelName: "gpt-test",
      configuration: { provider: "openai", baseUrl: `${outside.url}/s/model`, apiKey: "sk-test", stream: true },
    });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);
    const { context, page, problems } = await signedIn(admin);
    await page.getByRole("link", { name: "Workflows" }).click();
    await page.getByLabel("New workflow").fill("Greeting with review");
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/workflows\/[0-9a-f-]{36}$/);
    workflowId = page.url().split("/").pop() as string;

    await page.getByText("New version").click();
    const body = JSON.stringify({
      ...definition,
      steps: definition.steps.map((s) => (s.type === "agent" ? { ...s, agentId: agent.body.id } : s)),
    });
    await page.getByLabel("Definition (JSON)").fill(body);
    await page.getByRole("button", { name: "Save as the current version" }).click();
    // The diagram lays out every step, laid out by dagre.
    for (const step of definition.steps) await expect.poll(() => stepNode(page, step.id).count()).toBe(1);
    await expectNoSeriousViolations(page);
    await shoot(page, "workflow");

    // Starting without the required name: the server's 422 lands on the field it names.
    await page.getByRole("button", { name: "Start execution" }).click();
    const field = page.getByRole("textbox", { name: "name", exact: true });
    await expect.poll(() => field.getAttribute("aria-invalid")).toBe("true");
    await expect.poll(() => page.getByRole("alert").filter({ hasText: "name" }).count()).toBeGreaterThan(0);
    await field.fill("Ada");
    await page.getByRole("button", { name: "Start execution" }).click();
    await page.waitForURL(/\/executions\/[0-9a-f-]{36}$/);
    executionId = page.url().split("/").pop() as string;
    await expect.poll(() => stepNode(page, "draft").getAttribute("data-status"), { timeout: 30_000 }).toBe("running");
    await expect.poll(() => page.locator("[data-stream-state]").getAttribute("data-stream-state")).toBe("live");
    // The rest of the answer arrives piece by piece, and the page shows each piece as it comes.
    await fetch(`${outside.url}/_release/model`, { method: "POST" });
    const shown = new Set<string>();
    const text = page.locator('[data-agent-text="draft"]');
    for (let i = 0; i < 100 && !shown.has(answer.join("")); i++) {
      if (await text.count()) shown.add((await text.textContent()) ?? "");
      await page.waitForTimeout(40);
    }
    const partial = [...shown].filter((seen) => seen && seen !== answer.join(""));
    expect(partial.length).toBeGreaterThanOrEqual(3);
    for (const seen of partial) expect(answer.join("")).toContain(seen);
    await expect.poll(() => text.textContent()).toBe(answer.join(""));
    await expect.poll(() => stepNode(page, "review").getAttribute("data-status"), { timeout: 30_000 }).toBe("waiting");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("resumes after a dropped stream with after=N: every event shown once, none missing, while the approval is made from the inbox in another tab", async () => {
    const { context, page, problems } = await signedIn(admin);
    const sockets: Array<{ url: string; route: WebSocketRoute }> = [];
    await page.routeWebSocket(/\/stream\?/, (route) => {
      sockets.push({ url: route.url(), route });
      route.connectToServer();
    });
    await page.goto(`${stack.url}/executions/${executionId}`);
    await expect.poll(() => page.locator("[data-stream-state]").getAttribute("data-stream-state")).toBe("live");
    await expect.poll(() => stepNode(page, "review").getAttribute("data-status")).toBe("waiting");
    await shoot(page, "execution-waiting");
    await expectNoSeriousViolations(page);

    // Hold the next stream ticket, then drop the socket: the page is offline while the run goes on.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route("**/stream-ticket", async (route) => {
      await held;
      await route.continue();
    });
    const seenBefore = Number(await page.locator("[data-stream-state]").getAttribute("data-last-seq"));
    expect(seenBefore).toBeGreaterThan(0);
    sockets[0].route.close({ code: 4000, reason: "dropped by the test" });
    await expect.poll(() => page.locator("[data-stream-state]").getAttribute("data-stream-state")).toBe("reconnecting");

    const inbox = await context.newPage();
    await inbox.goto(`${stack.url}/approvals`);
    const card = inbox.locator(`[data-approval="${executionId}/review"]`);
    await card.getByLabel("Comment").fill("Looks right");
    await expectNoSeriousViolations(inbox);
    await shoot(inbox, "approvals");
    await card.getByRole("button", { name: "Approve" }).click();
    await expect.poll(() => card.count()).toBe(0);
    await expect
      .poll(async () => (await api(`/executions/${executionId}`)).body.status, { timeout: 30_000 })
      .toBe("completed");

    release();
    await expect.poll(() => stepNode(page, "send").getAttribute("data-status"), { timeout: 30_000 }).toBe("completed");
    await expect.poll(() => page.locator(".execution h1 .badge").textContent()).toBe("completed");
    expect(sockets.length).toBe(2);
    expect(new URL(sockets[1].url).searchParams.get("after")).toBe(String(seenBefore));
    const after = await seqs(page);
    // Every event after the last one seen before the drop, in order, none twice.
    expect(after.length).toBeGreaterThan(2);
    expect(after).toEqual(Array.from({ length: after.length }, (_, i) => seenBefore + 1 + i));
    expect(await page.locator(`[data-seq="${after.at(-1)}"]`).textContent()).toContain("execution.completed");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows a viewer the same execution with no control it may not use", async () => {
    const { context, page, problems } = await signedIn(viewer);
    await page.goto(`${stack.url}/executions/${executionId}`);
    await expect.poll(() => stepNode(page, "send").getAttribute("data-status")).toBe("completed");
    for (const name of ["Cancel", "Pause", "Resume", "Retry", "Approve", "Reject"])
      expect(await page.getByRole("button", { name, exact: true }).count()).toBe(0);
    expect(await page.getByRole("heading", { name: "Rerun from a step" }).count()).toBe(0);
    const nav = await page.getByRole("navigation", { name: "Main" }).getByRole("link").allTextContents();
    expect(nav).toEqual(["Executions", "Workflows", "Agents", "API tokens"]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("works at 360 px and by keyboard alone", async () => {
    const { context, page, problems } = await signedIn(admin, 360);
    for (const path of [
      "/executions",
      `/executions/${executionId}`,
      `/workflows/${workflowId}`,
      "/approvals",
      "/agents",
      "/backups",
      "/audit",
      "/users",
    ]) {
      await page.goto(`${stack.url}${path}`);
      await page.locator("main h1").first().waitFor();
      await page.waitForLoadState("networkidle");
      expect({ path, overflow: await horizontalOverflow(page) }).toEqual({ path, overflow: 0 });
      expect({ path, violations: await seriousViolations(page) }).toEqual({ path, violations: [] });
      if (path.startsWith("/executions/")) await shoot(page, "execution-narrow");
    }
    // Keyboard: reach a step of the diagram with Tab and open it with Enter.
    await page.goto(`${stack.url}/executions/${executionId}`);
    await stepNode(page, "greet").waitFor();
    let focused = "";
    for (let i = 0; i < 60 && focused !== "greet"; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement?.getAttribute("data-step") ?? "");
    }
    expect(focused).toBe("greet");
    await page.keyboard.press("Enter");
    await expect.poll(() => stepNode(page, "greet").getAttribute("aria-pressed")).toBe("true");
    await expect.poll(() => page.getByRole("heading", { name: /greet/ }).count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("lists executions live: a new one appears without a reload", async () => {
    const { context, page, problems } = await signedIn(admin);
    await shoot(page, "executions");
    const rows = () => page.locator("tbody tr").count();
    const before = await rows();
    const started = await api(`/workflows/${workflowId}/executions`, { input: { name: "Grace" } });
    expect(started.status).toBe(202);
    // Nothing listed is running, so the list looks again at its idle pace (10 s).
    await expect.poll(rows, { timeout: 20_000 }).toBe(before + 1);
    await context.close();
    expect(problems).toEqual([]);
  });

  it("shows a queued execution's place in line, draws its steps before they exist, and goes live when it starts", async () => {
    const limited = await api("/workflows", { name: "One at a time" });
    expect(limited.status, JSON.stringify(limited.body)).toBe(201);
    const version = await api(`/workflows/${limited.body.id}/versions`, {
      definition: {
        concurrency: { limit: 1 },
        steps: [
          { id: "hold", type: "event", event: "go", timeoutSeconds: 600 },
          { id: "done", type: "transform", output: "ok", dependsOn: ["hold"] },
        ],
      },
    });
    expect(version.status, JSON.stringify(version.body)).toBe(201);
    const startOne = async () => (await api(`/workflows/${limited.body.id}/executions`, { input: {} })).body;
    const first = await startOne();
    const second = await startOne();
    expect(second.status).toBe("queued");

    const { context, page, problems } = await signedIn(admin);
    // The definition arrives late (a slow network): until then the queued execution has no steps to draw.
    let releaseDefinition = () => {};
    const definitionHeld = new Promise<void>((resolve) => {
      releaseDefinition = resolve;
    });
    await page.route(/\/versions\/\d+$/, async (route) => {
      await definitionHeld;
      await route.continue();
    });
    let tickets = 0;
    page.on("request", (request) => {
      if (request.url().endsWith("/stream-ticket")) tickets++;
    });
    await page.goto(`${stack.url}/executions/${second.id}`);
    const notice = page.getByRole("status").filter({ hasText: "Queued" });
    await expect.poll(() => notice.textContent()).toContain("1st in line behind a concurrency limit of 1");
    // Until it starts, cancelling is the one control that reaches it.
    expect(await page.getByRole("button", { name: "Pause" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Cancel" }).count()).toBe(1);
    await page.waitForTimeout(500);
    releaseDefinition();
    for (const step of ["hold", "done"]) await expect.poll(() => stepNode(page, step).count()).toBe(1);
    await expectNoSeriousViolations(page);
    // While it waits, the page asks for the stream at a calm pace, not in a tight loop.
    const before = tickets;
    await page.waitForTimeout(4_000);
    expect(tickets - before).toBeLessThanOrEqual(3);

    // The first one ends; the queued one starts and the page goes live with it.
    const sent = await api(`/executions/${first.id}/events/go`, { payload: {} });
    expect(sent.status, JSON.stringify(sent.body)).toBeLessThan(300);
    await expect.poll(() => stepNode(page, "hold").getAttribute("data-status"), { timeout: 20_000 }).toBe("waiting");
    await expect.poll(() => page.locator("[data-stream-state]").getAttribute("data-stream-state")).toBe("live");
    expect(await notice.count()).toBe(0);
    expect(problems).toEqual([]);
    await api(`/executions/${second.id}/events/go`, { payload: {} });
    await context.close();
  });

  it("draws a running map as one node whose counter moves live, and opens its items", async () => {
    await fetch(`${outside.url}/_scripts/map-item`, {
      method: "PUT",
      body: JSON.stringify({ responses: [{ status: 200, body: { ok: true }, delayMs: 700 }] }),
    });
    const created = await api("/workflows", { name: "Each document" });
    const version = await api(`/workflows/${created.body.id}/versions`, {
      definition: {
        steps: [
          {
            id: "each",
            type: "map",
            items: "{{input.docs}}",
            concurrency: 2,
            step: {
              type: "http",
              request: { url: `${outside.url}/s/map-item?doc={{item}}` },
              retry: { maxAttempts: 1 },
            },
          },
          { id: "merge", type: "transform", output: "{{steps.each.output.count}}", dependsOn: ["each"] },
        ],
      },
    });
    expect(version.status, JSON.stringify(version.body)).toBe(201);
    const { context, page, problems } = await signedIn(admin);
    const started = await api(`/workflows/${created.body.id}/executions`, { input: { docs: [1, 2, 3, 4, 5, 6] } });
    await page.goto(`${stack.url}/executions/${started.body.id}`);
    await expect.poll(() => page.locator("[data-stream-state]").getAttribute("data-stream-state")).toBe("live");
    // The counter on the node, read as it changes: it passes through the middle, not only the ends.
    const seen = new Set<string>();
    const meta = stepNode(page, "each").locator(".dag-node-meta");
    await expect
      .poll(
        async () => {
          const text = (await meta.textContent()) ?? "";
          seen.add(text);
          return text;
        },
        { timeout: 20_000, interval: 100 },
      )
      .toContain("6/6 done");
    expect(
      [...seen].some((text) => /map · [1-5]\/6 done/.test(text)),
      [...seen].join(" | "),
    ).toBe(true);
    await shoot(page, "execution-map");
    await stepNode(page, "each").click();
    await expect.poll(() => page.locator("[data-sub-step]").count()).toBe(6);
    expect(await page.locator('[data-sub-step="each[5]"]').textContent()).toContain("completed");
    await expectNoSeriousViolations(page);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows a compensated execution: what was undone, on the diagram, in a notice and on the timeline", async () => {
    await fetch(`${outside.url}/_scripts/booking`, {
      method: "PUT",
      body: JSON.stringify({ responses: [{ status: 200, body: { id: "B-7" } }] }),
    });
    await fetch(`${outside.url}/_scripts/payment`, {
      method: "PUT",
      body: JSON.stringify({ responses: [{ status: 402, body: { error: "declined" } }] }),
    });
    const created = await api("/workflows", { name: "Book and pay" });
    const version = await api(`/workflows/${created.body.id}/versions`, {
      definition: {
        steps: [
          {
            id: "book",
            type: "http",
            request: { url: `${outside.url}/s/booking`, method: "POST" },
            compensate: {
              type: "http",
              request: { url: `${outside.url}/s/booking?cancel={{steps.book.output.body.id}}`, method: "DELETE" },
            },
          },
          {
            id: "pay",
            type: "http",
            request: { url: `${outside.url}/s/payment`, method: "POST" },
            dependsOn: ["book"],
          },
        ],
      },
    });
    expect(version.status, JSON.stringify(version.body)).toBe(201);
    const started = await api(`/workflows/${created.body.id}/executions`, { input: {} });
    await expect
      .poll(async () => (await api(`/executions/${started.body.id}`)).body.status, { timeout: 20_000 })
      .toBe("failed");
    const { context, page, problems } = await signedIn(admin);
    await page.goto(`${stack.url}/executions/${started.body.id}`);
    await expect.poll(() => page.locator("[data-compensation]").textContent()).toContain("Compensated: book");
    expect(await stepNode(page, "book").locator(".dag-node-meta").textContent()).toBe("↺ compensated");
    expect(await page.locator(".timeline-label").allTextContents()).toContain("book[compensate]");
    await shoot(page, "execution-compensated");
    await expectNoSeriousViolations(page);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("serves the API docs from this origin under the same CSP, with no inline script", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchProblems(page);
    const response = await page.goto(`${stack.url}/api/v1/docs`);
    expect(page.url()).toBe(`${stack.url}/docs/`);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await expect
      .poll(() => page.locator(".swagger-ui .info .title").textContent(), { timeout: 15_000 })
      .toContain("IPA Platform API");
    expect(await page.locator(".opblock").count()).toBeGreaterThan(50);
    expect(problems).toEqual([]);
    await context.close();
  });
});

async function seqs(page: Page): Promise<number[]> {
  return (await page
    .locator("[data-seq]")
    .evaluateAll((items) => items.map((item) => Number(item.getAttribute("data-seq"))))) as number[];
}

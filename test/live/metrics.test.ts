import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { start, waitForExecution, workflowWith } from "../helpers/executions";
import { call } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

/** Parses Prometheus text into name{labels} -> value, checking every line is well-formed. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.trim().split("\n")) {
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+]+|\+Inf|NaN)$/.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ""}`, Number(match[3]));
  }
  return samples;
}

const scrape = async (token = env.METRICS_TOKEN) => {
  const res = await call("/metrics", { token });
  return { status: res.status, type: res.headers.get("content-type"), samples: parse(await res.text()) };
};

describe("metrics", () => {
  it("counts real executions, durations, retries and tokens from Postgres", async () => {
    const admin = await signIn("admin");
    const flaky = await scriptEndpoint([{ status: 503 }, { status: 200 }]);
    const workflowId = await workflowWith(admin.token, {
      steps: [
        { id: "call", type: "http", request: { url: flaky.url }, retry: { maxAttempts: 2, initialDelayMs: 50 } },
        { id: "boom", type: "transform", output: "{{input.missing}}", dependsOn: ["call"] },
      ],
    });
    const before = await scrape();
    const ids = [await start(admin.token, workflowId), await start(admin.token, workflowId)];
    for (const id of ids) await waitForExecution(admin.token, id);
    const after = await scrape();

    expect(after.status).toBe(200);
    expect(after.type).toMatch(/^text\/plain; version=0.0.4/);
    expect(after.samples.get(`ipa_execution_started_total{workflow_id="${workflowId}",trigger_type="manual"}`)).toBe(2);
    expect(after.samples.get(`ipa_execution_completed_total{workflow_id="${workflowId}",status="failed"}`)).toBe(2);
    const delta = (name: string) => (after.samples.get(name) ?? 0) - (before.samples.get(name) ?? 0);
    expect(delta('ipa_step_retries_total{step_type="http"}')).toBeGreaterThanOrEqual(1);
    expect(delta("ipa_execution_duration_seconds_count")).toBeGreaterThanOrEqual(2);
    expect(after.samples.get('ipa_execution_duration_seconds_bucket{le="+Inf"}')).toBe(
      after.samples.get("ipa_execution_duration_seconds_count"),
    );
    expect(after.samples.has('ipa_execution_duration_seconds_bucket{le="51.2"}')).toBe(true);
    expect(after.samples.has("ipa_active_executions")).toBe(true);
    expect(after.samples.has("ipa_steps_dead_lettered_total")).toBe(true);
    // Each queue's own backlog count. Other test files send and consume jobs meanwhile, so a
    // scrape is compared with the backlog read just before and just after it, until one matches.
    for (const queue of ["steps", "jobs"] as const) {
      const backlog = async () => (await env[queue === "steps" ? "STEPS_QUEUE" : "JOBS_QUEUE"].metrics()).backlogCount;
      const seen: Array<[number, number | undefined, number]> = [];
      for (let tries = 0; tries < 20; tries++) {
        const [before, scraped, afterward] = [await backlog(), await scrape(), await backlog()];
        const depth = scraped.samples.get(`ipa_queue_depth{queue_name="${queue}"}`);
        seen.push([before, depth, afterward]);
        if (depth === before || depth === afterward) break;
      }
      const [before, depth, afterward] = seen[seen.length - 1];
      expect([before, afterward], `${queue}: ${JSON.stringify(seen)}`).toContain(depth);
    }
  });

  it("is protected: the scraper token or an admin token, nothing else", async () => {
    expect((await call("/metrics")).status).toBe(401);
    expect((await call("/metrics", { token: "wrong-token" })).status).toBe(401);
    const user = await signIn("user");
    expect((await call("/metrics", { token: user.token })).status).toBe(403);
    const admin = await signIn("admin");
    expect((await call("/metrics", { token: admin.token })).status).toBe(200);
  });
});

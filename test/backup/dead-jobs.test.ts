/**
 * The jobs dead-letter queue: a job that failed every delivery is acknowledged there, logged and
 * counted in ipa_jobs_dead_lettered_total by job type (wrangler.toml routes ipa-jobs' failures to it).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call } from "../helpers/http";

const deadJobs = async (jobType: string) => {
  const text = await (await call("/metrics", { token: env.METRICS_TOKEN })).text();
  const line = new RegExp(`^ipa_jobs_dead_lettered_total\\{job_type="${jobType}"\\} (\\d+)$`, "m");
  return Number(line.exec(text)?.[1] ?? 0);
};

describe("the jobs dead-letter queue", () => {
  it("acknowledges, logs and counts each job that failed every delivery, by job type", async () => {
    const before = { verify: await deadJobs("verify"), malformed: await deadJobs("malformed") };
    const batch = createMessageBatch("ipa-jobs-dlq", [
      { id: "dead-1", timestamp: new Date(), attempts: 4, body: { type: "verify", backupId: crypto.randomUUID() } },
      { id: "dead-2", timestamp: new Date(), attempts: 4, body: { type: "verify", backupId: crypto.randomUUID() } },
      { id: "dead-3", timestamp: new Date(), attempts: 4, body: { nonsense: true } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(true);
    expect(result.retryMessages).toEqual([]);
    expect(await deadJobs("verify")).toBe(before.verify + 2);
    expect(await deadJobs("malformed")).toBe(before.malformed + 1);
  });
});

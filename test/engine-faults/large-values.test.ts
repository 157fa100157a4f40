/**
 * No stored row, event or snapshot exceeds a platform limit: outputs over 128 KB go to R2 behind
 * a reference, templates read them back, the output route returns them whole, and over 10 MB
 * fails the step with output_too_large.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { connect, ticketFor } from "../helpers/stream";
import { signIn } from "../helpers/users";

const items = (count: number, size: number) =>
  Array.from({ length: count }, (_, i) => ({ id: i, text: `${"x".repeat(size)}` }));

describe("large values", () => {
  it("keeps a 300 KB answer in R2, reads it back in templates and returns it whole", async () => {
    const user = await signIn("user");
    const big = { marker: "found-me", items: items(300, 1000) };
    const api = await scriptEndpoint([{ status: 200, body: big }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "fetch", type: "http", request: { url: api.url } },
          {
            id: "pick",
            type: "transform",
            output: { marker: "{{steps.fetch.output.body.marker}}", last: "{{steps.fetch.output.body.items[299].id}}" },
            dependsOn: ["fetch"],
          },
        ],
      }),
    );
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(stepOf(done, "pick").output).toEqual({ marker: "found-me", last: 299 });
    const ref = stepOf(done, "fetch").output;
    expect(ref).toMatchObject({
      $ref: `outputs/${id}/fetch/1.json`,
      bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(ref.bytes).toBeGreaterThan(300_000);
    expect(ref.preview.length).toBeLessThanOrEqual(512);
    expect(await env.STORAGE.head(ref.$ref)).not.toBeNull();

    const whole = await callJson(`/api/v1/executions/${id}/steps/fetch/output`, { token: user.token });
    expect(whole.status).toBe(200);
    expect(whole.body).toMatchObject({ offloaded: true, output: { status: 200, body: big } });

    const [row] = await query<{ bytes: number }>(
      "select octet_length(output::text) as bytes from execution_steps where execution_id = $1 and step_id = 'fetch'",
      [id],
    );
    expect(row.bytes).toBeLessThan(2_000);
    const viewer = await connect(id, await ticketFor(user.token, id));
    const snapshot = await viewer.waitFor((m) => m.type === "snapshot");
    expect(JSON.stringify(snapshot).length).toBeLessThan(64 * 1024);
    viewer.close();
  });

  it("fails a step whose output would be over 10 MB with output_too_large", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([{ status: 200, body: { items: items(900, 1000) } }]);
    const copies = Array.from({ length: 12 }, () => "{{steps.fetch.output.body}}");
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "fetch", type: "http", request: { url: api.url } },
          { id: "blowup", type: "transform", output: copies, dependsOn: ["fetch"] },
        ],
      }),
    );
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("failed");
    expect(stepOf(done, "blowup")).toMatchObject({ status: "failed", error: { reason: "output_too_large" } });
  });

  it("never holds all sink outputs inline in the execution record", async () => {
    const user = await signIn("user");
    const api = await scriptEndpoint([{ status: 200, body: { items: items(100, 1000) } }]);
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: ["a", "b", "c"].map((name) => ({ id: name, type: "http", request: { url: `${api.url}/${name}` } })),
      }),
    );
    const done = await waitForExecution(user.token, id);
    expect(done.status).toBe("completed");
    expect(done.output).toMatchObject({ $ref: `outputs/${id}/execution-1.json` });
    for (const name of ["a", "b", "c"]) expect(stepOf(done, name).output.body.items).toHaveLength(100);
  });
});

/**
 * Durable token streams (docs/engine.md): the text an agent attempt has streamed is kept in its object,
 * replayed to a viewer who connects or resumes mid-answer, and survives the object's eviction —
 * without the model being asked again.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { fakeModelAgent, streamed } from "../helpers/openai";
import { connect, ticketFor, type Viewer } from "../helpers/stream";
import { signIn } from "../helpers/users";

const PIECES = ["Hel", "lo", " wor", "ld, ", "again."];

/** A gated agent step whose model streams PIECES, holding after the second until released. */
async function heldAnswer() {
  const admin = await signIn("admin");
  const { endpoint, agent } = await fakeModelAgent(admin.token, [streamed(PIECES, { holdAfter: 2 })], {
    stream: true,
  });
  const workflowId = await workflowWith(admin.token, {
    steps: [
      { id: "gate", type: "approval" },
      { id: "ask", type: "agent", agentId: agent.id, prompt: "hi", dependsOn: ["gate"] },
    ],
  });
  const id = await start(admin.token, workflowId);
  await waitForExecution(admin.token, id, (e) => stepOf(e, "gate").status === "waiting");
  return { admin, endpoint, id };
}

/** The text as a viewer rebuilds it from `token` messages: each replaces from its offset on. */
function rebuilt(viewer: Viewer): string {
  let text = "";
  for (const m of viewer.messages.filter((message) => message.type === "token"))
    text = text.slice(0, m.offset) + m.text;
  return text;
}

const tokens = (viewer: Viewer) => viewer.messages.filter((m) => m.type === "token");
const lastSeq = (viewer: Viewer) => Math.max(0, ...viewer.messages.filter((m) => m.seq).map((m) => m.seq));

describe("durable token streams", () => {
  it("replays the text so far to a viewer who resumes mid-answer: no gap, no duplicate", async () => {
    const { admin, endpoint, id } = await heldAnswer();
    const first = await connect(id, await ticketFor(admin.token, id));
    await callJson(`/api/v1/executions/${id}/steps/gate/approve`, { method: "POST", token: admin.token });
    await first.waitFor(() => rebuilt(first) === "Hello");
    expect(tokens(first).map(({ offset, text }) => [offset, text])).toEqual([
      [0, "Hel"],
      [3, "lo"],
    ]);
    first.close();

    // Back, with the events it saw: the text so far comes first, as one replay.
    const resumed = await connect(id, await ticketFor(admin.token, id), lastSeq(first));
    const replay = await resumed.waitFor((m) => m.type === "token");
    expect(replay).toEqual({ type: "token", stepId: "ask", attempt: 1, offset: 0, text: "Hello", replay: true });
    await endpoint.release();
    const done = await resumed.waitFor((m) => m.event === "step.completed" && m.stepId === "ask");
    expect(done.data.output.text).toBe("Hello world, again.");
    expect(rebuilt(resumed)).toBe("Hello world, again.");
    // Every character arrived once: the replay, then only what followed it.
    expect(tokens(resumed).reduce((chars, m) => chars + m.text.length, 0)).toBe("Hello world, again.".length);
    resumed.close();
  });

  it("keeps the text through an eviction mid-answer, without asking the model again", async () => {
    const { admin, endpoint, id } = await heldAnswer();
    const viewer = await connect(id, await ticketFor(admin.token, id));
    await callJson(`/api/v1/executions/${id}/steps/gate/approve`, { method: "POST", token: admin.token });
    await viewer.waitFor(() => rebuilt(viewer) === "Hello");
    // Evicted: its memory is gone (hibernated sockets stay open); only its storage remains.
    await evictDurableObject(env.EXECUTIONS.get(env.EXECUTIONS.idFromName(id)));
    viewer.close();

    const after = await connect(id, await ticketFor(admin.token, id));
    expect(await after.waitFor((m) => m.type === "token")).toMatchObject({ offset: 0, text: "Hello", replay: true });
    await endpoint.release();
    const done = await waitForExecution(admin.token, id, undefined, 30_000);
    expect(stepOf(done, "ask").output.text).toBe("Hello world, again.");
    await after.waitFor(() => rebuilt(after) === "Hello world, again.");
    expect(await endpoint.requests()).toHaveLength(1);
    after.close();
  });

  it("replays nothing once the step has ended (the output holds the text)", async () => {
    const { admin, endpoint, id } = await heldAnswer();
    await callJson(`/api/v1/executions/${id}/steps/gate/approve`, { method: "POST", token: admin.token });
    await endpoint.release();
    await waitForExecution(admin.token, id);
    const late = await connect(id, await ticketFor(admin.token, id));
    await late.waitFor((m) => m.type === "snapshot");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(tokens(late)).toEqual([]);
    late.close();
  });
});

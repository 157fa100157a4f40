import { describe, expect, it } from "vitest";
import { query } from "../helpers/db";
import { start, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { connect, ticketFor } from "../helpers/stream";
import { signIn } from "../helpers/users";

/** A workflow that waits for an approval, so viewers can join before its events flow. */
const gated = {
  steps: [
    { id: "gate", type: "approval" },
    { id: "a", type: "transform", output: 1, dependsOn: ["gate"] },
    { id: "b", type: "transform", output: "{{steps.a.output}}", dependsOn: ["a"] },
  ],
};

async function gatedExecution() {
  const user = await signIn("user");
  const id = await start(user.token, await workflowWith(user.token, gated));
  await waitForExecution(user.token, id, (e) => e.steps.find((s: any) => s.stepId === "gate")?.status === "waiting");
  return { user, id };
}

const approve = (token: string, id: string) =>
  callJson(`/api/v1/executions/${id}/steps/gate/approve`, { method: "POST", token });
const isDone = (m: any) => m.type === "event" && m.event === "execution.completed";

describe("execution stream", () => {
  it("sends a snapshot, then every event in order", async () => {
    const { user, id } = await gatedExecution();
    const viewer = await connect(id, await ticketFor(user.token, id));
    const snapshot = await viewer.waitFor((m) => m.type === "snapshot");
    expect(snapshot.execution).toMatchObject({ id, status: "running" });
    expect(snapshot.execution.steps.map((s: any) => [s.stepId, s.status])).toEqual([
      ["gate", "waiting"],
      ["a", "pending"],
      ["b", "pending"],
    ]);

    await approve(user.token, id);
    await viewer.waitFor(isDone);
    const events = viewer.messages.filter((m) => m.type === "event");
    expect(events.map((m) => m.seq)).toEqual(events.map((_, i) => snapshot.seq + 1 + i));
    expect(events.map((m) => [m.event, m.stepId])).toEqual([
      ["step.completed", "gate"],
      ["step.started", "a"],
      ["step.completed", "a"],
      ["step.started", "b"],
      ["step.completed", "b"],
      ["execution.completed", null],
    ]);
    expect(events[4].data.output).toBe(1);
    viewer.close();
  });

  it("resumes after=N with exactly the events after N and no snapshot", async () => {
    const { user, id } = await gatedExecution();
    await approve(user.token, id);
    await waitForExecution(user.token, id);
    const full = await connect(id, await ticketFor(user.token, id), 0);
    const all = await full.waitFor(isDone).then(() => full.messages);
    const resumed = await connect(id, await ticketFor(user.token, id), 4);
    await resumed.waitFor(isDone);
    expect(resumed.messages.some((m) => m.type === "snapshot")).toBe(false);
    expect(resumed.messages.map((m) => m.seq)).toEqual(all.filter((m) => m.seq > 4).map((m) => m.seq));
    expect(resumed.messages[0].seq).toBe(5);
    full.close();
    resumed.close();
  });

  it("refuses a used or expired ticket with 4401", async () => {
    const { user, id } = await gatedExecution();
    const ticket = await ticketFor(user.token, id);
    (await connect(id, ticket)).close();
    expect((await (await connect(id, ticket)).closed).code).toBe(4401);

    const expired = await ticketFor(user.token, id);
    await query(
      "update stream_tickets set expires_at = now() - interval '1 second' where used_at is null and execution_id = $1",
      [id],
    );
    expect((await (await connect(id, expired)).closed).code).toBe(4401);
    expect((await (await connect(id, "not-a-ticket")).closed).code).toBe(4401);
  });

  it("closes with 4404 for an execution the ticket holder may not see", async () => {
    const { id } = await gatedExecution();
    const other = await gatedExecution();
    const foreignTicket = await ticketFor(other.user.token, other.id);
    expect((await (await connect(id, foreignTicket)).closed).code).toBe(4404);
    const stranger = await signIn("user");
    expect(
      (await callJson(`/api/v1/executions/${id}/stream-ticket`, { method: "POST", token: stranger.token })).status,
    ).toBe(404);
  });

  it("delivers every event to each of 50 viewers", async () => {
    const { user, id } = await gatedExecution();
    const viewers = await Promise.all(
      Array.from({ length: 50 }, async () => connect(id, await ticketFor(user.token, id))),
    );
    await Promise.all(viewers.map((v) => v.waitFor((m) => m.type === "snapshot")));
    await approve(user.token, id);
    await Promise.all(viewers.map((v) => v.waitFor(isDone)));
    const sequences = viewers.map((v) =>
      v.messages
        .filter((m) => m.type === "event")
        .map((m) => m.seq)
        .join(","),
    );
    expect(new Set(sequences).size).toBe(1);
    expect(sequences[0].split(",")).toHaveLength(6);
    for (const viewer of viewers) viewer.close();
  });

  it("answers ping with pong, and refuses plain HTTP", async () => {
    const { user, id } = await gatedExecution();
    const viewer = await connect(id, await ticketFor(user.token, id));
    viewer.socket.send("ping");
    expect(await viewer.waitFor((m) => m === "pong")).toBe("pong");
    viewer.close();
    const plain = await callJson(`/api/v1/executions/${id}/stream?ticket=x`, { token: user.token });
    expect(plain.status).toBe(400);
  });
});

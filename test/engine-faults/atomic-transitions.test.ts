/** A transition that throws leaves the object's storage exactly as it was. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { startRequest } from "../helpers/machine";

type Transitioning = { transition(change: (machine: { start(request: unknown): void }) => unknown): Promise<unknown> };

describe("atomic transitions", () => {
  it("rolls back a command that throws halfway: no record, no events, no timers, no phantom stream events", async () => {
    const stub = env.EXECUTIONS.get(env.EXECUTIONS.idFromName(`atomic-${crypto.randomUUID()}`));
    const request = startRequest({
      steps: [
        { id: "wait", type: "delay", seconds: 60 },
        { id: "call", type: "http", request: { url: "https://api.example.com" } },
      ],
    });
    const outcome = await runInDurableObject(stub, async (instance) => {
      try {
        await (instance as unknown as Transitioning).transition((machine) => {
          machine.start(request);
          throw new Error("the runtime failed halfway through a transition");
        });
        return "no error";
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(outcome).toBe("the runtime failed halfway through a transition");
    const left = await runInDurableObject(stub, (_instance, state) => {
      const count = (table: string) => state.storage.sql.exec(`select count(*) as n from ${table}`).one().n;
      return { meta: count("meta"), steps: count("steps"), events: count("events"), timers: count("typed_timers") };
    });
    expect(left).toEqual({ meta: 0, steps: 0, events: 0, timers: 0 });
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull();
  });
});

/**
 * The typed client (src/client.ts): hc<AppType> against the Worker itself. The calls below compile
 * only because the routers are chained into AppType; the @ts-expect-error lines fail the
 * typecheck the day a path, body or answer stops being typed.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createClient } from "../../src/client";
import { signIn } from "../helpers/users";

const fetchWorker: typeof fetch = (input, init) => exports.default.fetch(new Request(input, init));

describe("the typed client", () => {
  it("creates a workflow, publishes a version, starts and reads an execution, all typed", async () => {
    const user = await signIn("user");
    const ipa = createClient("https://ipa.test", {
      fetch: fetchWorker,
      headers: { authorization: `Bearer ${user.token}` },
    });

    const created = await ipa.api.v1.workflows.$post({ json: { name: "typed client" } });
    expect(created.status).toBe(201);
    const workflow = await created.json();
    if (!("id" in workflow)) throw new Error("no workflow");

    const version = await ipa.api.v1.workflows[":id"].versions.$post({
      param: { id: workflow.id },
      json: { definition: { steps: [{ id: "hi", type: "transform", output: { text: "hi {{input.name}}" } }] } },
    });
    expect(version.status).toBe(201);

    const started = await ipa.api.v1.workflows[":id"].executions.$post({
      param: { id: workflow.id },
      json: { input: { name: "Ada" } },
      header: {},
    });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };

    let status = "";
    for (let i = 0; i < 50 && status !== "completed"; i++) {
      const res = await ipa.api.v1.executions[":id"].$get({ param: { id } });
      const execution = await res.json();
      status = "status" in execution ? execution.status : "";
      if (status !== "completed") await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe("completed");

    const list = await ipa.api.v1.executions.$get({ query: { workflowId: workflow.id, limit: "10" } });
    const page = await list.json();
    expect("items" in page && page.items.map((e) => e.id)).toEqual([id]);

    // @ts-expect-error: a workflow's body has no field "title" (the compiler says so, and so does the API).
    const refused = await ipa.api.v1.workflows.$post({ json: { title: "x" } });
    expect(refused.status).toBe(422);
    // @ts-expect-error: there is no such route.
    expect(ipa.api.v1.nowhere).toBeDefined();
  });
});

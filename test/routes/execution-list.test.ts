/**
 * A user's executions list (docs/security.md): the executions they started and those of the
 * workflows they own, newest first, paged without repeats or gaps, and nobody else's.
 */
import { describe, expect, it } from "vitest";
import { start, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { signIn } from "../helpers/users";

const DEFINITION = { steps: [{ id: "t", type: "transform", output: 1 }] };

interface IdPage {
  items: Array<{ id: string }>;
  nextCursor: string | null;
}

async function pages(token: string, search: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const path: string = `/api/v1/executions?limit=2&${search}${cursor ? `&cursor=${cursor}` : ""}`;
    const res: { status: number; body: IdPage } = await callJson<IdPage>(path, { token });
    expect(res.status).toBe(200);
    ids.push(...res.body.items.map((item) => item.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  return ids;
}

describe("a user's executions list", () => {
  it("holds what they started and what runs on their workflows, newest first, in pages", async () => {
    const owner = await signIn("user");
    const admin = await signIn("admin");
    const other = await signIn("user");
    const own = await workflowWith(owner.token, DEFINITION);
    const theirs = await workflowWith(other.token, DEFINITION);
    const started: string[] = [];
    started.push(await start(owner.token, own));
    // Started by someone else, on the owner's workflow: the owner's to read.
    await callJson(`/api/v1/workflows/${own}/executions`, { token: admin.token, body: {} }).then((res) =>
      started.push(res.body.id),
    );
    started.push(await start(owner.token, own));
    await start(other.token, theirs);
    started.push(await start(owner.token, own));
    started.push(await start(owner.token, own));

    expect(await pages(owner.token, "")).toEqual([...started].reverse());
    expect(await pages(owner.token, `workflowId=${theirs}`)).toEqual([]);
    expect(await pages(other.token, "")).not.toContain(started[1]);
  });
});

/** Scripting the outside world (test/fixtures/outside-world.ts) from inside workerd. */
import { env } from "cloudflare:workers";
import type { ScriptedResponse } from "../fixtures/outside-world";
import { uniqueName } from "./users";

export interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A fresh endpoint answering with `responses` in turn (the last one repeats). */
export async function scriptEndpoint(responses: ScriptedResponse[], name = uniqueName("ep")) {
  const res = await fetch(`${env.TEST_OUTSIDE_URL}/_scripts/${name}`, {
    method: "PUT",
    body: JSON.stringify({ responses }),
  });
  if (res.status !== 204) throw new Error(`scripting ${name} failed: ${res.status}`);
  return {
    name,
    url: `${env.TEST_OUTSIDE_URL}/s/${name}`,
    /** The same endpoint at another origin (another port). */
    otherOriginUrl: `${env.TEST_OTHER_ORIGIN_URL}/s/${name}`,
    requests: async (): Promise<Recorded[]> => (await fetch(`${env.TEST_OUTSIDE_URL}/_requests/${name}`)).json(),
    release: () => fetch(`${env.TEST_OUTSIDE_URL}/_release/${name}`, { method: "POST" }),
    /** The endpoint's own count: requests served, answering now, and the most at once. */
    stats: async (): Promise<{ served: number; inFlight: number; maxInFlight: number }> =>
      (await fetch(`${env.TEST_OUTSIDE_URL}/_stats/${name}`)).json(),
  };
}

/**
 * A typed client of the platform's API for TypeScript users: `hc<AppType>` from hono/client, so
 * every path, parameter, body and answer is checked by the compiler.
 *
 *   const ipa = createClient("https://ipa.example.com", { headers: { authorization: `Bearer ${token}` } });
 *   const res = await ipa.api.v1.workflows.$post({ json: { name: "Greeter" } });
 */
import { type ClientRequestOptions, hc } from "hono/client";
import type { AppType } from "./app";

export type { AppType };

export function createClient(baseUrl: string, options?: ClientRequestOptions) {
  return hc<AppType>(baseUrl, options);
}

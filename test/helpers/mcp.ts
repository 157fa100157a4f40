/** An MCP client (the official SDK's, over Streamable HTTP) talking to the Worker's /mcp as a signed-in caller. */
import { exports } from "cloudflare:workers";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";

export const MCP_URL = new URL("https://ipa.test/mcp");

export async function connectMcpAs(token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(MCP_URL, {
    fetch: (url, init) => exports.default.fetch(new Request(url, init)),
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = new Client(
    { name: "ipa-test-agent", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  return client;
}

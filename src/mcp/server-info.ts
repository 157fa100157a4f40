/** How the platform names itself to MCP peers, as a server (/mcp) and as a client (mcp tools). */
export const SERVER_INFO = { name: "ipa-platform", version: "1.0.0" };

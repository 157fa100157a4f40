/** Where an agent's API key is sealed, and reading it as Postgres holds it now. */
import { eq } from "drizzle-orm";
import type { Settings } from "../config";
import { openPlatformDatabase } from "../db/client";
import { agents } from "../db/schema";

/** The column an agent's API key is sealed to. */
export const agentKeyBinding = (agentId: string) => ({ table: "agents", column: "api_key", rowId: agentId });

/** The agent's API key as sealed in Postgres now (an execution's snapshot may predate a re-seal). */
export async function currentSealedAgentKey(config: Settings, agentId: string): Promise<string | null> {
  const session = openPlatformDatabase(config, { max: 1 });
  try {
    const [row] = await session.db.select({ apiKey: agents.apiKey }).from(agents).where(eq(agents.id, agentId));
    return row?.apiKey ?? null;
  } finally {
    await session.close();
  }
}

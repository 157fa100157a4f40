/** Finds free TCP ports on loopback, so several checkouts can run side by side. */
import { createServer } from "node:net";

/** Resolves `port` when it is free, else the next free one above it (0 = any free port). */
export async function freePort(preferred = 0): Promise<number> {
  for (let candidate = preferred; candidate < preferred + 200; candidate++) {
    const port = await tryListen(candidate);
    if (port !== null) return port;
    if (preferred === 0) break;
  }
  throw new Error(`no free port near ${preferred}`);
}

/** True when nothing listens on `port` (the caller then binds it itself). */
export async function isPortFree(port: number): Promise<boolean> {
  return (await tryListen(port)) !== null;
}

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(null));
    server.listen(port, "127.0.0.1", () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

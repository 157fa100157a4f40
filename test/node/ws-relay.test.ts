import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort } from "../../scripts/lib/ports.ts";
import { type Relay, startRelay } from "../../scripts/lib/ws-relay.ts";

let echo: Server;
let echoPort: number;
let relay: Relay;

beforeAll(async () => {
  echoPort = await freePort();
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(echoPort, "127.0.0.1", resolve));
  relay = await startRelay({ port: await freePort(), target: `127.0.0.1:${echoPort}`, controllable: true });
});

afterAll(async () => {
  await relay.close();
  echo.close();
});

function roundTrip(address: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${relay.directWsProxy}?address=${address}`);
    ws.on("open", () => ws.send(Buffer.from(payload)));
    ws.on("message", (data) => {
      resolve(String(data));
      ws.close();
    });
    ws.on("close", (code) => reject(new Error(`closed ${code}`)));
    ws.on("error", reject);
  });
}

describe("WebSocket relay", () => {
  it("pipes bytes to its one target and back", async () => {
    expect(await roundTrip(`localhost:${echoPort}`, "ping")).toBe("ping");
  });

  it("refuses any other address, so it is not an open proxy", async () => {
    await expect(roundTrip("example.com:5432", "x")).rejects.toThrow(/closed 1008/);
    await expect(roundTrip(`localhost:${echoPort + 1}`, "x")).rejects.toThrow(/closed 1008/);
  });

  it("refuses connections while down and serves again when up", async () => {
    await fetch(`http://127.0.0.1:${relay.port}/control/down`, { method: "POST" });
    await expect(roundTrip(`localhost:${echoPort}`, "x")).rejects.toThrow(/closed/);
    await fetch(`http://127.0.0.1:${relay.port}/control/up`, { method: "POST" });
    expect(await roundTrip(`localhost:${echoPort}`, "back")).toBe("back");
  });

  it("counts round trips, and with a latency makes each cost it (NEON_RELAY_LATENCY_MS)", async () => {
    const far = await startRelay({ port: await freePort(), target: `127.0.0.1:${echoPort}`, latencyMs: 120 });
    try {
      const ws = new WebSocket(`ws://${far.directWsProxy}?address=localhost:${echoPort}`);
      await new Promise((resolve, reject) => ws.on("open", resolve).on("error", reject));
      // The echo may answer two messages as one chunk: count the characters that came back.
      let received = "";
      const answered = (count: number) =>
        new Promise<void>((resolve) => {
          const check = () => (received.length >= count ? resolve() : setTimeout(check, 5));
          check();
        });
      ws.on("message", (data) => {
        received += String(data);
      });
      const stats = async () => (await (await fetch(far.statsUrl)).json()) as { roundTrips: number; latencyMs: number };
      const began = performance.now();
      // Two messages sent together (pipelined) are one round trip; the next, after the answer, another.
      ws.send(Buffer.from("a"));
      ws.send(Buffer.from("b"));
      await answered(1);
      const first = performance.now() - began;
      await answered(2);
      ws.send(Buffer.from("c"));
      await answered(3);
      ws.close();
      expect(await stats()).toEqual({ roundTrips: 2, latencyMs: 120 });
      expect(first).toBeGreaterThanOrEqual(115);
      expect(performance.now() - began).toBeGreaterThanOrEqual(230);
    } finally {
      await far.close();
    }
  });
});

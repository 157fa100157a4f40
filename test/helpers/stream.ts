/** Opening execution streams from inside workerd, as a browser would (ticket, then WebSocket). */
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { callJson } from "./http";

export interface Viewer {
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  socket: WebSocket;
  /** Resolves once a message matching `predicate` has arrived. */
  waitFor(predicate: (message: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): void;
}

export async function ticketFor(token: string, executionId: string): Promise<string> {
  const res = await callJson(`/api/v1/executions/${executionId}/stream-ticket`, { method: "POST", token });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.ticket;
}

export async function connect(executionId: string, ticket: string, after?: number): Promise<Viewer> {
  const query = new URLSearchParams({ ticket });
  if (after !== undefined) query.set("after", String(after));
  const res = await exports.default.fetch(`https://ipa.test/api/v1/executions/${executionId}/stream?${query}`, {
    headers: { upgrade: "websocket" },
  });
  const socket = res.webSocket;
  if (res.status !== 101 || !socket) throw new Error(`no WebSocket: ${res.status} ${await res.text()}`);
  socket.accept();
  const messages: any[] = [];
  const waiters: Array<{ predicate: (m: any) => boolean; resolve: (m: any) => void }> = [];
  socket.addEventListener("message", (event) => {
    const message = event.data === "pong" ? "pong" : JSON.parse(event.data as string);
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })),
  );
  return {
    messages,
    closed,
    socket,
    waitFor: (predicate, timeoutMs = 15_000) => {
      const seen = messages.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching message; got ${JSON.stringify(messages).slice(0, 2000)}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    close: () => socket.close(1000, "done"),
  };
}

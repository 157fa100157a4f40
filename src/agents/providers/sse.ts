/** Reads a server-sent-events body as a stream of `data:` payloads (parsed by eventsource-parser). */
import { EventSourceParserStream } from "eventsource-parser/stream";

export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value.data) yield value.data;
  }
}

/** Reading archived execution logs back from R2 (gzip NDJSON, one line per event). */
import type { LogLine } from "./log-line";

export async function readArchive(bucket: R2Bucket, key: string): Promise<LogLine[]> {
  const object = await bucket.get(key);
  if (!object) throw new Error(`archived logs ${key} are missing from R2`);
  const text = await new Response(object.body.pipeThrough(new DecompressionStream("gzip"))).text();
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);
}

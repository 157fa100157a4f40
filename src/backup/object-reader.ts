/**
 * Reads backup objects back from R2: first their stored bytes (size and sha256, compared with the
 * manifest), then their SQL statements (decrypted and decompressed on the fly).
 */
import { createHash } from "node:crypto";
import { type FrameContext, FrameOpener } from "./frames";
import { StatementSplitter } from "./sql-text";

export class ObjectCheckError extends Error {}

export async function measureObject(
  bucket: R2Bucket,
  key: string,
  name: string,
): Promise<{ bytes: number; sha256: string; etag: string }> {
  const object = await bucket.get(key);
  if (!object) throw new ObjectCheckError(`object ${name} is missing from R2`);
  const hash = createHash("sha256");
  let bytes = 0;
  const reader = object.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    bytes += value.length;
  }
  return { bytes, sha256: hash.digest("hex"), etag: object.etag };
}

/** Yields the object's statements in order. */
export async function* readStatements(
  bucket: R2Bucket,
  key: string,
  name: string,
  encryption: FrameContext | null,
  /** The version that was checked against the manifest; any other is refused. */
  etag?: string,
): AsyncGenerator<string> {
  const object = await bucket.get(key, etag ? { onlyIf: { etagMatches: etag } } : undefined);
  if (!object) throw new ObjectCheckError(`object ${name} is missing from R2`);
  if (!("body" in object)) throw new ObjectCheckError(`object ${name} changed after it was checked`);
  const gunzip = new DecompressionStream("gzip");
  const writer = gunzip.writable.getWriter();
  const feeding = (async () => {
    const opener = encryption ? new FrameOpener(encryption) : null;
    const reader = object.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const plain of opener ? await opener.push(value) : [value]) await writer.write(plain);
    }
    for (const plain of opener ? await opener.finish() : []) await writer.write(plain);
    await writer.close();
  })();
  // A chunk that does not decrypt must end the reading side too, not leave it waiting.
  feeding.catch((error) => writer.abort(error).catch(() => {}));
  const splitter = new StatementSplitter();
  const text = gunzip.readable.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (;;) {
      const { done, value } = await text.read();
      if (done) break;
      yield* splitter.push(value);
    }
  } catch (error) {
    // A decryption failure aborts the gzip stream too; report the cause, not the symptom.
    await feeding;
    throw error;
  }
  await feeding;
  splitter.finish();
}

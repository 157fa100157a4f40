/**
 * Writes one backup object to R2 as it is produced: SQL text → gzip → (chunk encryption) →
 * sha256 and size counted over the stored bytes → R2, as one put when small, else a multipart
 * upload of equal 8 MiB parts (R2 wants parts of one size, at least 5 MiB, but the last).
 */
import { createHash } from "node:crypto";
import { ByteQueue } from "./byte-queue";
import { FRAME_PLAINTEXT_BYTES, type FrameContext, sealFrame } from "./frames";

export const PART_BYTES = 8 * 1024 * 1024;

export interface StoredObject {
  name: string;
  key: string;
  bytes: number;
  sha256: string;
}

export class ObjectWriter {
  private readonly bucket: R2Bucket;
  private readonly key: string;
  private readonly name: string;
  private readonly encryption: FrameContext | null;
  private readonly hash = createHash("sha256");
  private readonly encoder = new TextEncoder();
  private readonly gzip = new CompressionStream("gzip");
  private readonly input: WritableStreamDefaultWriter<Uint8Array>;
  private readonly pump: Promise<void>;
  private stored = 0;
  private readonly plain = new ByteQueue();
  private frames = 0;
  private readonly part = new ByteQueue();
  private upload: R2MultipartUpload | null = null;
  private readonly parts: R2UploadedPart[] = [];

  constructor(bucket: R2Bucket, key: string, name: string, encryption: FrameContext | null) {
    this.bucket = bucket;
    this.key = key;
    this.name = name;
    this.encryption = encryption;
    this.input = this.gzip.writable.getWriter();
    this.pump = this.consume(this.gzip.readable);
    // A failed pump surfaces on the next write or on close; keep it from being unhandled meanwhile.
    this.pump.catch(() => {});
  }

  async write(text: string): Promise<void> {
    await this.input.ready;
    await this.input.write(this.encoder.encode(text));
  }

  async close(): Promise<StoredObject> {
    try {
      await this.input.close();
      await this.pump;
      if (this.upload) {
        if (this.part.length > 0)
          this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.part.take(this.part.length)));
        await this.upload.complete(this.parts);
      } else {
        await this.bucket.put(this.key, this.part.take(this.part.length));
      }
    } catch (error) {
      await this.upload?.abort().catch(() => {});
      throw error;
    }
    return { name: this.name, key: this.key, bytes: this.stored, sha256: this.hash.digest("hex") };
  }

  private async consume(readable: ReadableStream<Uint8Array>): Promise<void> {
    const reader = readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!this.encryption) {
        await this.emit(value);
        continue;
      }
      this.plain.push(value);
      // Strictly more than a frame: the last frame (sealed at the end, marked last) is never empty.
      while (this.plain.length > FRAME_PLAINTEXT_BYTES) {
        await this.emit(await sealFrame(this.encryption, this.plain.take(FRAME_PLAINTEXT_BYTES), this.frames++, false));
      }
    }
    if (this.encryption)
      await this.emit(await sealFrame(this.encryption, this.plain.take(this.plain.length), this.frames++, true));
  }

  private async emit(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    this.stored += bytes.length;
    this.part.push(bytes);
    while (this.part.length > PART_BYTES) {
      this.upload ??= await this.bucket.createMultipartUpload(this.key);
      this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.part.take(PART_BYTES)));
    }
  }
}

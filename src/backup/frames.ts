/**
 * Chunked encryption of backup objects (docs/operations.md): WebCrypto has no streaming AES-GCM, so the
 * compressed stream is cut into chunks, each sealed on its own with associated data naming the
 * backup, the object, the chunk number and whether it is the last, so chunks cannot be
 * reordered, moved between objects or dropped from the end. Stored as [u32 length][iv|ciphertext].
 * Also used by the restore CLI in Node, hence its explicit `.ts` imports.
 */
import { utf8 } from "../crypto/encoding.ts";
import type { Keyring } from "../crypto/keyring.ts";
import { ByteQueue } from "./byte-queue.ts";

export const FRAME_PLAINTEXT_BYTES = 1024 * 1024;

export interface FrameContext {
  keyring: Keyring;
  keyId: string;
  backupId: string;
  objectName: string;
}

function associatedData(context: FrameContext, index: number, last: boolean) {
  return utf8(`${context.backupId}\u0000${context.objectName}\u0000${index}\u0000${last ? 1 : 0}`);
}

export async function sealFrame(
  context: FrameContext,
  plaintext: Uint8Array<ArrayBuffer>,
  index: number,
  last: boolean,
) {
  const sealed = await context.keyring.sealChunk(plaintext, associatedData(context, index, last), context.keyId);
  const frame = new Uint8Array(4 + sealed.length);
  new DataView(frame.buffer).setUint32(0, sealed.length);
  frame.set(sealed, 4);
  return frame;
}

/** Reads frames from stored bytes as they arrive and yields their plaintext. */
export class FrameOpener {
  private readonly buffer = new ByteQueue();
  private index = 0;
  private pending: Uint8Array<ArrayBuffer> | null = null;
  private readonly context: FrameContext;

  constructor(context: FrameContext) {
    this.context = context;
  }

  /** Plaintext of every frame known not to be the last one. */
  async push(bytes: Uint8Array): Promise<Uint8Array[]> {
    this.buffer.push(bytes);
    const out: Uint8Array[] = [];
    while (this.buffer.length >= 4) {
      const header = this.buffer.peek(4);
      const length = new DataView(header.buffer, header.byteOffset).getUint32(0);
      if (this.buffer.length < 4 + length) break;
      // A frame is only opened once the next one starts, so the last is opened as the last.
      if (this.pending) out.push(await this.open(this.pending, false));
      this.buffer.take(4);
      this.pending = this.buffer.take(length);
    }
    return out;
  }

  async finish(): Promise<Uint8Array[]> {
    if (this.buffer.length > 0) throw new Error("the encrypted object ends inside a chunk");
    if (!this.pending) throw new Error("the encrypted object has no chunks");
    const last = await this.open(this.pending, true);
    this.pending = null;
    return [last];
  }

  private async open(sealed: Uint8Array<ArrayBuffer>, last: boolean): Promise<Uint8Array> {
    const plain = await this.context.keyring.openChunk(
      sealed,
      associatedData(this.context, this.index, last),
      this.context.keyId,
    );
    this.index++;
    return plain;
  }
}

/** A queue of byte chunks that hands out exact-size pieces without copying everything each push. */

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Removes and returns the first `n` bytes (fewer if fewer are queued). */
  take(n: number): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(Math.min(n, this.length));
    let filled = 0;
    while (filled < out.length) {
      const chunk = this.chunks[0];
      const piece = chunk.subarray(this.head, this.head + (out.length - filled));
      out.set(piece, filled);
      filled += piece.length;
      this.head += piece.length;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.length -= out.length;
    return out;
  }

  /** The first `n` bytes, left in place (n ≤ length). */
  peek(n: number): Uint8Array {
    const saved = { chunks: [...this.chunks], head: this.head, length: this.length };
    const out = this.take(n);
    Object.assign(this, saved);
    return out;
  }
}

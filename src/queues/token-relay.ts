/**
 * Relays model tokens to the execution's object as they stream in (docs/engine.md token durability).
 * At most one publish is in flight; tokens that arrive meanwhile go out together in the next one,
 * so a fast model costs a bounded number of calls and a slow one is relayed at once. Each publish
 * says where its text starts in the attempt's text, so a publish retried after a failure (an
 * evicted object, a dropped call) is taken once: nothing is lost and nothing doubled.
 */

/** Tries per publish before the text is given up (viewers still get the step's output at its end). */
const TRIES = 5;
const RETRY_MS = 200;

export class TokenRelay {
  private pending = "";
  private sent: number;
  private inFlight: Promise<void> | null = null;
  private readonly publish: (offset: number, text: string) => Promise<void>;

  /** `startAt`: the attempt's text the object already holds (from before a takeover). */
  constructor(startAt: number, publish: (offset: number, text: string) => Promise<void>) {
    this.sent = startAt;
    this.publish = publish;
  }

  push(text: string): void {
    this.pending += text;
    this.inFlight ??= this.drain();
  }

  /** Resolves once every pushed token has been published (or given up). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const text = this.pending;
      this.pending = "";
      for (let attempt = 1; attempt <= TRIES; attempt++) {
        try {
          await this.publish(this.sent, text);
          break;
        } catch {
          // Tokens are a courtesy to viewers: losing them never fails the step.
          if (attempt < TRIES) await new Promise((resolve) => setTimeout(resolve, RETRY_MS * attempt));
        }
      }
      this.sent += text.length;
    }
    this.inFlight = null;
  }
}

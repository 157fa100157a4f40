/**
 * Relays model tokens to the execution's viewers as they stream in. At most one publish is in
 * flight; tokens that arrive meanwhile go out together in the next one, so a fast model costs a
 * bounded number of calls and a slow one is relayed at once.
 */

export class TokenRelay {
  private pending = "";
  private inFlight: Promise<void> | null = null;
  private readonly publish: (text: string) => Promise<void>;

  constructor(publish: (text: string) => Promise<void>) {
    this.publish = publish;
  }

  push(text: string): void {
    this.pending += text;
    this.inFlight ??= this.drain();
  }

  /** Resolves once every pushed token has been published (or failed to be). */
  async flush(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const text = this.pending;
      this.pending = "";
      // Tokens are a courtesy to viewers: losing one never fails the step.
      await this.publish(text).catch(() => {});
    }
    this.inFlight = null;
  }
}

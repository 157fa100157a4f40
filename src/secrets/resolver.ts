/**
 * Opening `{{secrets.NAME}}` where a request is sent (SPEC §4), and only there: the steps consumer
 * fills the templates of an http step's url, headers and body (and of http and MCP tools) from
 * the sealed secrets its task carries, and scrubs every value it opened out of what it reports
 * back (an echoed header, an error quoting the URL), so no copy of the execution ever holds one.
 */
import type { Keyring } from "../crypto/keyring";
import type { SendableText } from "../engine/template";
import { secretBinding } from "./sealed";
import type { SealedLookup } from "./sealed-source";

export class SecretMissingError extends Error {
  readonly secretName: string;

  constructor(name: string) {
    super(`the secret ${name} is not set (neither for the workflow nor for the platform)`);
    this.secretName = name;
  }
}

export class SecretInjectionError extends Error {}

/** Where a filled value goes: a URL (percent-encoded), a header value (no line breaks), or raw text. */
export type Placement = "url" | "header" | "raw";

export class SecretResolver {
  private readonly lookup: SealedLookup;
  private readonly keyring: Keyring;
  private readonly opened = new Map<string, string>();

  constructor(lookup: SealedLookup, keyring: Keyring) {
    this.lookup = lookup;
    this.keyring = keyring;
  }

  /**
   * `text` with its secrets filled in. Only the secret parts are opened: the literal parts are
   * final, whatever they hold (data is never a template). In a URL a secret is percent-encoded
   * unless it is the whole URL.
   */
  async fill(text: SendableText, placement: Placement): Promise<string> {
    let out = "";
    for (const part of text) {
      if (typeof part === "string") {
        out += part;
        continue;
      }
      const value = await this.open(part.secret);
      out += placement === "url" && text.length > 1 ? encodeURIComponent(value) : value;
    }
    if (placement === "header" && /[\r\n]/.test(out))
      throw new SecretInjectionError("a header value may not hold a line break");
    return out;
  }

  /** Scrubs `value` from results too: a write-only value opened elsewhere (a tool's sealed header). */
  track(label: string, value: string): void {
    if (!this.opened.has(label)) this.opened.set(label, value);
  }

  /** Whether any secret was opened (a request that carried one). */
  get used(): boolean {
    return this.opened.size > 0;
  }

  /** `value` with every opened secret (and its percent-encoded form) replaced by `[secret:NAME]`. */
  scrub<T>(value: T): T {
    if (this.opened.size === 0) return value;
    return this.scrubValue(value) as T;
  }

  private scrubValue(value: unknown): unknown {
    if (typeof value === "string") {
      let out = value;
      for (const [name, secret] of this.opened) {
        if (secret.length < 4) continue;
        out = out.split(secret).join(`[secret:${name}]`);
        const encoded = encodeURIComponent(secret);
        if (encoded !== secret) out = out.split(encoded).join(`[secret:${name}]`);
      }
      return out;
    }
    if (Array.isArray(value)) return value.map((item) => this.scrubValue(item));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.scrubValue(item)]));
    }
    return value;
  }

  private async open(name: string): Promise<string> {
    const known = this.opened.get(name);
    if (known !== undefined) return known;
    const sealed = await this.lookup(name);
    if (!sealed) throw new SecretMissingError(name);
    const value = await this.keyring.decrypt(sealed.sealed, secretBinding(sealed.id));
    this.opened.set(name, value);
    return value;
  }
}

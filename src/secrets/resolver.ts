/**
 * Opening `{{secrets.NAME}}` where a request is sent (docs/workflows.md), and only there: the steps consumer
 * fills the templates of an http step's url, headers and body (and of http and MCP tools) from
 * the sealed secrets its task carries, and scrubs every value it opened out of what it reports
 * back (an echoed header, an error quoting the URL), so no copy of the execution ever holds one.
 */
import type { Keyring } from "../crypto/keyring";
import type { SendableText } from "../engine/template";
import { normalHost } from "../net/address-guard";
import { secretBinding } from "./sealed";
import type { SealedLookup } from "./sealed-source";

/** A secret that is not set, or not one this workflow (or tool) may use: the message does not say which. */
export class SecretMissingError extends Error {
  readonly secretName: string;

  constructor(name: string) {
    super(`the secret ${name} is not available to this workflow`);
    this.secretName = name;
  }
}

/** A request carrying a secret was about to go to a host outside the secret's `allowedHosts`. */
export class SecretHostRefusedError extends Error {}

export class SecretInjectionError extends Error {}

/** Where a filled value goes: a URL (percent-encoded), a header value (no line breaks), or raw text. */
export type Placement = "url" | "header" | "raw";

export class SecretResolver {
  private readonly lookup: SealedLookup;
  private readonly keyring: Keyring;
  private readonly opened = new Map<string, string>();
  /** The allowed hosts of each opened secret that has them. */
  private readonly hostRules = new Map<string, string[]>();

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

  /**
   * Throws SecretHostRefusedError unless every secret opened so far may go to `url`'s host: run
   * on the first URL and on every redirect hop, before anything is sent there.
   */
  readonly assertHostAllowed = (url: URL): void => {
    const host = normalHost(url.hostname);
    for (const [name, allowed] of this.hostRules) {
      if (!allowed.some((pattern) => hostMatches(url.hostname, pattern)))
        throw new SecretHostRefusedError(`the secret ${name} may not be sent to ${host}`);
    }
  };

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
    if (sealed.allowedHosts) this.hostRules.set(name, sealed.allowedHosts);
    return value;
  }
}

/** `pattern` is a host name, or `*.suffix` for any name under suffix. */
export function hostMatches(hostname: string, pattern: string): boolean {
  const host = normalHost(hostname);
  const wanted = normalHost(pattern);
  return wanted.startsWith("*.") ? host.endsWith(wanted.slice(1)) && host.length > wanted.length - 1 : host === wanted;
}

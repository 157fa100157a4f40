/**
 * Refuses backup SQL that psql would read as a meta-command. psql treats a backslash outside quotes
 * and comments as the start of one (`\! rm -rf`, `\copy … to program`, `\connect`), so an object
 * that reaches psql must hold none: the restore CLI streams every decompressed byte through this
 * scanner before psql sees it. It follows PostgreSQL's lexical rules for what can hide a backslash:
 * '…' and E'…' strings, "…" identifiers, $tag$…$tag$ bodies, -- comments and nested block comments.
 */

export class MetaCommandError extends Error {
  constructor(line: number) {
    super(`line ${line} holds a backslash outside a string: psql would run it as a meta-command`);
  }
}

type State =
  | { kind: "code" }
  | { kind: "string"; escapes: boolean }
  | { kind: "identifier" }
  | { kind: "dollar"; tag: string }
  | { kind: "line-comment" }
  | { kind: "block-comment"; depth: number };

const IDENT = /[A-Za-z0-9_]/;
const LONGEST_TAG = 64;

export class PsqlGuard {
  private state: State = { kind: "code" };
  private line = 1;
  /** Text held back: a `$` whose tag may continue in the next chunk, or a pending escape. */
  private pending = "";
  private previous = "";

  /** Scans `text`; throws MetaCommandError at the first meta-command. */
  push(text: string): void {
    const input = this.pending + text;
    this.pending = "";
    let i = 0;
    while (i < input.length) {
      const ch = input[i];
      const next = input[i + 1];
      const state = this.state;
      if (ch === "\n") this.line++;
      switch (state.kind) {
        case "code": {
          if (ch === "\\") throw new MetaCommandError(this.line);
          if (ch === "'")
            this.state = { kind: "string", escapes: /[Ee]/.test(this.previous) && !IDENT.test(input[i - 2] ?? "") };
          else if (ch === '"') this.state = { kind: "identifier" };
          else if (ch === "-" && next === undefined) {
            this.hold(input, i);
            return;
          } else if (ch === "-" && next === "-") this.state = { kind: "line-comment" };
          else if (ch === "/" && next === undefined) {
            this.hold(input, i);
            return;
          } else if (ch === "/" && next === "*") {
            this.state = { kind: "block-comment", depth: 1 };
            i++;
          } else if (ch === "$" && !IDENT.test(this.previous)) {
            const match = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(input.slice(i, i + LONGEST_TAG + 2));
            if (!match && i + LONGEST_TAG + 2 > input.length) {
              this.hold(input, i);
              return;
            }
            if (match) {
              this.state = { kind: "dollar", tag: match[0] };
              i += match[0].length - 1;
            }
          }
          break;
        }
        case "string":
          if (state.escapes && ch === "\\") {
            if (next === undefined) {
              this.hold(input, i);
              return;
            }
            if (next === "\n") this.line++;
            i++;
          } else if (ch === "'") {
            if (next === undefined) {
              this.hold(input, i);
              return;
            }
            if (next === "'") i++;
            else this.state = { kind: "code" };
          }
          break;
        case "identifier":
          if (ch === '"') this.state = { kind: "code" };
          break;
        case "dollar":
          if (ch === "$" && input.startsWith(state.tag, i)) {
            i += state.tag.length - 1;
            this.state = { kind: "code" };
          } else if (ch === "$" && i + state.tag.length > input.length) {
            this.hold(input, i);
            return;
          }
          break;
        case "line-comment":
          if (ch === "\n") this.state = { kind: "code" };
          break;
        case "block-comment":
          if (ch === "*" && next === undefined) {
            this.hold(input, i);
            return;
          }
          if (ch === "/" && next === undefined) {
            this.hold(input, i);
            return;
          }
          if (ch === "*" && next === "/") {
            i++;
            this.state = state.depth === 1 ? { kind: "code" } : { kind: "block-comment", depth: state.depth - 1 };
          } else if (ch === "/" && next === "*") {
            i++;
            this.state = { kind: "block-comment", depth: state.depth + 1 };
          }
          break;
      }
      this.previous = input[i];
      i++;
    }
  }

  /** The input must end outside every string and comment. */
  finish(): void {
    this.push("");
    if (this.pending) this.push(`${this.pending}\n`);
  }

  private hold(input: string, from: number): void {
    // The newline count is redone when the held text is scanned again.
    for (const ch of input.slice(from)) if (ch === "\n") this.line--;
    this.pending = input.slice(from);
  }
}

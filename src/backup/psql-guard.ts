/**
 * Refuses backup SQL that psql would read as a meta-command. psql treats a backslash outside quotes
 * and comments as the start of one (`\! rm -rf`, `\copy … to program`, `\connect`), so an object
 * that reaches psql must hold none: the restore CLI streams every decompressed byte through this
 * scanner before psql sees it, and the input must end outside every string and comment.
 *
 * It follows PostgreSQL's lexical rules for what can hide a backslash: '…' and E'…' strings, "…"
 * identifiers, $tag$…$tag$ bodies, -- comments and nested block comments. Whether a backslash in a
 * plain '…' string escapes the next character depends on `standard_conforming_strings`, which any
 * statement may change (a SET, set_config(), a function), and psql lexes what follows accordingly.
 * So the scanner does not guess the setting: it lexes every way psql could, forking at each
 * statement's end into both settings, and refuses a backslash that any of them leaves outside a
 * string. The restore starts psql with the setting on; a backup the platform wrote reads the same
 * under both (its strings with backslashes are E'…'), so only SQL written to confuse psql is refused.
 */

export class MetaCommandError extends Error {
  constructor(line: number) {
    super(`line ${line} holds a backslash outside a string: psql would run it as a meta-command`);
  }
}

export class UnterminatedError extends Error {
  constructor() {
    super("the SQL ends inside a string, identifier or comment: psql would read what follows differently");
  }
}

type Lexical =
  | { kind: "code" }
  | { kind: "string"; escapes: boolean }
  | { kind: "identifier" }
  | { kind: "dollar"; tag: string }
  | { kind: "line-comment" }
  | { kind: "block-comment"; depth: number };

/** One way psql could be reading the input: its setting, where it is, and characters still to pass over. */
interface Reading {
  standardStrings: boolean;
  state: Lexical;
  skip: number;
}

const IDENT = /[A-Za-z0-9_]/;
const LONGEST_TAG = 64;
/** What a step may look at past its character: a dollar quote's whole tag. */
const LOOKAHEAD = LONGEST_TAG + 2;
const CODE: Lexical = { kind: "code" };

export class PsqlGuard {
  private readings: Reading[] = [{ standardStrings: true, state: CODE, skip: 0 }];
  /** Text not scanned yet (the last LOOKAHEAD characters wait for more). */
  private buffer = "";
  /** The two characters scanned last (an E'…' string is told by what precedes its quote). */
  private before = "  ";
  private line = 1;

  /** Scans `text`; throws MetaCommandError at the first meta-command any reading sees. */
  push(text: string): void {
    this.buffer += text;
    this.scan(LOOKAHEAD);
  }

  /** Scans what is left; the input must end outside every string and comment. */
  finish(): void {
    this.scan(0);
    if (this.readings.some((reading) => reading.skip > 0 || !["code", "line-comment"].includes(reading.state.kind)))
      throw new UnterminatedError();
  }

  private scan(keep: number): void {
    const text = this.before + this.buffer;
    let at = 2;
    for (; at < text.length - keep; at++) {
      let stepped: Reading[] | null = null;
      for (let r = 0; r < this.readings.length; r++) {
        const reading = this.readings[r];
        const after = step(reading, text, at, this.line);
        if (after === reading && stepped === null) continue;
        // Most characters change no reading; the first that does starts the next list.
        stepped ??= this.readings.slice(0, r);
        if (Array.isArray(after)) stepped.push(...after);
        else stepped.push(after);
      }
      // Only a change can make two readings alike.
      if (stepped) this.readings = [...new Map(stepped.map((reading) => [JSON.stringify(reading), reading])).values()];
      if (text[at] === "\n") this.line++;
    }
    this.before = text.slice(at - 2, at);
    this.buffer = text.slice(at);
  }
}

/**
 * Where one reading goes after the character at `at`: the same reading (most characters), another,
 * or two at a statement's end.
 */
function step(reading: Reading, text: string, at: number, line: number): Reading | [Reading, Reading] {
  if (reading.skip > 0) return { ...reading, skip: reading.skip - 1 };
  const ch = text[at];
  const next = text[at + 1];
  const go = (state: Lexical, skip = 0): Reading => ({ ...reading, state, skip });
  const { state } = reading;
  switch (state.kind) {
    case "code":
      if (ch === "\\") throw new MetaCommandError(line);
      if (ch === "'") return go({ kind: "string", escapes: escapesIn(reading, text, at) });
      if (ch === '"') return go({ kind: "identifier" });
      if (ch === "-" && next === "-") return go({ kind: "line-comment" }, 1);
      if (ch === "/" && next === "*") return go({ kind: "block-comment", depth: 1 }, 1);
      if (ch === "$" && !IDENT.test(text[at - 1])) {
        const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(at, at + LOOKAHEAD))?.[0];
        if (tag) return go({ kind: "dollar", tag }, tag.length - 1);
      }
      // The statement ends; the next may be read under either setting (this one may have changed it).
      if (ch === ";") return [reading, { ...reading, standardStrings: !reading.standardStrings }];
      return reading;
    case "string":
      if (state.escapes && ch === "\\") return go(state, 1);
      if (ch === "'") return next === "'" ? go(state, 1) : go(CODE);
      return reading;
    case "identifier":
      return ch === '"' ? go(CODE) : reading;
    case "dollar":
      return ch === "$" && text.startsWith(state.tag, at) ? go(CODE, state.tag.length - 1) : reading;
    case "line-comment":
      return ch === "\n" ? go(CODE) : reading;
    case "block-comment":
      if (ch === "*" && next === "/")
        return go(state.depth === 1 ? CODE : { kind: "block-comment", depth: state.depth - 1 }, 1);
      if (ch === "/" && next === "*") return go({ kind: "block-comment", depth: state.depth + 1 }, 1);
      return reading;
  }
}

/**
 * Whether a backslash escapes inside the string whose quote is at `at`: always in E'…'; never in
 * U&'…', B'…' and X'…' (psql lexes those without escapes); in a plain '…' only when
 * standard_conforming_strings is off.
 */
function escapesIn(reading: Reading, text: string, at: number): boolean {
  const prefix = text[at - 1];
  const word = !IDENT.test(text[at - 2]);
  if (/[Ee]/.test(prefix) && word) return true;
  if (/[BbXx]/.test(prefix) && word) return false;
  if (prefix === "&" && /[Uu]/.test(text[at - 2])) return false;
  return !reading.standardStrings;
}

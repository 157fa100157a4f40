/** Every table of the system of record; drizzle-kit generates migrations/ from these. */
export * from "./users";

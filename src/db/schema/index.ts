/** Every table of the system of record; drizzle-kit generates migrations/ from these. */
export * from "./agents";
export * from "./audit";
export * from "./auth";
export * from "./backups";
export * from "./bulk-jobs";
export * from "./executions";
export * from "./notifications";
export * from "./secrets";
export * from "./triggers";
export * from "./users";
export * from "./workflows";

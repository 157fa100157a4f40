/** `npm run db:migrate`: applies migrations/ to DATABASE_URL (Neon or any PostgreSQL). */
import { runMigrations } from "./lib/migrate.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is required, e.g. DATABASE_URL=postgres://… npm run db:migrate");
  process.exit(1);
}
await runMigrations(url);
console.log("migrations applied");

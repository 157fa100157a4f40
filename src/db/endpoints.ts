/**
 * Neon's two endpoints for one database (docs/operations.md connection budget). The API, the execution
 * objects, the consumers and the cron use the pooled one (`ep-…-pooler.<region>.neon.tech`,
 * PgBouncer in transaction mode, which multiplexes thousands of client connections onto the
 * compute's bounded pool), whichever DATABASE_URL names; backups and their verification use the
 * direct one, since they hold one snapshot in one long transaction with session settings and a
 * session advisory lock. Hosts that are not Neon's (local PostgreSQL) are used as given: there
 * the local relay's two paths are the two endpoints (NEON_WS_PROXY pooled, NEON_DIRECT_WS_PROXY
 * direct; scripts/lib/ws-relay.ts).
 */

const NEON_HOST = /^(ep-[a-z0-9-]+?)(-pooler)?(\.[a-z0-9.-]+\.neon\.tech)$/;

/** The pooled endpoint of a Neon DATABASE_URL. */
export function pooledConnectionString(url: string): string {
  return withHost(url, (host) => host.replace(NEON_HOST, (_, endpoint, _pooler, rest) => `${endpoint}-pooler${rest}`));
}

/** The direct endpoint of a Neon DATABASE_URL (backups, verification). */
export function directConnectionString(url: string): string {
  return withHost(url, (host) => host.replace(NEON_HOST, (_, endpoint, _pooler, rest) => `${endpoint}${rest}`));
}

function withHost(url: string, change: (host: string) => string): string {
  try {
    const parsed = new URL(url);
    parsed.hostname = change(parsed.hostname);
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Backups read one snapshot over one long transaction, so they use Neon's direct endpoint, not its pooler. */

export function directConnectionString(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.hostname = parsed.hostname.replace(/-pooler(?=\.)/, "");
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * A bucket someone else controls, served over the two S3 calls the restore CLI makes
 * (ListObjectsV2 and GetObject), for tests that play an attacker with write access to R2.
 * Signatures are not checked: the attacker's bucket accepts the CLI's credentials.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeBucket {
  /** R2_* settings that point the restore CLI at this bucket. */
  env: Record<string, string>;
  objects: Map<string, Uint8Array>;
  close(): Promise<void>;
}

export async function serveBucket(name: string, objects: Map<string, Uint8Array>): Promise<FakeBucket> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://bucket");
    const key = decodeURIComponent(url.pathname.slice(`/${name}/`.length));
    if (url.searchParams.get("list-type") === "2") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix));
      res.setHeader("content-type", "application/xml");
      res.end(
        `<ListBucketResult>${keys.map((k) => `<Contents><Key>${k}</Key></Contents>`).join("")}</ListBucketResult>`,
      );
      return;
    }
    const body = objects.get(key);
    res.statusCode = body ? 200 : 404;
    res.end(body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: {
      R2_ENDPOINT: `http://127.0.0.1:${port}`,
      R2_ACCOUNT_ID: "attacker",
      R2_ACCESS_KEY_ID: "key",
      R2_SECRET_ACCESS_KEY: "secret",
      R2_BUCKET: name,
    },
    objects,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

import { describe, expect, it } from "vitest";
import { signGet } from "../../scripts/lib/restore/sigv4.ts";

describe("SigV4 for R2's S3 API", () => {
  it("signs the AWS documentation's GET Object example exactly", () => {
    const headers = signGet(
      new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
      {
        accessKeyId: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
      },
      new Date("2013-05-24T00:00:00Z"),
      { Range: "bytes=0-9" },
    );
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date," +
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
  });

  it("signs list requests with sorted, encoded query parameters", () => {
    const url = new URL("https://acct.r2.cloudflarestorage.com/bucket/?prefix=backups/&list-type=2");
    const headers = signGet(
      url,
      { accessKeyId: "id", secretAccessKey: "secret", region: "auto" },
      new Date("2026-11-22T00:00:00Z"),
    );
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=id\/20261122\/auto\/s3\/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=[0-9a-f]{64}$/,
    );
  });
});

import { describe, expect, it } from "vitest";
import { r2Client } from "../../scripts/lib/restore/r2-client.ts";

/** The signing examples of the AWS S3 documentation ("Signature Calculations: Examples"). */
const AWS_EXAMPLE = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
};

describe("SigV4 for R2's S3 API", () => {
  it.each([
    [
      "GET Bucket Lifecycle",
      "https://examplebucket.s3.amazonaws.com/?lifecycle",
      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    ],
    [
      "Get Bucket (List Objects)",
      "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    ],
  ])("signs the documentation's %s example exactly", async (_, url, signature) => {
    const request = await r2Client(AWS_EXAMPLE).sign(url, "20130524T000000Z");
    expect(request.headers.get("authorization")).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
        `SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
    );
  });

  it("signs R2 list requests in region auto", async () => {
    const request = await r2Client({ accessKeyId: "id", secretAccessKey: "secret", region: "auto" }).sign(
      "https://acct.r2.cloudflarestorage.com/bucket/?prefix=backups/&list-type=2",
      "20261122T000000Z",
    );
    expect(request.headers.get("authorization")).toMatch(
      /^AWS4-HMAC-SHA256 Credential=id\/20261122\/auto\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });
});

/** Signed GETs to R2's S3 API (the restore path when the platform is down), by aws4fetch. */
import { AwsClient } from "aws4fetch";

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The SHA-256 of an empty body: GETs sign it rather than UNSIGNED-PAYLOAD, as the AWS examples do. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export function r2Client(credentials: S3Credentials) {
  const aws = new AwsClient({ ...credentials, service: "s3" });
  const init = (datetime?: string) => ({
    headers: { "x-amz-content-sha256": EMPTY_SHA256 },
    ...(datetime ? { aws: { datetime } } : {}),
  });
  return {
    /** The request a GET of `url` sends (`datetime` as YYYYMMDDTHHMMSSZ, for tests). */
    sign: (url: URL | string, datetime?: string) => aws.sign(String(url), init(datetime)),
    get: (url: URL | string) => aws.fetch(String(url), init()),
  };
}

/**
 * The outbound address guard: names normalised before they are checked, every special-purpose
 * range refused, every redirect hop re-checked, and credentials dropped on a redirect to another
 * origin.
 */
import { describe, expect, it } from "vitest";
import { AddressRefusedError, assertPublicUrl } from "../../src/net/address-guard";
import { start, stepOf, waitForExecution, workflowWith } from "../helpers/executions";
import { callJson } from "../helpers/http";
import { scriptEndpoint } from "../helpers/outside";
import { signIn } from "../helpers/users";

const refusal = (url: string, allowlist: string[] = []) => {
  try {
    assertPublicUrl(url, allowlist);
    return null;
  } catch (error) {
    if (error instanceof AddressRefusedError) return error.message;
    throw error;
  }
};

describe("the address guard", () => {
  it.each([
    // The finding: a metadata address with a trailing dot, and its other spellings.
    ["http://169.254.169.254./latest/meta-data", "link-local"],
    ["http://METADATA.GOOGLE.INTERNAL./computeMetadata/v1/", "local name"],
    ["http://2852039166/", "link-local"],
    ["http://0xa9.0xfe.0xa9.0xfe/", "link-local"],
    ["http://0251.0376.0251.0376/", "link-local"],
    ["http://localhost./", "local name"],
    ["http://LocalHost/", "local name"],
    ["http://api.localhost/", "local name"],
    ["http://printer.local/", "local name"],
    ["http://router.home.arpa/", "local name"],
    ["http://intranet/", "local name"],
    ["http://127.1/", "loopback"],
    ["http://0.0.0.0/", "this-network"],
    ["http://10.0.0.1/", "private"],
    ["http://172.16.5.4/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://100.64.0.1/", "carrier-grade NAT"],
    ["http://192.0.0.9/", "IETF protocol"],
    ["http://192.0.2.1/", "documentation"],
    ["http://198.18.0.1/", "benchmarking"],
    ["http://224.0.0.1/", "multicast"],
    ["http://240.0.0.1/", "reserved"],
    ["http://255.255.255.255/", "reserved"],
    ["http://[::1]/", "loopback"],
    ["http://[::]/", "unspecified"],
    ["http://[::ffff:169.254.169.254]/", "link-local"],
    ["http://[::ffff:a9fe:a9fe]/", "link-local"],
    ["http://[::127.0.0.1]/", "IPv4-compatible"],
    ["http://[64:ff9b::a9fe:a9fe]/", "NAT64"],
    ["http://[64:ff9b:1::1]/", "NAT64"],
    ["http://[2002:a9fe:a9fe::1]/", "6to4"],
    ["http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"],
    ["http://[fec0::1]/", "site-local"],
    ["http://[fc00::1]/", "unique-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[ff02::1]/", "multicast"],
    ["http://[2001:db8::1]/", "documentation"],
    ["http://[100::1]/", "discard"],
  ])("refuses %s", (url, kind) => {
    expect(refusal(url)).toContain(kind);
  });

  it("refuses other schemes and credentials in URLs", () => {
    expect(refusal("file:///etc/passwd")).toContain("only http and https");
    expect(refusal("gopher://example.com/")).toContain("only http and https");
    expect(refusal("https://user:pw@example.com/")).toContain("credentials");
  });

  it.each([
    "https://example.com/",
    "https://EXAMPLE.com./path",
    "https://1.1.1.1/",
    "http://[2606:4700:4700::1111]/",
    "https://203.0.114.1/",
  ])("lets %s through", (url) => {
    expect(refusal(url)).toBeNull();
  });

  it("lets exactly the allowlisted hosts (and ports) through", () => {
    expect(refusal("http://127.0.0.1:9000/", ["127.0.0.1"])).toBeNull();
    expect(refusal("http://LOCALHOST.:9000/", ["localhost"])).toBeNull();
    expect(refusal("http://10.1.2.3:8080/", ["10.1.2.3:8080"])).toBeNull();
    expect(refusal("http://10.1.2.3:8081/", ["10.1.2.3:8080"])).toContain("private");
    expect(refusal("http://api.corp.internal/", ["*.corp.internal"])).toBeNull();
    expect(refusal("http://corp.internal/", ["*.corp.internal"])).toContain("local name");
  });
});

describe("redirects", () => {
  it("re-checks every hop, and drops credentials on a redirect to another origin", async () => {
    const user = await signIn("user");
    const admin = await signIn("admin");
    const name = `REDIRECT_${crypto.randomUUID().replace(/-/g, "").slice(0, 10).toUpperCase()}`;
    await callJson(`/api/v1/secrets/${name}`, {
      method: "PUT",
      token: admin.token,
      body: { value: "s3cret-v4lue", sharedWithUsers: true },
    });
    const metadata = await scriptEndpoint([{ status: 302, headers: { location: "http://169.254.169.254/latest/" } }]);
    const echo = await scriptEndpoint([{ status: 200, echo: true }]);
    const away = await scriptEndpoint([{ status: 307, headers: { location: echo.otherOriginUrl } }]);
    const sameEcho = await scriptEndpoint([{ status: 200, echo: true }]);
    const near = await scriptEndpoint([{ status: 307, headers: { location: sameEcho.url } }]);
    const headers = {
      authorization: "Bearer plain-token",
      cookie: "session=abc",
      "x-vendor-key": `{{secrets.${name}}}`,
      "x-trace": "kept",
    };
    const id = await start(
      user.token,
      await workflowWith(user.token, {
        steps: [
          { id: "hop", type: "http", request: { url: metadata.url }, continueOnError: true },
          { id: "away", type: "http", request: { url: away.url, method: "POST", headers, body: { a: 1 } } },
          { id: "near", type: "http", request: { url: near.url, method: "POST", headers, body: { a: 1 } } },
        ],
      }),
    );
    const done = await waitForExecution(user.token, id);
    expect(stepOf(done, "hop")).toMatchObject({
      status: "failed",
      attempt: 1,
      error: { reason: "address_refused", message: expect.stringContaining("169.254.169.254") },
    });
    const [crossed] = await echo.requests();
    expect(crossed.headers.authorization).toBeUndefined();
    expect(crossed.headers.cookie).toBeUndefined();
    expect(crossed.headers["x-vendor-key"]).toBeUndefined();
    expect(crossed.headers["x-trace"]).toBe("kept");
    expect(crossed.body).toBe('{"a":1}');
    const [stayed] = await sameEcho.requests();
    expect(stayed.headers.authorization).toBe("Bearer plain-token");
    expect(stayed.headers["x-vendor-key"]).toBe("s3cret-v4lue");
  });
});

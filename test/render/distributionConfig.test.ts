import * as YAML from "yaml";
import { ClusterArgs, DistributionServer } from "../../components/model/cluster";
import { normalizeCluster } from "../../components/model/normalizeCluster";
import { normalizeRegistries } from "../../components/model/normalize";
import { renderDistributionConfig } from "../../components/render/distributionConfig";
import { expectGolden } from "../helpers/golden";

const V3 = "docker.io/library/registry:3.0.0@sha256:" + "b".repeat(64);
const CUSTOM = "mirror.example.com/tools/registry@sha256:" + "c".repeat(64);

function cluster(args: ClusterArgs) {
  return normalizeCluster(args, {
    registries: normalizeRegistries({ "ghcr.io": { server: "https://ghcr.example.com" } }),
  });
}
const hosted = (args: ClusterArgs["registry"] = {}) =>
  cluster({ registry: args }).registry as DistributionServer;
const cache = (upstream: string, args: object) =>
  cluster({ caches: { [upstream]: { service: { type: "ClusterIP" }, ...args } } }).caches[0];

describe("renderDistributionConfig goldens", () => {
  test("hosted registry with the defaults", () => {
    const out = renderDistributionConfig(hosted());
    expectGolden("distributionConfig/hosted.yml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      version: "0.1",
      log: { level: "info", fields: { service: "registry" } },
      storage: { filesystem: { rootdirectory: "/var/lib/registry" }, delete: { enabled: true } },
      http: { addr: ":5000", headers: { "X-Content-Type-Options": ["nosniff"] } },
      health: { storagedriver: { enabled: true, interval: "10s", threshold: 3 } },
    });
    expect(out.warnings).toEqual([]);
  });

  test("hosted registry with htpasswd auth and TLS from Secrets", () => {
    const out = renderDistributionConfig(
      hosted({
        auth: { secretName: "registry-htpasswd", realm: "lab" },
        tls: { secretName: "registry-tls" },
      }),
    );
    expectGolden("distributionConfig/hosted-auth-tls.yml", out.content);
    const doc = YAML.parse(out.content);
    expect(doc.auth).toEqual({ htpasswd: { realm: "lab", path: "/auth/htpasswd" } });
    expect(doc.http.tls).toEqual({ certificate: "/certs/tls.crt", key: "/certs/tls.key" });
  });

  test("pull-through cache of Docker Hub on distribution 3 with a TTL and upstream credentials", () => {
    const out = renderDistributionConfig(
      cache("docker.io", { image: V3, ttl: "72h", credentials: { secretName: "hub" } }),
    );
    expectGolden("distributionConfig/cache-docker-io-v3.yml", out.content);
    const doc = YAML.parse(out.content);
    expect(doc.proxy).toEqual({ remoteurl: "https://registry-1.docker.io", ttl: "72h" });
    // A cache refuses deletes anyway; the hosted registry's delete section is left out.
    expect(doc.storage).toEqual({ filesystem: { rootdirectory: "/var/lib/registry" } });
    // The credentials never reach the file: they come from the Secret as environment variables.
    expect(out.content).not.toMatch(/username|password/);
    expect(out.warnings).toEqual([
      {
        path: 'cluster.caches["docker.io"].credentials',
        message:
          'distribution sends upstream credentials only after a Bearer (token) challenge, never to an upstream that asks for Basic (htpasswd) auth: against such an upstream every pull through the cache fails ("manifest unknown"); use them with token-auth registries (Docker Hub, ghcr.io, quay.io, Harbor)',
      },
    ]);
  });

  test("cache of a declared registry takes its server as remote URL", () => {
    const out = renderDistributionConfig(cache("ghcr.io", {}));
    expectGolden("distributionConfig/cache-ghcr-io.yml", out.content);
    expect(YAML.parse(out.content).proxy).toEqual({ remoteurl: "https://ghcr.example.com" });
  });
});

describe("renderDistributionConfig details", () => {
  test.each([
    [
      "distribution 2 (the default image): ttl left out",
      {},
      undefined,
      'distribution 2.x has no proxy.ttl (it keeps cached content 168h, fixed): "24h" left out; use a registry:3 image to set it',
    ],
    [
      "an image that does not say its version: ttl kept",
      { image: CUSTOM },
      "24h",
      `proxy.ttl is read by distribution 3.x only; 2.x ignores it and keeps cached content 168h (the image "${CUSTOM}" does not say which it is)`,
    ],
  ])("ttl: %s", (_name, extra, ttl, message) => {
    const out = renderDistributionConfig(cache("quay.io", { ttl: "24h", ...extra }));
    expect(YAML.parse(out.content).proxy.ttl).toBe(ttl);
    expect(out.warnings).toEqual([{ path: 'cluster.caches["quay.io"].ttl', message }]);
  });

  test("options move paths and the listen address (as the rig runs it)", () => {
    const out = renderDistributionConfig(hosted({ auth: { secretName: "h", key: "users" } }), {
      rootDirectory: "/tmp/x/data",
      addr: "0.0.0.0:5999",
      htpasswdPath: "/tmp/x/htpasswd",
      logLevel: "debug",
    });
    const doc = YAML.parse(out.content);
    expect([
      doc.storage.filesystem.rootdirectory,
      doc.http.addr,
      doc.auth.htpasswd.path,
      doc.log.level,
    ]).toEqual(["/tmp/x/data", "0.0.0.0:5999", "/tmp/x/htpasswd", "debug"]);
  });

  test("the htpasswd file is named by its Secret key", () => {
    expect(
      YAML.parse(renderDistributionConfig(hosted({ auth: { secretName: "h", key: "users" } })).content).auth,
    ).toEqual({
      htpasswd: { realm: "registry", path: "/auth/users" },
    });
  });

  test("stable whatever the order caches were declared in", () => {
    const a = cluster({
      caches: {
        "quay.io": { service: { type: "ClusterIP" } },
        "docker.io": { service: { type: "ClusterIP" }, ttl: "1h" },
      },
    });
    const b = cluster({
      caches: {
        "docker.io": { service: { type: "ClusterIP" }, ttl: "1h" },
        "quay.io": { service: { type: "ClusterIP" } },
      },
    });
    expect(a.caches.map((c) => renderDistributionConfig(c))).toEqual(
      b.caches.map((c) => renderDistributionConfig(c)),
    );
  });

  test("YAML 1.1 readers (Go's yaml.v2, which distribution uses) see the same values", () => {
    const content = renderDistributionConfig(hosted({ auth: { secretName: "h", realm: "yes" } })).content;
    expect(YAML.parse(content, { version: "1.1" })).toEqual(YAML.parse(content));
    expect(YAML.parse(content, { version: "1.1" }).auth.htpasswd.realm).toBe("yes");
  });
});

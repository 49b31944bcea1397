/**
 * The cluster side's argument types survive Pulumi's own schema inference (the analyzer behind
 * `pulumi package add` for TypeScript component packages, @pulumi/pulumi provider/experimental): no union,
 * every enum named, every map of one object type, so Python, Go, C# and YAML programs can use them.
 */
import * as path from "path";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer";

describe("ClusterArgs under Pulumi's schema inference", () => {
  const dir = path.join(__dirname, "..", "fixtures", "schemaProbe");
  let result: ReturnType<Analyzer["analyze"]>;

  beforeAll(() => {
    result = new Analyzer(dir, "registry-setup", { main: "index.ts" }, new Set(["ClusterProbe"])).analyze();
  });

  test("every type is inferred", () => {
    expect(Object.keys(result.typeDefinitions).sort()).toEqual([
      "ClusterArgs",
      "HostedRegistryArgs",
      "HtpasswdAuthArgs",
      "ImageArchiveFormat",
      "LocalRegistryHostingArgs",
      "PullSecretsArgs",
      "PullThroughCacheArgs",
      "ResourceListArgs",
      "ResourcesArgs",
      "ServiceAccountMode",
      "ServiceAccountsArgs",
      "ServiceArgs",
      "ServiceType",
      "SideLoadArgs",
      "StorageArgs",
      "TlsSecretArgs",
      "UpstreamCredentialsArgs",
      "ZotCacheArgs",
      "ZotUpstreamArgs",
    ]);
  });

  test("enums are named string enums with their values", () => {
    const values = (name: string) => result.typeDefinitions[name].enum?.map((e) => e.value);
    expect(values("ServiceType")).toEqual(["NodePort", "ClusterIP"]);
    expect(values("ServiceAccountMode")).toEqual(["patch", "secretsOnly"]);
    expect(values("ImageArchiveFormat")).toEqual(["docker-archive", "oci-archive"]);
  });

  test("maps are maps of one object type, lists lists of one type", () => {
    const cluster = result.typeDefinitions.ClusterArgs.properties!;
    expect(cluster.caches).toMatchObject({
      type: "object",
      additionalProperties: { $ref: "#/types/registry-setup:index:PullThroughCacheArgs" },
      optional: true,
    });
    expect(cluster.sideLoads).toMatchObject({
      type: "array",
      items: { $ref: "#/types/registry-setup:index:SideLoadArgs" },
    });
    const zot = result.typeDefinitions.ZotCacheArgs.properties!;
    expect(zot.upstreams).toMatchObject({
      type: "object",
      additionalProperties: { $ref: "#/types/registry-setup:index:ZotUpstreamArgs" },
    });
    expect(zot.upstreams.optional).toBeUndefined();
  });

  test("inherited fields are in the schema, with the JSDoc as descriptions", () => {
    const cache = result.typeDefinitions.PullThroughCacheArgs.properties!;
    expect(Object.keys(cache).sort()).toEqual([
      "auth",
      "credentials",
      "image",
      "name",
      "namespace",
      "remoteUrl",
      "resources",
      "service",
      "storage",
      "tls",
      "ttl",
    ]);
    expect(cache.ttl.description).toMatch(/^How long cached content is kept/);
    expect(result.typeDefinitions.ServiceArgs.properties!.nodePort).toMatchObject({
      type: "number",
      optional: true,
    });
  });
});

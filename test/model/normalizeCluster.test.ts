import { ClusterArgs, DEFAULT_REGISTRY_IMAGE } from "../../components/model/cluster";
import { ConfigError } from "../../components/model/errors";
import { distributionVersion, normalizeCluster } from "../../components/model/normalizeCluster";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { CANARY_PASSWORD } from "../helpers/fixtures";

const DIGEST = "sha256:" + "a".repeat(64);
const ZOT_IMAGE = `ghcr.io/project-zot/zot:v2.1.20@${DIGEST}`;
const REGISTRIES: RegistriesArgs = {
  "docker.io": { auth: { username: "hub", password: CANARY_PASSWORD } },
  "ghcr.io": { server: "https://ghcr.example.com" },
  "registry.example.com:5443": { auth: { username: "u", password: "p" } },
  "quay.io": {},
};
const MODEL = normalizeRegistries(REGISTRIES);

function problems(args: unknown, registries = MODEL): string[] {
  try {
    normalizeCluster(args as ClusterArgs, { registries });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe("normalizeCluster: defaults", () => {
  test("an empty declaration is an empty model", () => {
    expect(normalizeCluster({})).toEqual({ caches: [], sideLoads: [] });
  });

  test("hosted registry: MicroK8s-like defaults, image pinned by digest", () => {
    expect(normalizeCluster({ registry: {} }).registry).toEqual({
      name: "registry",
      namespace: "container-registry",
      image: DEFAULT_REGISTRY_IMAGE,
      distributionVersion: 2,
      storage: { size: "20Gi" },
      service: { type: "NodePort", port: 5000, nodePort: 32000 },
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    });
  });

  test("caches: sorted by upstream, upstream URL from the declaration, Docker Hub's real server", () => {
    const m = normalizeCluster(
      {
        caches: {
          "quay.io": { service: { nodePort: 32003 } },
          "ghcr.io": { service: { type: "ClusterIP" } },
          "docker.io": { service: { nodePort: 32001 }, ttl: "72h", credentials: { secretName: "hub" } },
        },
      },
      { registries: MODEL },
    );
    expect(m.caches.map((c) => [c.name, c.proxy?.upstream, c.proxy?.remoteUrl, c.service])).toEqual([
      [
        "cache-docker-io",
        "docker.io",
        "https://registry-1.docker.io",
        { type: "NodePort", port: 5000, nodePort: 32001 },
      ],
      ["cache-ghcr-io", "ghcr.io", "https://ghcr.example.com", { type: "ClusterIP", port: 5000 }],
      ["cache-quay-io", "quay.io", "https://quay.io", { type: "NodePort", port: 5000, nodePort: 32003 }],
    ]);
    expect(m.caches[0].proxy).toEqual({
      upstream: "docker.io",
      remoteUrl: "https://registry-1.docker.io",
      credentials: { secretName: "hub", usernameKey: "username", passwordKey: "password" },
      ttl: "72h",
    });
  });

  test("zot: upstreams sorted, URLs from the declaration", () => {
    const m = normalizeCluster(
      {
        zot: {
          image: ZOT_IMAGE,
          service: { nodePort: 32010 },
          upstreams: { "quay.io": {}, "docker.io": { tlsVerify: true } },
        },
      },
      { registries: MODEL },
    );
    expect(m.zot?.upstreams).toEqual([
      { name: "docker.io", urls: ["https://registry-1.docker.io"], tlsVerify: true },
      { name: "quay.io", urls: ["https://quay.io"], tlsVerify: true },
    ]);
  });

  test("KEP-1755 defaults from the hosted registry", () => {
    expect(normalizeCluster({ registry: {}, localRegistryHosting: {} }).localRegistryHosting).toEqual({
      host: "localhost:32000",
      hostFromContainerRuntime: "localhost:32000",
      hostFromClusterNetwork: "registry.container-registry.svc:5000",
    });
  });

  test("pull Secrets: every registry with credentials, default ServiceAccount in each namespace, sorted", () => {
    const m = normalizeCluster({ pullSecrets: { namespaces: ["team-b", "team-a"] } }, { registries: MODEL });
    expect(m.pullSecrets).toEqual({
      name: "registry-credentials",
      namespaces: ["team-a", "team-b"],
      registries: ["docker.io", "registry.example.com:5443"],
      createNamespaces: false,
      mode: "patch",
      serviceAccounts: [
        { namespace: "team-a", name: "default" },
        { namespace: "team-b", name: "default" },
      ],
    });
  });

  test("pull Secrets: named ServiceAccounts, one namespace-qualified; secretsOnly patches none", () => {
    const m = normalizeCluster(
      {
        pullSecrets: {
          namespaces: ["a", "b"],
          registries: ["docker.io"],
          serviceAccounts: { names: ["builder", "b/deployer"] },
        },
      },
      { registries: MODEL },
    );
    expect(m.pullSecrets?.serviceAccounts).toEqual([
      { namespace: "a", name: "builder" },
      { namespace: "b", name: "builder" },
      { namespace: "b", name: "deployer" },
    ]);
    const only = normalizeCluster(
      { pullSecrets: { namespaces: ["a"], serviceAccounts: { mode: "secretsOnly" } } },
      { registries: MODEL },
    );
    expect(only.pullSecrets).toMatchObject({ mode: "secretsOnly", serviceAccounts: [] });
  });

  test("side-loads keep their order; docker-archive by default", () => {
    expect(
      normalizeCluster({ sideLoads: [{ path: "b.tar" }, { path: "/abs/a.tar", format: "oci-archive" }] })
        .sideLoads,
    ).toEqual([
      { path: "b.tar", format: "docker-archive" },
      { path: "/abs/a.tar", format: "oci-archive" },
    ]);
  });

  test.each([
    ["docker.io/library/registry:2.8.3@" + DIGEST, 2],
    ["registry:3.0.0@" + DIGEST, 3],
    ["registry:3@" + DIGEST, 3],
    ["ghcr.io/distribution/distribution:3.0.0@" + DIGEST, 3],
    ["mirror.example.com/library/registry@" + DIGEST, undefined],
    ["ghcr.io/project-zot/zot:v2.1.20@" + DIGEST, undefined],
  ])("distributionVersion(%s) = %s", (image, version) => {
    expect(distributionVersion(image)).toBe(version);
  });
});

describe("normalizeCluster: problems (every one at once, with path, rule and fix)", () => {
  test.each([
    [
      "not an object",
      5,
      ["cluster: must be an object with registry, caches, zot, pullSecrets or sideLoads, got 5"],
    ],
    [
      "unknown top-level key",
      { registy: {} },
      [
        "cluster.registy: is not a known setting (known: registry, caches, zot, localRegistryHosting, pullSecrets, sideLoads)",
      ],
    ],
    [
      "image without a digest",
      { registry: { image: "registry:2" } },
      [
        'cluster.registry.image: "registry:2" must be an image pinned by digest ("<repository>[:tag]@sha256:<64 hex>") so every node runs the same bytes',
      ],
    ],
    [
      "bad names, size, ports, Service type",
      {
        registry: {
          name: "Registry",
          namespace: "a_b",
          storage: { size: "20 GB", storageClass: "Fast!" },
          service: { type: "LoadBalancer", port: 0 },
        },
      },
      [
        'cluster.registry.name: "Registry" must be a lowercase DNS label (a-z, 0-9, "-", at most 63 characters, e.g. "container-registry")',
        'cluster.registry.namespace: "a_b" must be a lowercase DNS label (a-z, 0-9, "-", at most 63 characters, e.g. "container-registry")',
        'cluster.registry.storage.size: "20 GB" must be a positive Kubernetes quantity such as "20Gi", "512Mi" or "100m"',
        'cluster.registry.storage.storageClass: "Fast!" is not a StorageClass name (lowercase DNS subdomain)',
        'cluster.registry.service.type: "LoadBalancer" is not a Service type: use "NodePort" or "ClusterIP"',
        "cluster.registry.service.port: 0 must be a whole number from 1 to 65535",
      ],
    ],
    [
      "node port out of range; node port on ClusterIP",
      {
        registry: { service: { nodePort: 5000 } },
        caches: { "quay.io": { service: { type: "ClusterIP", nodePort: 32001 } } },
      },
      [
        "cluster.registry.service.nodePort: 5000 must be a whole number from 30000 to 32767",
        'cluster.caches["quay.io"].service.nodePort: has no meaning for a ClusterIP Service: drop it or use type "NodePort"',
      ],
    ],
    [
      "a NodePort cache needs its node port",
      { caches: { "docker.io": {} } },
      [
        'cluster.caches["docker.io"].service.nodePort: is required for a NodePort Service here: nodes are pointed at <node>:<nodePort>, so give a port from 30000 to 32767 that no other registry uses',
      ],
    ],
    [
      "two servers on one node port, two with one name",
      {
        registry: {},
        caches: {
          "docker.io": { service: { nodePort: 32000 } },
          "quay.io": { name: "registry", service: { nodePort: 32001 } },
        },
      },
      [
        'cluster.caches["docker.io"].service.nodePort: 32000 is also used by cluster.registry: every NodePort Service needs its own port',
        'cluster.caches["quay.io"].name: "registry" in namespace "container-registry" is also used by cluster.registry: give one another name',
      ],
    ],
    [
      "cache upstream name, remote URL with a path, bad TTL, bad credentials keys",
      {
        caches: {
          _default: { service: { type: "ClusterIP" } },
          "Docker.io": { service: { type: "ClusterIP" } },
          "quay.io": {
            service: { type: "ClusterIP" },
            remoteUrl: "https://quay.io/v2/x",
            ttl: "7d",
            credentials: { secretName: "Quay", passwordKey: "pass word" },
          },
        },
      },
      [
        'cluster.caches["Docker.io"]: upstream registry name "Docker.io" must be lowercase (use "docker.io")',
        'cluster.caches["_default"]: _default cannot be cached: a cache has one upstream; name the registry (e.g. "docker.io")',
        'cluster.caches["quay.io"].remoteUrl: "https://quay.io/v2/x" must not have a path: the upstream\'s registry API root is scheme://host[:port]',
        'cluster.caches["quay.io"].credentials.secretName: "Quay" must be a Secret name (lowercase DNS subdomain, e.g. "registry-credentials")',
        'cluster.caches["quay.io"].credentials.passwordKey: "pass word" must be a Secret key (letters, digits, "-", "_", ".")',
        'cluster.caches["quay.io"].ttl: "7d" must be a Go duration such as "168h", "72h30m" or "0" (keep forever)',
      ],
    ],
    [
      "zot without image or upstreams",
      { zot: { service: { type: "ClusterIP" } } },
      [
        'cluster.zot.image: is required: give a zot image pinned by digest, e.g. "ghcr.io/project-zot/zot:v2.1.20@sha256:<digest>" (the library ships no default zot digest)',
        'cluster.zot.upstreams: is required: a map of at least one upstream registry name (e.g. "docker.io") to its settings',
      ],
    ],
    [
      "zot upstream URLs",
      {
        zot: {
          image: ZOT_IMAGE,
          service: { type: "ClusterIP" },
          upstreams: {
            "docker.io": { urls: ["ftp://x", "https://m.example.com", "https://m.example.com"] },
            "r.example.com": { urls: ["http://r.example.com"], tlsVerify: false },
          },
        },
      },
      [
        'cluster.zot.upstreams["docker.io"].urls[0]: "ftp://x" must be an http:// or https:// URL (scheme "ftp" is not supported)',
        'cluster.zot.upstreams["docker.io"].urls[2]: "https://m.example.com" is listed twice: drop one',
        'cluster.zot.upstreams["r.example.com"].tlsVerify: has no meaning for plain-HTTP upstreams: drop it',
      ],
    ],
    [
      "KEP-1755 without a registry",
      { localRegistryHosting: { host: "bad host" } },
      [
        'cluster.localRegistryHosting.host: must be host[:port]: "bad host" is not a valid host name (letters, digits, "-" and "." only, e.g. "registry.example.com")',
        "cluster.localRegistryHosting: needs registry: it describes the hosted registry (declare registry, or drop localRegistryHosting)",
      ],
    ],
    [
      "KEP-1755 for a ClusterIP registry needs a host",
      { registry: { service: { type: "ClusterIP" } }, localRegistryHosting: { help: "docs" } },
      [
        'cluster.localRegistryHosting.help: "docs" must be an http:// or https:// URL',
        "cluster.localRegistryHosting.host: is required for a ClusterIP registry: give the host[:port] tools outside the cluster push to",
      ],
    ],
    [
      "pull Secrets: namespaces, registries, ServiceAccounts",
      {
        pullSecrets: {
          namespaces: ["a", "a", "B"],
          registries: ["quay.io", "nothere.example.com", "docker.io", "docker.io"],
          serviceAccounts: { names: ["x/y", "a/b/c", "Bad"] },
        },
      },
      [
        'cluster.pullSecrets.namespaces[1]: "a" is listed twice: drop one',
        'cluster.pullSecrets.namespaces[2]: "B" must be a lowercase DNS label (a-z, 0-9, "-", at most 63 characters, e.g. "container-registry")',
        'cluster.pullSecrets.registries[0]: "quay.io" has no credentials (neither its server nor a mirror has auth): nothing to put in the Secret',
        'cluster.pullSecrets.registries[1]: "nothere.example.com" is not declared in registries: declare it (with auth) or drop it here',
        'cluster.pullSecrets.registries[3]: "docker.io" is listed twice: drop one',
        'cluster.pullSecrets.serviceAccounts.names[0]: "x/y": namespace "x" is not in namespaces, so it has no Secret to use: add it there',
        'cluster.pullSecrets.serviceAccounts.names[1]: "a/b/c" must be "<name>" or "<namespace>/<name>"',
        'cluster.pullSecrets.serviceAccounts.names[2]: "Bad": "Bad" is not a ServiceAccount name (lowercase DNS subdomain)',
      ],
    ],
    [
      "pull Secrets: names in secretsOnly mode",
      { pullSecrets: { namespaces: ["a"], serviceAccounts: { mode: "secretsOnly", names: ["x"] } } },
      [
        'cluster.pullSecrets.serviceAccounts.names: has no effect in "secretsOnly" mode (no ServiceAccount is touched): drop it',
      ],
    ],
    [
      "side-loads",
      {
        sideLoads: [
          { path: "" },
          { path: "a.tar", format: "tar" },
          { path: "b.tar" },
          { path: "b.tar" },
          "c.tar",
        ],
      },
      [
        "cluster.sideLoads[0].path: is required: the tarball's path on the machine that runs Pulumi (no control characters)",
        'cluster.sideLoads[1].format: "tar" is not an archive format: use "docker-archive" or "oci-archive"',
        'cluster.sideLoads[3].path: "b.tar" is listed twice (also sideLoads[2]): drop one',
        'cluster.sideLoads[4]: must be an object { path, format }, got "c.tar"',
      ],
    ],
  ])("%s", (_name, args, expected) => {
    expect(problems(args)).toEqual(expected);
  });

  test("pull Secrets with no credentials anywhere", () => {
    expect(problems({ pullSecrets: { namespaces: ["a"] } }, normalizeRegistries({ "quay.io": {} }))).toEqual([
      "cluster.pullSecrets.registries: no registry in the declaration has credentials, so the Secret would be empty: give a registry auth, or drop pullSecrets",
    ]);
  });

  test("no secret value in any message", () => {
    const msgs = problems({ pullSecrets: { namespaces: ["A"] }, registry: { image: "x" } }).join("\n");
    expect(msgs).not.toContain(CANARY_PASSWORD);
  });
});

describe("normalizeCluster: while the registry declaration is not known yet (registriesUnknown)", () => {
  test("pull Secrets without a registries list: no problem now, the list waits for the real declaration", () => {
    const c = normalizeCluster({ pullSecrets: { namespaces: ["a"] } }, { registriesUnknown: true });
    expect(c.pullSecrets).toMatchObject({
      namespaces: ["a"],
      registries: [],
      serviceAccounts: [{ namespace: "a", name: "default" }],
    });
  });

  test("listed registries are kept unchecked, duplicates still refused", () => {
    const c = normalizeCluster(
      { pullSecrets: { namespaces: ["a"], registries: ["r.example", "q.example"] } },
      { registriesUnknown: true },
    );
    expect(c.pullSecrets?.registries).toEqual(["q.example", "r.example"]);
    expect(() =>
      normalizeCluster(
        { pullSecrets: { namespaces: ["a"], registries: ["r.example", "r.example"] } },
        { registriesUnknown: true },
      ),
    ).toThrow('cluster.pullSecrets.registries[1]: "r.example" is listed twice: drop one');
  });

  test("without the option the same declaration is checked against the (empty) declaration", () => {
    expect(() => normalizeCluster({ pullSecrets: { namespaces: ["a"] } })).toThrow(
      "cluster.pullSecrets.registries: no registry in the declaration has credentials, so the Secret would be empty: give a registry auth, or drop pullSecrets",
    );
  });
});

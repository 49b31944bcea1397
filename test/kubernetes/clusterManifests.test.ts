import * as YAML from "yaml";
import { clusterManifests } from "../../components/kubernetes/clusterManifests";
import { localRegistryHostingObject } from "../../components/kubernetes/localRegistryHosting";
import { nodeRegistryEntries } from "../../components/kubernetes/nodeEndpoints";
import { KubeObject } from "../../components/kubernetes/objects";
import { pullSecretObjects } from "../../components/kubernetes/pullSecrets";
import {
  CONFIG_HASH_ANNOTATION,
  distributionObjects,
  zotObjects,
} from "../../components/kubernetes/registryServer";
import { ClusterArgs, DEFAULT_REGISTRY_IMAGE } from "../../components/model/cluster";
import { normalizeCluster } from "../../components/model/normalizeCluster";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { renderDockerConfigJson } from "../../components/render/dockerConfigJson";
import { expectGolden } from "../helpers/golden";
import { expectValidK8s, k8sSchemaErrors } from "../helpers/k8sSchema";

const ZOT_IMAGE = "ghcr.io/project-zot/zot:v2.1.20@sha256:" + "d".repeat(64);
const REGISTRIES: RegistriesArgs = {
  "docker.io": { auth: { username: "hub-user", password: "hub-password" } },
  "registry.example.com:5443": { auth: { username: "ci", password: "ci-password" } },
  "quay.io": {},
};
const CLUSTER: ClusterArgs = {
  registry: {
    auth: { secretName: "registry-htpasswd" },
    tls: { secretName: "registry-tls" },
    storage: { size: "40Gi", storageClass: "fast" },
    resources: { limits: { cpu: "1", memory: "1Gi" } },
  },
  caches: {
    "docker.io": { service: { nodePort: 32001 }, credentials: { secretName: "hub-upstream" } },
    "quay.io": { service: { type: "ClusterIP", port: 80 }, namespace: "caches" },
  },
  zot: {
    image: ZOT_IMAGE,
    service: { nodePort: 32010 },
    upstreams: { "ghcr.io": {}, "registry.k8s.io": {} },
    credentialsSecret: "zot-credentials",
  },
  localRegistryHosting: { help: "https://example.com/registry" },
  pullSecrets: { namespaces: ["team-b", "team-a", "caches"], createNamespaces: true },
};

function build(cluster: ClusterArgs = CLUSTER, registries: RegistriesArgs = REGISTRIES) {
  const model = normalizeRegistries(registries);
  return clusterManifests(normalizeCluster(cluster, { registries: model }), model);
}

describe("clusterManifests", () => {
  const { manifests, warnings } = build();

  test("every object is valid against the Kubernetes OpenAPI schema (no unknown field)", () => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const m of manifests) expectValidK8s(m.object);
  });

  test("keys are unique and stable, in creation order", () => {
    expect(manifests.map((m) => [m.key, m.object.kind, m.secret])).toEqual([
      ["namespace/caches", "Namespace", false],
      ["namespace/container-registry", "Namespace", false],
      ["namespace/team-a", "Namespace", false],
      ["namespace/team-b", "Namespace", false],
      ["registry/claim", "PersistentVolumeClaim", false],
      ["registry/config", "ConfigMap", false],
      ["registry/deployment", "Deployment", false],
      ["registry/service", "Service", false],
      ["cache/docker.io/claim", "PersistentVolumeClaim", false],
      ["cache/docker.io/config", "ConfigMap", false],
      ["cache/docker.io/deployment", "Deployment", false],
      ["cache/docker.io/service", "Service", false],
      ["cache/quay.io/claim", "PersistentVolumeClaim", false],
      ["cache/quay.io/config", "ConfigMap", false],
      ["cache/quay.io/deployment", "Deployment", false],
      ["cache/quay.io/service", "Service", false],
      ["zot/claim", "PersistentVolumeClaim", false],
      ["zot/config", "ConfigMap", false],
      ["zot/deployment", "Deployment", false],
      ["zot/service", "Service", false],
      ["local-registry-hosting", "ConfigMap", false],
      ["pull-secret/caches", "Secret", true],
      ["pull-secret/team-a", "Secret", true],
      ["pull-secret/team-b", "Secret", true],
    ]);
    expect(new Set(manifests.map((m) => m.key)).size).toBe(manifests.length);
  });

  test("golden: the whole set as a multi-document YAML stream", () => {
    const stream = manifests
      .map((m) => `# ${m.key}\n${YAML.stringify(m.object, { lineWidth: 0, aliasDuplicateObjects: false })}`)
      .join("---\n");
    expectGolden("clusterManifests/full.yaml", stream);
  });

  test("the same declaration in another order gives identical objects", () => {
    const reordered: ClusterArgs = {
      pullSecrets: { createNamespaces: true, namespaces: ["caches", "team-a", "team-b"] },
      localRegistryHosting: CLUSTER.localRegistryHosting,
      zot: { ...CLUSTER.zot!, upstreams: { "registry.k8s.io": {}, "ghcr.io": {} } },
      caches: { "quay.io": CLUSTER.caches!["quay.io"], "docker.io": CLUSTER.caches!["docker.io"] },
      registry: CLUSTER.registry,
    };
    const reversedRegs = Object.fromEntries(Object.entries(REGISTRIES).reverse());
    expect(build(reordered, reversedRegs)).toEqual(build());
  });

  test("the config renderers' warnings come along", () => {
    expect(warnings.map((w) => w.path)).toEqual(['cluster.caches["docker.io"].credentials']);
  });
});

describe("registry Deployment details", () => {
  const model = normalizeRegistries(REGISTRIES);
  const cluster = normalizeCluster(CLUSTER, { registries: model });
  const spec = (d: KubeObject) =>
    (d.spec as { template: { spec: { containers: Record<string, unknown>[]; volumes: unknown[] } } }).template
      .spec;

  test("hosted with auth and TLS: HTTPS probes on / (401 on /v2/ with auth), Secrets mounted, Recreate", () => {
    const objs = distributionObjects(cluster.registry!);
    const d = objs.deployment as { spec: Record<string, unknown> } & KubeObject;
    expect(d.spec.strategy).toEqual({ type: "Recreate" });
    expect(d.spec.replicas).toBe(1);
    const c = spec(d).containers[0];
    expect(c.image).toBe(DEFAULT_REGISTRY_IMAGE);
    expect(c.command).toEqual(["registry", "serve", "/etc/registry/config.yml"]);
    expect(c.readinessProbe).toEqual({
      httpGet: { path: "/", port: "registry", scheme: "HTTPS" },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    expect(c.resources).toEqual({
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    });
    expect(spec(d).volumes).toEqual([
      { name: "data", persistentVolumeClaim: { claimName: "registry" } },
      { name: "config", configMap: { name: "registry" } },
      {
        name: "auth",
        secret: { secretName: "registry-htpasswd", items: [{ key: "htpasswd", path: "htpasswd" }] },
      },
      { name: "certs", secret: { secretName: "registry-tls" } },
    ]);
    expect(objs.service.spec).toEqual({
      type: "NodePort",
      selector: { "app.kubernetes.io/instance": "registry", "app.kubernetes.io/name": "registry" },
      ports: [{ name: "registry", port: 5000, targetPort: "registry", protocol: "TCP", nodePort: 32000 }],
    });
    expect(objs.claim.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "40Gi" } },
      storageClassName: "fast",
    });
  });

  test("cache: HTTP probes on /v2/, upstream credentials only as secretKeyRef environment", () => {
    const c = spec(distributionObjects(cluster.caches[0]).deployment).containers[0];
    expect((c.readinessProbe as { httpGet: unknown }).httpGet).toEqual({
      path: "/v2/",
      port: "registry",
      scheme: "HTTP",
    });
    expect(c.env).toEqual([
      {
        name: "REGISTRY_PROXY_USERNAME",
        valueFrom: { secretKeyRef: { name: "hub-upstream", key: "username" } },
      },
      {
        name: "REGISTRY_PROXY_PASSWORD",
        valueFrom: { secretKeyRef: { name: "hub-upstream", key: "password" } },
      },
    ]);
  });

  test("a config change changes the Pod template (the Pod rolls); the same config does not", () => {
    const hash = (d: KubeObject) =>
      (d.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata
        .annotations[CONFIG_HASH_ANNOTATION];
    const a = hash(distributionObjects(cluster.registry!).deployment);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hash(distributionObjects(cluster.registry!).deployment)).toBe(a);
    const other = normalizeCluster({
      registry: { auth: { secretName: "registry-htpasswd", realm: "x" } },
    }).registry!;
    expect(hash(distributionObjects(other).deployment)).not.toBe(a);
  });

  test("zot: config mounted over /etc/zot, the credentials file from its Secret", () => {
    const objs = zotObjects(cluster.zot!);
    const s = spec(objs.deployment);
    expect(s.containers[0].args).toEqual(["serve", "/etc/zot/config.json"]);
    expect(s.volumes).toContainEqual({
      name: "credentials",
      secret: {
        secretName: "zot-credentials",
        items: [{ key: "credentials.json", path: "credentials.json" }],
      },
    });
    expect(
      JSON.parse((objs.config.data as Record<string, string>)["config.json"]).extensions.sync.credentialsFile,
    ).toBe("/etc/zot-credentials/credentials.json");
  });

  test("pull Secrets: kubernetes.io/dockerconfigjson, the merged payload base64 in data", () => {
    const [secret] = pullSecretObjects(cluster.pullSecrets!, model);
    expect(secret.type).toBe("kubernetes.io/dockerconfigjson");
    const payload = Buffer.from(
      (secret.data as Record<string, string>)[".dockerconfigjson"],
      "base64",
    ).toString("utf8");
    expect(payload).toBe(renderDockerConfigJson(model));
    expect(Object.keys(JSON.parse(payload).auths)).toEqual([
      "https://index.docker.io/v1/",
      "registry.example.com:5443",
    ]);
  });

  test("KEP-1755 ConfigMap in kube-public", () => {
    const cm = localRegistryHostingObject(cluster.localRegistryHosting!);
    expect(cm.metadata).toMatchObject({ name: "local-registry-hosting", namespace: "kube-public" });
    expect(YAML.parse((cm.data as Record<string, string>)["localRegistryHosting.v1"])).toEqual({
      host: "localhost:32000",
      hostFromContainerRuntime: "localhost:32000",
      hostFromClusterNetwork: "registry.container-registry.svc:5000",
      help: "https://example.com/registry",
    });
    expect(k8sSchemaErrors(cm)).toEqual([]);
  });

  test("minimal declarations are valid too", () => {
    for (const args of [{ registry: {} }, { registry: { service: { type: "ClusterIP" as const } } }]) {
      for (const m of build(args, {}).manifests) expectValidK8s(m.object);
    }
  });
});

describe("nodeRegistryEntries", () => {
  test("points nodes at the hosted registry, the NodePort cache and zot's namespaces", () => {
    const cluster = normalizeCluster(
      { ...CLUSTER, registry: {}, pullSecrets: undefined },
      { registries: normalizeRegistries(REGISTRIES) },
    );
    expect(nodeRegistryEntries(cluster, "10.0.0.11")).toEqual({
      "10.0.0.11:32000": { plainHttp: true },
      "docker.io": { mirrors: [{ endpoint: "http://10.0.0.11:32001" }] },
      "ghcr.io": { mirrors: [{ endpoint: "http://10.0.0.11:32010/v2/ghcr.io", overridePath: true }] },
      "registry.k8s.io": {
        mirrors: [{ endpoint: "http://10.0.0.11:32010/v2/registry.k8s.io", overridePath: true }],
      },
    });
    // What it returns is a valid declaration.
    expect(() => normalizeRegistries(nodeRegistryEntries(cluster, "10.0.0.11"))).not.toThrow();
  });
});

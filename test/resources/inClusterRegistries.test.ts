/**
 * `InClusterRegistries` under `pulumi.runtime.setMocks`: one `@pulumi/kubernetes` resource per object of
 * `clusterManifests`, named after its stable key, every object valid against the Kubernetes OpenAPI schema, the
 * Namespace created first, the provider passed through, and the endpoints nodes use.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type * as Module from "../../components/resources/inClusterRegistries";
import { clusterManifests } from "../../components/kubernetes/clusterManifests";
import { ClusterArgs } from "../../components/model/cluster";
import { normalizeCluster } from "../../components/model/normalizeCluster";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { isKube, objectOf } from "../helpers/kubeRegistrations";
import { expectValidK8s } from "../helpers/k8sSchema";
import { installMocks, isWireSecret, promiseOf } from "../helpers/pulumiMocks";

const mocks = installMocks();
let InClusterRegistries: typeof Module.InClusterRegistries;
beforeAll(async () => {
  ({ InClusterRegistries } = await import("../../components/resources/inClusterRegistries"));
});

const ZOT_IMAGE = "ghcr.io/project-zot/zot:v2.1.20@sha256:" + "d".repeat(64);
const REGISTRIES: RegistriesArgs = { "quay.io": {}, "docker.io": { auth: { username: "u", password: "p" } } };
const CLUSTER: ClusterArgs = {
  registry: { auth: { secretName: "registry-htpasswd" }, storage: { size: "40Gi", storageClass: "fast" } },
  caches: {
    "docker.io": { service: { nodePort: 32001 }, credentials: { secretName: "hub-upstream" }, ttl: "72h" },
    "quay.io": { service: { type: "ClusterIP", port: 80 }, namespace: "caches" },
  },
  zot: {
    image: ZOT_IMAGE,
    service: { nodePort: 32010 },
    upstreams: { "ghcr.io": {}, "registry.k8s.io": {} },
  },
  localRegistryHosting: { help: "https://example.com/registry" },
  pullSecrets: { namespaces: ["team-a"] },
};

let seq = 0;
function make(cluster: ClusterArgs = CLUSTER, nodeAddress?: string, opts?: pulumi.ComponentResourceOptions) {
  const name = `icr${++seq}`;
  const registries = normalizeRegistries(REGISTRIES);
  const model = normalizeCluster(cluster, { registries });
  const c = new InClusterRegistries(
    name,
    {
      structure: model,
      content: pulumi.output({ cluster: model, registries }),
      ...(nodeAddress ? { nodeAddress } : {}),
    },
    opts,
  );
  return { name, c, model, registries };
}

async function settled(name: string, c: Module.InClusterRegistries) {
  await promiseOf(c.endpoints);
  await promiseOf(c.localRegistryHosting);
  await mocks.settle();
  return mocks.named(`${name}-`).filter(isKube);
}

describe("InClusterRegistries", () => {
  test("one resource per object of clusterManifests (pull Secrets excepted), named after its key", async () => {
    const { name, c, model, registries } = make();
    const regs = await settled(name, c);
    const expected = clusterManifests({ ...model, pullSecrets: undefined }, registries).manifests;
    // (Registered in dependency order, which the engine decides: compare as sets.)
    const sorted = <T>(list: T[]) => [...list].sort();
    expect(sorted(regs.map((r) => `${r.name} ${r.type}`))).toEqual(
      sorted(
        expected.map(
          (m) =>
            `${name}-${m.key} kubernetes:${m.object.apiVersion === "v1" ? "core/v1" : m.object.apiVersion}:${m.object.kind}`,
        ),
      ),
    );
    expect(expected.map((m) => m.key)).toEqual([
      "namespace/caches",
      "namespace/container-registry",
      "registry/claim",
      "registry/config",
      "registry/deployment",
      "registry/service",
      "cache/docker.io/claim",
      "cache/docker.io/config",
      "cache/docker.io/deployment",
      "cache/docker.io/service",
      "cache/quay.io/claim",
      "cache/quay.io/config",
      "cache/quay.io/deployment",
      "cache/quay.io/service",
      "zot/claim",
      "zot/config",
      "zot/deployment",
      "zot/service",
      "local-registry-hosting",
    ]);
    // Each declared object is exactly the plain object of clusterManifests.
    for (const m of expected) {
      expect(objectOf(regs.find((r) => r.name === `${name}-${m.key}`)!)).toEqual(
        JSON.parse(JSON.stringify(m.object)),
      );
    }
  });

  test("every declared object is valid against the Kubernetes OpenAPI schema", async () => {
    const { name, c } = make();
    const regs = await settled(name, c);
    expect(regs.length).toBe(19);
    for (const r of regs) expectValidK8s(objectOf(r));
  });

  test("objects wait for their Namespace; a Deployment for its config; nothing else is ordered", async () => {
    const { name, c } = make();
    const regs = await settled(name, c);
    const byUrn = new Map(regs.map((r) => [r.urn, r.name.slice(name.length + 1)]));
    const deps = Object.fromEntries(
      regs.map((r) => [r.name.slice(name.length + 1), r.dependencies.map((u) => byUrn.get(u) ?? u)]),
    );
    expect(deps["namespace/caches"]).toEqual([]);
    expect(deps["registry/claim"]).toEqual(["namespace/container-registry"]);
    expect(deps["registry/deployment"]).toEqual(["namespace/container-registry", "registry/config"]);
    expect(deps["cache/quay.io/service"]).toEqual(["namespace/caches"]);
    // kube-public exists in every cluster: the library never creates it.
    expect(deps["local-registry-hosting"]).toEqual([]);
  });

  test("endpoints: node address and node port for NodePort, cluster DNS for ClusterIP; the KEP-1755 document", async () => {
    const { name, c } = make(CLUSTER, "10.0.0.11");
    await settled(name, c);
    expect(await promiseOf(c.endpoints)).toEqual({
      registry: "10.0.0.11:32000",
      "cache/docker.io": "10.0.0.11:32001",
      "cache/quay.io": "cache-quay-io.caches.svc:80",
      zot: "10.0.0.11:32010",
    });
    expect(await promiseOf(c.localRegistryHosting)).toBe(
      'host: "localhost:32000"\nhostFromContainerRuntime: "localhost:32000"\nhostFromClusterNetwork: "registry.container-registry.svc:5000"\nhelp: "https://example.com/registry"\n',
    );
    const noAddress = make(CLUSTER);
    expect((await promiseOf(noAddress.c.endpoints)).registry).toBe("localhost:32000");
  });

  test("the Kubernetes provider of the resource options reaches every object", async () => {
    const provider = new k8s.Provider(`kube${++seq}`, { kubeconfig: "{}" });
    const { name, c } = make(CLUSTER, undefined, { providers: [provider] });
    const regs = await settled(name, c);
    const providerUrn = await promiseOf(provider.urn);
    for (const r of regs) expect(r.provider).toMatch(new RegExp(`^${providerUrn.replace(/[$]/g, "\\$")}::`));
  });

  test("a secret registry declaration: the objects (which hold no credential) stay in clear", async () => {
    const name = `icr${++seq}`;
    const registries = normalizeRegistries(REGISTRIES);
    const model = normalizeCluster(CLUSTER, { registries });
    const c = new InClusterRegistries(name, {
      structure: model,
      content: pulumi.secret({ cluster: model, registries }),
    });
    const regs = await settled(name, c);
    expect(regs.length).toBe(19);
    for (const r of regs) for (const v of Object.values(r.inputs)) expect(isWireSecret(v)).toBe(false);
    await expect(pulumi.isSecret(c.localRegistryHosting)).resolves.toBe(false);
    await expect(pulumi.isSecret(c.endpoints)).resolves.toBe(false);
  });
});

/**
 * `RegistrySetup` under `pulumi.runtime.setMocks`: everything checked before any child exists (every problem with
 * its path, never a secret), the nodes pointed at the in-cluster servers through the merged declaration, the
 * ordering of the parts, the provider passed through, the rendered outputs and their secrecy. The addon and
 * side-load components are STAND-INS (test/helpers/standinParts.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterNode, RegistriesInput } from "../../components";
import type * as Module from "../../components/resources/registrySetup";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import { isKube, objectOf } from "../helpers/kubeRegistrations";
import { expectValidK8s } from "../helpers/k8sSchema";
import { installMocks, leaks, promiseOf, secretForms } from "../helpers/pulumiMocks";
import { STAND_IN_PARTS, StandInRegistryAddon } from "../helpers/standinParts";
import { addonEndpointMismatch, wireRegistryAddon } from "../../components/resources/clusterParts";
import { userMirrorPath } from "../../components/resources/mergeDeclaration";

const mocks = installMocks();
let RegistrySetup: typeof Module.RegistrySetup;
let PARTS: typeof Module.PARTS;
beforeAll(async () => {
  ({ RegistrySetup, PARTS } = await import("../../components/resources/registrySetup"));
});

const node = (name: string, host: string, kind = "containerd"): ClusterNode => ({
  name,
  connection: { host, user: "root", privateKey: "test-key", hostKey: "ssh-ed25519 AAAA" },
  profiles: [{ kind } as ClusterNode["profiles"][number]],
});
const NODES = [node("n1", "10.0.0.11"), node("n2", "10.0.0.12")];
const MK_NODES = [node("mk1", "10.0.0.21", "microk8s"), node("mk2", "10.0.0.22", "microk8s")];
const ZOT_IMAGE = "ghcr.io/project-zot/zot:v2.1.20@sha256:" + "d".repeat(64);

let seq = 0;
const unique = (base: string) => `${base}${++seq}`;
const withParts = (args: Module.RegistrySetupArgs) => Object.assign({ ...args }, { [PARTS]: STAND_IN_PARTS });

/** Construct; return the thrown message (or undefined) and what was registered under the setup. */
function attempt(args: Module.RegistrySetupArgs, parts = true) {
  const name = unique("bad");
  let message: string | undefined;
  try {
    new RegistrySetup(name, parts ? withParts(args) : args);
  } catch (e) {
    message = (e as Error).message;
  }
  return { name, message };
}

async function children(name: string) {
  await mocks.settle();
  const self = mocks.one(name);
  return mocks.registrations.filter((r) => r.parent === self.urn);
}

describe("RegistrySetup: everything is checked before any child exists", () => {
  test("every problem at once, each with its property path; nothing registered under the setup", async () => {
    const { name, message } = attempt({
      nodes: [MK_NODES[0], { ...MK_NODES[1], name: "mk1" }],
      registries: { "registry.example.com": { auth: { username: "u", password: CANARY_PASSWORD } } },
      cluster: {
        caches: { "docker.io": { service: { nodePort: 32000 } } },
        pullSecrets: { namespaces: ["team-a"], serviceAccounts: { mode: "secretsOnly" } },
      },
      registryAddon: { node: "mk1", size: "10Gi" },
      kubectl: { waitSeconds: 5 },
      render: ["kind", "openshift" as never],
      ["colour" as never]: "blue",
    });
    expect(message).toBe(
      [
        "7 problems:",
        "  - colour: is not an argument of RegistrySetup (known: registries, nodes, nodeClasses, maxUnavailable, owner, probeMirrors, drift, lockWaitSeconds, cluster, nodeAddress, registryAddon, kubectl, render)",
        '  - nodes[1].name: "mk1" is also the name of nodes[0]: node names must be unique',
        '  - registryAddon.size: "10Gi" must be a whole number of Gi from 20 up, e.g. "40Gi" (MicroK8s refuses anything else)',
        '  - cluster.caches["docker.io"].service.nodePort: 32000 is the registry addon\'s node port: pick another',
        '  - cluster.caches["docker.io"].namespace: "container-registry" belongs to the registry addon (disabling it deletes the namespace): pick another',
        '  - kubectl: is only used to patch ServiceAccounts (cluster.pullSecrets in "patch" mode) and by nodeClasses: drop it',
        '  - render[1]: "openshift" is not a render target: use one of "kind", "talos", "anthos", "k0s", "kubeadm"',
      ].join("\n"),
    );
    expect(await children(name)).toEqual([]);
  });

  test.each<[string, Module.RegistrySetupArgs, string]>([
    [
      "the addon on a node without MicroK8s",
      { nodes: NODES, registryAddon: { node: "n2" } },
      'registryAddon.node: "n2" has no microk8s profile: the registry addon exists only on MicroK8s',
    ],
    [
      "the addon on a node that is not listed",
      { nodes: MK_NODES, registryAddon: { node: "mk9" } },
      'registryAddon.node: "mk9" is not a node of nodes (known: "mk1", "mk2")',
    ],
    [
      "the addon and a KEP-1755 ConfigMap of our own",
      {
        nodes: MK_NODES,
        registryAddon: {},
        cluster: {
          registry: { namespace: "registry", service: { nodePort: 32100 } },
          localRegistryHosting: {},
        },
      },
      "cluster.localRegistryHosting: the registry addon publishes its own local-registry-hosting ConfigMap: drop this",
    ],
    [
      "a user's entry for the endpoint the nodes are pointed at already",
      { nodes: NODES, registries: { "10.0.0.11:32000": { plainHttp: true } }, cluster: { registry: {} } },
      'registries["10.0.0.11:32000"]: is also the endpoint of cluster.registry, which the nodes are pointed at already: drop this entry',
    ],
    [
      "a user's mirror that is the cache",
      {
        nodes: NODES,
        registries: { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.11:32001/" }] } },
        cluster: { caches: { "docker.io": { service: { nodePort: 32001 } } } },
      },
      'registries["docker.io"].mirrors[0].endpoint: "http://10.0.0.11:32001/" is also the endpoint of cluster.caches["docker.io"], which the nodes are pointed at already: drop this mirror',
    ],
    [
      "NodePort servers, nodes, and a first node whose address is not known yet",
      {
        nodes: [{ ...NODES[0], connection: { ...NODES[0].connection, host: pulumi.output("10.0.0.11") } }],
        cluster: { registry: {} },
      },
      "nodeAddress: is required: nodes are pointed at NodePort Services in the cluster, and nodes[0].connection.host is not known at construction; give any node's address",
    ],
    [
      "a node address with a port",
      { nodeAddress: "10.0.0.11:22" },
      'nodeAddress: "10.0.0.11:22" must be a node\'s host name or IP address without a port (IPv6 in brackets, e.g. "[fd00::1]")',
    ],
    [
      "side-loads without nodes",
      { cluster: { sideLoads: [{ path: "a.tar" }] } },
      "cluster.sideLoads: needs nodes: the tarballs are copied to every node over SSH",
    ],
    [
      "a render target the declaration cannot express",
      {
        registries: { "docker.io": { mirrors: [{ endpoint: "https://m.example" }], fallback: false } },
        render: ["anthos"],
      },
      'registries["docker.io"].fallback: false (no fallback) cannot be expressed in registryMirrors: nodes pull from the public registry when the mirror fails or lacks an image; drop fallback: false (render: anthos)',
    ],
    [
      "kubectl settings without a cluster side",
      { kubectl: {} },
      'kubectl: is only used to patch ServiceAccounts (cluster.pullSecrets in "patch" mode) and by nodeClasses: drop it',
    ],
    [
      "kubectl settings out of range",
      {
        cluster: { pullSecrets: { namespaces: ["a"], registries: ["r.example"] } },
        registries: { "r.example": { auth: { username: "u", password: "p" } } },
        kubectl: { waitSeconds: 601, context: "" },
      },
      '2 problems:\n  - kubectl.context: "" must be a non-empty string on one line\n  - kubectl.waitSeconds: 601 must be a whole number of seconds from 0 to 600',
    ],
  ])("%s", async (_title, args, expected) => {
    const { name, message } = attempt(args);
    expect(message).toBe(expected);
    expect(await children(name)).toEqual([]);
  });

  test("the declaration's own problems come with the others, in one error", () => {
    const { message } = attempt({
      nodes: MK_NODES,
      registries: { "docker.io": { mirrors: [{ endpoint: "ftp://m.example" }] } },
      registryAddon: { size: "19Gi" },
    });
    expect(message).toBe(
      [
        "2 problems:",
        '  - registryAddon.size: "19Gi" must be a whole number of Gi from 20 up, e.g. "40Gi" (MicroK8s refuses anything else)',
        '  - registries["docker.io"].mirrors[0].endpoint: "ftp://m.example" must be an http:// or https:// URL (scheme "ftp" is not supported)',
      ].join("\n"),
    );
  });

  test("a problem in the user's own mirror is reported where the user wrote it, though the cache goes first", () => {
    const { message } = attempt({
      nodes: NODES,
      registries: {
        "docker.io": { mirrors: [{ endpoint: "https://ok.example" }, { endpoint: "ftp://bad.example" }] },
      },
      cluster: { caches: { "docker.io": { service: { nodePort: 32001 } } } },
    });
    expect(message).toBe(
      'registries["docker.io"].mirrors[1].endpoint: "ftp://bad.example" must be an http:// or https:// URL (scheme "ftp" is not supported)',
    );
  });

  test("userMirrorPath shifts only the user's mirrors of registries that got mirrors first", () => {
    const map = userMirrorPath(new Map([["docker.io", 2]]));
    expect(map('registries["docker.io"].mirrors[3].endpoint')).toBe(
      'registries["docker.io"].mirrors[1].endpoint',
    );
    expect(map('registries["docker.io"].mirrors[1].tls')).toBe('registries["docker.io"].mirrors[1].tls');
    expect(map('registries["quay.io"].mirrors[3]')).toBe('registries["quay.io"].mirrors[3]');
    expect(map('registries["docker.io"].server')).toBe('registries["docker.io"].server');
  });

  test("the real side-load component: a tarball that cannot be read stops everything before any child", async () => {
    const { name, message } = attempt(
      { nodes: MK_NODES, registryAddon: {}, cluster: { sideLoads: [{ path: "/nonexistent/a.tar" }] } },
      false,
    );
    expect(message).toMatch(/^cluster\.sideLoads\[0\]\.path: "\/nonexistent\/a\.tar" cannot be read: ENOENT/);
    expect(await children(name)).toEqual([]);
  });

  test("a build without the addon or side-load component refuses such declarations, never fakes them", () => {
    const name = unique("bad");
    let message: string | undefined;
    try {
      new RegistrySetup(
        name,
        Object.assign(
          { nodes: MK_NODES, registryAddon: {}, cluster: { sideLoads: [{ path: "a.tar" }] } },
          { [PARTS]: {} },
        ),
      );
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(
      [
        "2 problems:",
        "  - registryAddon: this build of the library has no MicroK8s registry addon component (components/resources/microk8sAddon.ts): drop registryAddon or use a version that has it",
        "  - cluster.sideLoads: this build of the library has no side-load component (components/resources/sideLoad.ts): drop sideLoads or use a version that has it",
      ].join("\n"),
    );
  });

  test("a problem next to a secret: the message never holds the secret", () => {
    const { message } = attempt({
      registries: { "r.example": { auth: { username: "u", password: CANARY_PASSWORD }, server: "ftp://x" } },
      cluster: { pullSecrets: { namespaces: ["Team"] } },
    });
    expect(message).toMatch(/cluster\.pullSecrets\.namespaces\[0\]/);
    expect(leaks(message!, secretForms(CANARY_PASSWORD, "u"))).toBe(false);
  });
});

describe("RegistrySetup: nodes pointed at what runs in the cluster", () => {
  const cluster = {
    registry: {},
    caches: { "docker.io": { service: { nodePort: 32001 } } },
    zot: { image: ZOT_IMAGE, service: { nodePort: 32010 }, upstreams: { "ghcr.io": {} } },
  };

  test("the hosted registry, the cache before the user's own mirror, zot as a path mirror", async () => {
    const name = unique("merge");
    const setup = new RegistrySetup(name, {
      nodes: NODES,
      registries: { "docker.io": { mirrors: [{ endpoint: "https://mirror.example.internal" }] } },
      cluster,
    });
    const files = await promiseOf(setup.files);
    const file = (p: string) =>
      files.n2.find((f) => f.path === `/etc/containerd/certs.d/${p}/hosts.toml`)?.content;
    expect(file("10.0.0.11:32000")).toMatch(/^server = "http:\/\/10\.0\.0\.11:32000"$/m);
    const hub = file("docker.io")!;
    expect(hub.indexOf('[host."http://10.0.0.11:32001"]')).toBeGreaterThanOrEqual(0);
    expect(hub.indexOf('[host."http://10.0.0.11:32001"]')).toBeLessThan(
      hub.indexOf('[host."https://mirror.example.internal"]'),
    );
    expect(file("ghcr.io")).toContain('[host."http://10.0.0.11:32010/v2/ghcr.io"]');
    expect(file("ghcr.io")).toContain("override_path = true");
    expect(await promiseOf(setup.endpoints)).toEqual({
      registry: "10.0.0.11:32000",
      "cache/docker.io": "10.0.0.11:32001",
      zot: "10.0.0.11:32010",
    });
  });

  test("a cache with TLS is left to the user (its CA is in a Secret in the cluster), who declares it with the CA", async () => {
    const name = unique("tls");
    const setup = new RegistrySetup(name, {
      nodes: NODES,
      registries: {
        "quay.io": { mirrors: [{ endpoint: "https://10.0.0.11:32002", tls: { ca: pem.ca } }] },
      },
      cluster: { caches: { "quay.io": { service: { nodePort: 32002 }, tls: { secretName: "cache-tls" } } } },
    });
    const files = await promiseOf(setup.files);
    const hosts = files.n1.find((f) => f.path === "/etc/containerd/certs.d/quay.io/hosts.toml")!.content!;
    expect(hosts.match(/\[host\./g)).toHaveLength(1);
    expect(hosts).toContain('[host."https://10.0.0.11:32002"]');
    expect(hosts).toContain("ca = ");
  });

  test("nodeAddress picks the address; the in-cluster servers wait for the nodes and the side-loads", async () => {
    const name = unique("order");
    const setup = new RegistrySetup(
      name,
      withParts({
        nodes: NODES,
        nodeAddress: "10.0.0.12",
        cluster: { ...cluster, sideLoads: [{ path: "registry.tar" }] },
      }),
    );
    expect(await promiseOf(setup.endpoints)).toMatchObject({ registry: "10.0.0.12:32000" });
    await mocks.settle();
    const deployment = mocks.one(`${name}-cluster-registry/deployment`);
    const before = new Set(deployment.dependencies);
    for (const r of mocks.named(`${name}-nodes-`).filter((x) => x.custom))
      expect(before.has(r.urn!)).toBe(true);
    // The side-load is a component: a dependency on it is one on its children (the stand-in has none, so the
    // component's own registration shows the node deliveries only).
    const nodeUrns = mocks
      .named(`${name}-nodes-`)
      .filter((x) => x.custom)
      .map((x) => x.urn!);
    expect([...mocks.one(`${name}-cluster`).dependencies].sort()).toEqual(nodeUrns.sort());
  });

  test("node classes beside SSH nodes: both pointed at the in-cluster servers; the servers wait for both", async () => {
    const name = unique("classes");
    const setup = new RegistrySetup(name, {
      nodes: NODES,
      nodeClasses: {
        classes: [
          {
            name: "workers",
            nodeSelector: { "node-role.kubernetes.io/worker": "" },
            profiles: [{ kind: "containerd" }],
          },
        ],
      },
      kubectl: { context: "prod" },
      cluster,
    });
    const classFiles = await promiseOf(setup.classFiles);
    const hub = classFiles.workers.find((f) => f.path === "/etc/containerd/certs.d/docker.io/hosts.toml");
    expect(hub?.content).toContain('[host."http://10.0.0.11:32001"]');
    expect(await promiseOf(setup.daemonSets)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^registry-setup-nodes\//)]),
    );
    await mocks.settle();
    const kids = (await children(name)).map((r) => r.name);
    expect(kids[0]).toBe(`${name}-node-classes`);
    expect(kids).toEqual(expect.arrayContaining([`${name}-nodes`, `${name}-cluster`]));
    // A dependency on a component is one on its children: the DaemonSets that apply the classes.
    const daemonSet = mocks.one(`${name}-node-classes-workers-services`).urn!;
    expect(mocks.one(`${name}-cluster`).dependencies).toContain(daemonSet);
    // The give-back's kubectl runs against the context of the setup's kubectl settings.
    const giveBack = mocks.named(`${name}-node-classes-`).filter((r) => r.type === "command:local:Command");
    expect(giveBack.length).toBeGreaterThan(0);
    for (const r of mocks.named(`${name}-node-classes-`).filter(isKube)) expectValidK8s(objectOf(r));
    expect(JSON.stringify(giveBack.map((r) => r.inputs))).toContain("prod");
  });

  test("node classes: their own problems at the setup's paths, an unknown setting refused; nodeAddress required without SSH nodes", async () => {
    const bad = attempt({
      nodeClasses: {
        namespace: "Bad_NS",
        classes: [{ name: "w", nodeSelector: {}, profiles: [{ kind: "containerd" }] }],
      },
    });
    expect(bad.message).toContain('nodeClasses.namespace: "Bad_NS" must be a DNS label');
    expect(bad.message).not.toMatch(/^ *- namespace:/m);
    const typo = attempt({
      nodeClasses: {
        namespce: "team",
        classes: [{ name: "w", nodeSelector: {}, profiles: [{ kind: "containerd" }] }],
      } as never,
    });
    expect(typo.message).toContain(
      "nodeClasses.namespce: is not a node-classes setting (known: classes, namespace, createNamespace,",
    );
    expect(await children(typo.name)).toEqual([]);
    const noAddress = attempt({
      nodeClasses: { classes: [{ name: "w", nodeSelector: {}, profiles: [{ kind: "containerd" }] }] },
      cluster,
    });
    expect(noAddress.message).toBe(
      "nodeAddress: is required: node classes are pointed at NodePort Services in the cluster; give any node's address",
    );
    expect(await children(noAddress.name)).toEqual([]);
  });

  test("without nodes: the cluster objects only, endpoints on localhost, no node component", async () => {
    const name = unique("nonodes");
    const setup = new RegistrySetup(name, { cluster });
    expect(await promiseOf(setup.endpoints)).toEqual({
      registry: "localhost:32000",
      "cache/docker.io": "localhost:32001",
      zot: "localhost:32010",
    });
    expect(await promiseOf(setup.files)).toEqual({});
    const kids = await children(name);
    expect(kids.map((r) => r.name)).toEqual([`${name}-cluster`]);
    for (const r of mocks.named(`${name}-cluster-`).filter(isKube)) expectValidK8s(objectOf(r));
  });

  test("the Kubernetes provider of the setup's options reaches every Kubernetes object", async () => {
    const provider = new k8s.Provider(unique("kube"), { kubeconfig: "{}" });
    const name = unique("provider");
    new RegistrySetup(
      name,
      {
        registries: { "r.example": { auth: { username: "u", password: "p" } } },
        cluster: {
          registry: {},
          pullSecrets: { namespaces: ["team-a"], serviceAccounts: { mode: "secretsOnly" } },
        },
      },
      { providers: [provider] },
    );
    await mocks.settle();
    const urn = await promiseOf(provider.urn);
    const kube = mocks.named(`${name}-`).filter(isKube);
    expect(kube.length).toBe(6);
    for (const r of kube) expect(r.provider.startsWith(`${urn}::`)).toBe(true);
  });

  test("a namespace of both the registry and the pull Secrets is declared once, the Secret after it", async () => {
    const name = unique("sharedns");
    new RegistrySetup(name, {
      registries: { "r.example": { auth: { username: "u", password: "p" } } },
      cluster: {
        registry: {},
        pullSecrets: {
          namespaces: ["container-registry", "team-a"],
          createNamespaces: true,
          serviceAccounts: { mode: "secretsOnly" },
        },
      },
    });
    await mocks.settle();
    const namespaces = mocks.named(`${name}-`).filter((r) => r.type === "kubernetes:core/v1:Namespace");
    expect(namespaces.map((r) => r.name).sort()).toEqual([
      `${name}-cluster-namespace/container-registry`,
      `${name}-pull-secrets-namespace/team-a`,
    ]);
    expect(mocks.one(`${name}-pull-secrets-pull-secret/container-registry`).dependencies).toEqual([
      mocks.one(`${name}-cluster-namespace/container-registry`).urn,
    ]);
  });

  test("a registry declaration that is one Output: the Secrets still exist at construction, their data once known", async () => {
    const name = unique("output");
    const registries: RegistriesInput = pulumi.output({
      "r.example": { auth: { username: "u", password: pulumi.secret(CANARY_PASSWORD) } },
    });
    const setup = new RegistrySetup(name, {
      registries,
      cluster: {
        pullSecrets: {
          namespaces: ["team-a"],
          registries: ["r.example"],
          serviceAccounts: { mode: "secretsOnly" },
        },
      },
    });
    expect(await promiseOf(setup.pullSecrets)).toEqual(["team-a/registry-credentials"]);
    await mocks.settle();
    const secret = objectOf(mocks.one(`${name}-pull-secrets-pull-secret/team-a`));
    expectValidK8s(secret);
    expect(
      Buffer.from((secret.data as Record<string, string>)[".dockerconfigjson"], "base64").toString(),
    ).toContain(CANARY_PASSWORD);
  });
});

describe("RegistrySetup: the registry addon's wiring", () => {
  class Parent extends pulumi.ComponentResource {
    constructor(name: string) {
      super("test:parent:Parent", name, {});
    }
  }

  test("the endpoint the addon reports must be the one the nodes trust (else the update fails with this)", () => {
    // (Checked inside the endpoint's apply: a failed Output would end the test process, so the check is tested here.)
    expect(addonEndpointMismatch("10.0.0.21:32000", "10.9.9.9:32000")).toBe(
      'registryAddon: the addon reports the endpoint "10.9.9.9:32000", but the nodes were pointed at "10.0.0.21:32000"',
    );
    expect(addonEndpointMismatch("10.0.0.21:32000", "10.0.0.21:32000")).toBeUndefined();
  });

  test("the documented endpoint passes through; the addon is `${name}-registry-addon` under the parent", async () => {
    const parent = new Parent(unique("parent"));
    const { endpoint, part } = wireRegistryAddon(
      parent,
      "y",
      StandInRegistryAddon,
      { node: MK_NODES[0], size: "20Gi" },
      "10.0.0.21:32000",
    );
    expect(await promiseOf(endpoint)).toBe("10.0.0.21:32000");
    expect(await promiseOf(part.urn)).toMatch(
      /test:parent:Parent\$test:standin:MicroK8sRegistryAddon::y-registry-addon$/,
    );
  });
});

describe("RegistrySetup: rendered outputs", () => {
  const registries: RegistriesInput = {
    "registry.k8s.io": {
      mirrors: [{ endpoint: "https://mirror.example.internal/v2/k8s", overridePath: true }],
    },
    "quay.io": { mirrors: [{ endpoint: "https://quay-mirror.example.internal" }] },
    "private.example": { auth: { username: "u", password: CANARY_PASSWORD } },
  };

  test("each listed target is an output; secret exactly when it holds a credential", async () => {
    const setup = new RegistrySetup(unique("render"), {
      registries,
      render: ["kind", "talos", "k0s", "kubeadm"],
    });
    const kind = await promiseOf(setup.kind);
    expect(kind?.containerdConfigPatches).toEqual([
      '[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "/etc/containerd/certs.d"\n',
    ]);
    expect((await promiseOf(setup.kubeadm))?.clusterConfiguration).toContain(
      'imageRepository: "mirror.example.internal/k8s"',
    );
    expect((await promiseOf(setup.k0s))?.imagesRepository).toContain("quay-mirror.example.internal");
    expect((await promiseOf(setup.talos))?.machineConfigPatch).toContain("private.example");
    expect(await promiseOf(setup.anthos)).toBeUndefined();
    await expect(pulumi.isSecret(setup.talos)).resolves.toBe(true);
    await expect(pulumi.isSecret(setup.kubeadm)).resolves.toBe(false);
    const k0sFiles = (await promiseOf(setup.k0s))!.files;
    await expect(pulumi.isSecret(setup.k0s)).resolves.toBe(k0sFiles.some((f) => f.secret));
    await expect(pulumi.isSecret(setup.kind)).resolves.toBe(kind!.files.some((f) => f.secret));
  });
});

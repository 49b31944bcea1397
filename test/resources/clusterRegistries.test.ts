/**
 * `ClusterRegistries` under `pulumi.runtime.setMocks`: one `NodeRegistries` per node with stable names, every
 * node's `files` part at once, the `services` parts rolled in batches, as the engine would receive them (the
 * dependency URNs of each RegisterResource request).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ClusterNode, RegistriesInput, RuntimeProfile } from "../../components";
import type * as ClusterModule from "../../components/resources/clusterRegistries";
import { CANARY_PASSWORD } from "../helpers/fixtures";
import {
  installMocks,
  isWireSecret,
  leaks,
  plainStrings,
  promiseOf,
  Registration,
  secretForms,
  unpackScript,
  unwrap,
} from "../helpers/pulumiMocks";

// setMocks first; the component module is imported in beforeAll, once the runtime is in test mode.
const mocks = installMocks();
let ClusterRegistries: typeof ClusterModule.ClusterRegistries;
beforeAll(async () => {
  ({ ClusterRegistries } = await import("../../components/resources/clusterRegistries"));
});

const CONTAINERD: RuntimeProfile = { kind: "containerd" }; // hosts files (files part) + config_path (services part)
const MICROK8S_HOSTS: RuntimeProfile = { kind: "microk8s", credentials: "hosts" }; // hosts files only: never restarts
const DECL = { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } };

let hostSeq = 0;
const node = (name: string, profiles: RuntimeProfile | RuntimeProfile[]): ClusterNode => ({
  name,
  connection: {
    host: `10.0.1.${++hostSeq}`,
    user: "root",
    privateKey: "test-key",
    hostKey: "ssh-ed25519 AAAA",
  },
  profiles: Array.isArray(profiles) ? profiles : [profiles],
});

let seq = 0;
/** A unique component name per test, so that registrations never mix. */
const unique = (base: string) => `${base}${++seq}`;

/** Wait for the cluster, then return the registrations under it. */
async function wire(name: string, cluster: ClusterModule.ClusterRegistries) {
  await promiseOf(cluster.summaries);
  await promiseOf(cluster.files);
  await mocks.settle();
  const byName = new Map(mocks.named(name).map((r) => [r.name, r]));
  return { self: mocks.one(name), byName, get: (n: string) => byName.get(`${name}-${n}`) };
}

/** For each delivery under the cluster, the names of the deliveries it depends on. */
function dependencies(name: string): Record<string, string[]> {
  const regs = mocks.named(name);
  const byUrn = new Map(regs.map((r) => [r.urn, r.name.slice(name.length + 1)]));
  return Object.fromEntries(
    regs
      .filter((r) => r.type === "command:remote:Command")
      .map((r) => [r.name.slice(name.length + 1), r.dependencies.map((u) => byUrn.get(u) ?? u).sort()]),
  );
}

describe("ClusterRegistries: resource graph", () => {
  test("its type token, one NodeRegistries per node (`${name}-${node}`), one delivery per part", async () => {
    const name = unique("graph");
    const cluster = new ClusterRegistries(name, {
      nodes: [node("alpha", CONTAINERD), node("beta", MICROK8S_HOSTS), node("gamma", { kind: "k3s" })],
      registries: DECL,
    });
    const { self, byName } = await wire(name, cluster);
    expect(self).toMatchObject({ type: "registry-setup:index:ClusterRegistries", custom: false, parent: "" });
    const children = mocks.registrations.filter((r) => r.parent === self.urn);
    expect(children.map((r) => [r.type, r.name])).toEqual([
      ["registry-setup:index:NodeRegistries", `${name}-alpha`],
      ["registry-setup:index:NodeRegistries", `${name}-beta`],
      ["registry-setup:index:NodeRegistries", `${name}-gamma`],
    ]);
    expect([...byName.keys()].filter((n) => byName.get(n)!.custom).sort()).toEqual([
      `${name}-alpha-files`,
      `${name}-alpha-services`,
      `${name}-beta-files`,
      `${name}-gamma-services`,
    ]);
  });

  test("names derive from node names, not positions: reordering the nodes keeps every name and script", async () => {
    const [a, b] = [unique("order"), unique("order")];
    const nodes = [node("n1", CONTAINERD), node("n2", MICROK8S_HOSTS), node("n3", { kind: "crio" })];
    const first = new ClusterRegistries(a, { nodes, registries: DECL });
    const second = new ClusterRegistries(b, { nodes: [nodes[2], nodes[0], nodes[1]], registries: DECL });
    const [wa, wb] = [await wire(a, first), await wire(b, second)];
    const names = (w: typeof wa, prefix: string) =>
      [...w.byName.keys()].map((n) => n.slice(prefix.length)).sort();
    expect(names(wb, b)).toEqual(names(wa, a));
    for (const d of ["n1-files", "n1-services", "n2-files", "n3-services"]) {
      expect(unwrap(wb.get(d)!.inputs.stdin)).toBe(unwrap(wa.get(d)!.inputs.stdin));
    }
  });

  test("every node gets the script for its own name", async () => {
    const name = unique("script");
    const cluster = new ClusterRegistries(name, {
      nodes: [node("n1", CONTAINERD), node("n2", [MICROK8S_HOSTS, { kind: "kubelet" }])],
      registries: DECL,
      owner: "team-c",
    });
    const w = await wire(name, cluster);
    for (const n of ["n1", "n2"]) {
      const text = unpackScript(unwrap<string>(w.get(`${n}-files`)!.inputs.stdin));
      expect(text).toContain(`P_NODE='${n}'\n`);
      expect(text).toContain(`P_OWNER='team-c'\n`);
    }
  });
});

describe("ClusterRegistries: rollout", () => {
  test("5 nodes, maxUnavailable 2: files parts at once; services parts in batches [[n1,n2],[n3,n4],[n5]]", async () => {
    const name = unique("roll");
    const cluster = new ClusterRegistries(name, {
      nodes: ["n1", "n2", "n3", "n4", "n5"].map((n) => node(n, CONTAINERD)),
      registries: DECL,
      maxUnavailable: 2,
    });
    expect(await promiseOf(cluster.batches)).toEqual([["n1", "n2"], ["n3", "n4"], ["n5"]]);
    await wire(name, cluster);
    expect(dependencies(name)).toEqual({
      "n1-files": [],
      "n1-services": [],
      "n2-files": [],
      "n2-services": [],
      "n3-files": [],
      "n3-services": ["n1-services", "n2-services"],
      "n4-files": [],
      "n4-services": ["n1-services", "n2-services"],
      "n5-files": [],
      "n5-services": ["n3-services", "n4-services"],
    });
  });

  test("maxUnavailable defaults to 1: one restarting node at a time", async () => {
    const name = unique("roll");
    const cluster = new ClusterRegistries(name, {
      nodes: ["a", "b", "c"].map((n) => node(n, { kind: "rke2" })),
      registries: DECL,
    });
    expect(await promiseOf(cluster.batches)).toEqual([["a"], ["b"], ["c"]]);
    await wire(name, cluster);
    expect(dependencies(name)).toEqual({
      "a-services": [],
      "b-services": ["a-services"],
      "c-services": ["b-services"],
    });
  });

  test("nodes whose changes restart nothing are never chained", async () => {
    const name = unique("parallel");
    const cluster = new ClusterRegistries(name, {
      nodes: ["m1", "m2", "m3", "m4"].map((n) => node(n, MICROK8S_HOSTS)),
      registries: { ...DECL, "registry.example.com": { auth: { username: "u", password: "p" } } },
    });
    expect(await promiseOf(cluster.batches)).toEqual([]);
    await wire(name, cluster);
    expect(dependencies(name)).toEqual({ "m1-files": [], "m2-files": [], "m3-files": [], "m4-files": [] });
  });

  test("a mixed cluster: only services parts are chained, in node order", async () => {
    const name = unique("mixed");
    const cluster = new ClusterRegistries(name, {
      nodes: [
        node("r1", CONTAINERD),
        node("p1", MICROK8S_HOSTS),
        node("r2", { kind: "k3s", role: "agent" }),
        node("r3", { kind: "crio" }),
        node("r4", { kind: "microk8s", legacy: true }),
        node("p2", { kind: "containerd", manageConfigPath: false, credentials: "hosts" }),
      ],
      registries: DECL,
    });
    expect(await promiseOf(cluster.batches)).toEqual([["r1"], ["r2"], ["r3"], ["r4"]]);
    await wire(name, cluster);
    expect(dependencies(name)).toEqual({
      "r1-files": [],
      "r1-services": [],
      "p1-files": [],
      "r2-services": ["r1-services"],
      "r3-services": ["r2-services"],
      "r4-services": ["r3-services"],
      "p2-files": [],
    });
  });

  test.each<[string, RuntimeProfile, RegistriesInput]>([
    [
      "MicroK8s, credentials in hosts.toml, but an identity token (only the CRI block can carry it)",
      MICROK8S_HOSTS,
      { "registry.example.com": { auth: { identityToken: "tkn" } } },
    ],
    [
      "containerd without config_path management, an identity token",
      { kind: "containerd", manageConfigPath: false, credentials: "hosts" },
      { "registry.example.com": { auth: { identityToken: "tkn" } } },
    ],
    [
      "MicroK8s, default credentials, a password",
      { kind: "microk8s" },
      { "r.example.com": { auth: { username: "u", password: "p" } } },
    ],
  ])("a node whose plan restarts a service rolls: %s", async (_label, profile, registries) => {
    const name = unique("restart");
    const cluster = new ClusterRegistries(name, {
      nodes: ["x1", "x2"].map((n) => node(n, profile)),
      registries,
    });
    expect(await promiseOf(cluster.batches)).toEqual([["x1"], ["x2"]]);
    await wire(name, cluster);
    expect(dependencies(name)["x2-services"]).toEqual(["x1-services"]);
  });

  test("the cluster's own dependsOn reaches every delivery", async () => {
    const before = unique("first");
    const name = unique("after");
    const first = new ClusterRegistries(before, { nodes: [node("f1", MICROK8S_HOSTS)], registries: DECL });
    const cluster = new ClusterRegistries(
      name,
      { nodes: [node("n1", MICROK8S_HOSTS), node("n2", CONTAINERD)], registries: DECL },
      { dependsOn: [first] },
    );
    await wire(name, cluster);
    const firstDelivery = mocks.one(`${before}-f1-files`).urn;
    for (const r of mocks.named(name).filter((x) => x.custom))
      expect(r.dependencies).toContain(firstDelivery);
  });
});

describe("ClusterRegistries: bad input fails at construction, before any node is registered", () => {
  /** Construct; return what the constructor threw and what it registered. */
  async function attempt(args: ClusterModule.ClusterRegistriesArgs) {
    const before = mocks.registrations.length;
    let thrown: Error | undefined;
    try {
      new ClusterRegistries(unique("bad"), args);
    } catch (e) {
      thrown = e as Error;
    }
    await mocks.settle();
    return { thrown, added: mocks.registrations.slice(before).map((r: Registration) => r.type) };
  }

  test("duplicate node names: the error names nodes[i].name", async () => {
    const { thrown } = await attempt({
      nodes: [node("n1", CONTAINERD), node("n2", CONTAINERD), node("n1", MICROK8S_HOSTS)],
      registries: DECL,
    });
    expect(thrown).toBeInstanceOf(pulumi.ResourceError);
    expect(thrown?.message).toBe(
      'nodes[2].name: "n1" is also the name of nodes[0]: node names must be unique',
    );
  });

  test("two entries reaching the same host: refused (they would give back each other's files)", async () => {
    const a = node("a", CONTAINERD);
    const b = { ...node("b", MICROK8S_HOSTS), connection: { ...a.connection, host: "10.0.1.1", port: 22 } };
    const { thrown } = await attempt({
      nodes: [{ ...a, connection: { ...a.connection, host: "10.0.1.1" } }, b],
      registries: DECL,
    });
    expect(thrown?.message).toBe(
      'nodes[1].connection.host: "10.0.1.1" is also reached by nodes[0]: one host is one node (list its profiles together), or give the other stack its own owner',
    );
  });

  test("a bad node at nodes[1] is reported with its path, and nothing at all is registered", async () => {
    const { thrown, added } = await attempt({
      nodes: [node("n1", CONTAINERD), { ...node("n2", CONTAINERD), sudo: "false" as unknown as boolean }],
      registries: DECL,
    });
    expect(thrown?.message).toBe('nodes[1].sudo: must be true or false, got "false"');
    expect(added).toEqual(["registry-setup:index:ClusterRegistries"]);
  });

  test("a node whose format cannot honour the declaration fails before any node is registered", async () => {
    const { thrown, added } = await attempt({
      nodes: [node("n1", CONTAINERD), node("build", { kind: "docker" })],
      registries: { "quay.io": { fallback: false, mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } },
    });
    expect(thrown?.message).toContain(
      'registries["quay.io"].fallback: false (no fallback) cannot be expressed in daemon.json',
    );
    expect(added).toEqual(["registry-setup:index:ClusterRegistries"]);
  });

  test.each([0, -1, 1.5, Number.NaN])("maxUnavailable %p is an error", async (maxUnavailable) => {
    const { thrown } = await attempt({ nodes: [node("n1", CONTAINERD)], registries: DECL, maxUnavailable });
    expect(thrown?.message).toMatch(/^maxUnavailable: .* must be a whole number of at least 1$/);
  });

  test("no nodes is an error", async () => {
    const { thrown } = await attempt({ nodes: [], registries: DECL });
    expect(thrown?.message).toBe("nodes: must list at least one node");
  });

  test("every problem at once", async () => {
    const { thrown } = await attempt({
      nodes: [node("n1", CONTAINERD), node("n1", CONTAINERD)],
      registries: DECL,
      maxUnavailable: 0,
    });
    expect(thrown?.message).toContain("2 problems:");
    expect(thrown?.message).toContain("maxUnavailable: ");
    expect(thrown?.message).toContain("nodes[1].name: ");
  });

  test("a bad mirror with a canary password fails at construction without printing it", async () => {
    const { thrown } = await attempt({
      nodes: [node("n1", CONTAINERD), node("n2", MICROK8S_HOSTS)],
      registries: {
        "docker.io": { mirrors: [{ endpoint: "ftp://10.0.0.5" }] },
        "registry.example.com": { auth: { username: "robot", password: CANARY_PASSWORD } },
      },
    });
    expect(thrown?.message).toContain('registries["docker.io"].mirrors[0].endpoint');
    expect(leaks(`${thrown?.message}\n${thrown?.stack}`, secretForms(CANARY_PASSWORD, "robot"))).toBe(false);
  });
});

describe("ClusterRegistries: outputs", () => {
  test("summaries merged per node, keyed by node name", async () => {
    const name = unique("summary");
    const cluster = new ClusterRegistries(name, {
      nodes: [node("n1", CONTAINERD), node("n2", MICROK8S_HOSTS)],
      registries: DECL,
      owner: "team-d",
    });
    const summaries = await promiseOf(cluster.summaries);
    expect(Object.keys(summaries)).toEqual(["n1", "n2"]);
    expect(summaries.n1).toMatchObject({ node: "n1", owner: "team-d", mode: "apply" });
    expect(summaries.n1.changed).toEqual([
      "/etc/containerd/certs.d/docker.io/hosts.toml",
      "/etc/containerd/config.toml",
    ]);
    expect(summaries.n2.changed).toEqual(["/var/snap/microk8s/current/args/certs.d/docker.io/hosts.toml"]);
  });

  test("files per node: path, kind, mode, part, action, content", async () => {
    const name = unique("files");
    const cluster = new ClusterRegistries(name, { nodes: [node("n1", CONTAINERD)], registries: DECL });
    expect((await promiseOf(cluster.files)).n1).toEqual([
      {
        path: "/etc/containerd/certs.d/docker.io/hosts.toml",
        kind: "file",
        mode: "0644",
        secret: false,
        part: "files",
        action: "",
        content:
          'server = "https://registry-1.docker.io"\n\n[host."http://10.0.0.5:5000"]\ncapabilities = [ "pull", "resolve" ]\n',
      },
      {
        path: "/etc/containerd/config.toml",
        kind: "config-path",
        mode: "0644",
        secret: false,
        part: "services",
        action: "restart:containerd",
        content: 'config_path = "/etc/containerd/certs.d"\n',
      },
    ]);
  });

  test("warnings are keyed by node name, only nodes with warnings", async () => {
    const name = unique("warn");
    const cluster = new ClusterRegistries(name, {
      nodes: [node("plain", CONTAINERD), node("build", { kind: "docker" })],
      registries: { ...DECL, "quay.io": { mirrors: [{ endpoint: "http://10.0.0.6:5000" }] } },
    });
    const warnings = await promiseOf(cluster.warnings);
    expect(Object.keys(warnings)).toEqual(["build"]);
    expect(warnings.build.length).toBeGreaterThan(0);
  });

  test("a secret password: only scripts that carry it are secret, and the canary shows nowhere else", async () => {
    const name = unique("secret");
    const forms = secretForms(CANARY_PASSWORD, "robot");
    const cluster = new ClusterRegistries(name, {
      nodes: [
        node("n1", CONTAINERD),
        node("n2", [MICROK8S_HOSTS, { kind: "kubelet" }]),
        node("n3", { kind: "docker" }),
      ],
      registries: {
        ...DECL,
        "registry.example.com": { auth: { username: "robot", password: pulumi.secret(CANARY_PASSWORD) } },
      },
    });
    const w = await wire(name, cluster);
    const secret = (d: string) => isWireSecret(w.get(d)!.inputs.stdin);
    // The CRI block (n1's config.toml), the hosts.toml header and config.json (n2) hold it; Docker cannot.
    expect([secret("n1-files"), secret("n1-services"), secret("n2-files"), secret("n3-services")]).toEqual([
      false,
      true,
      true,
      false,
    ]);
    for (const r of mocks.named(name)) {
      const plain = [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})];
      expect(plain.filter((s) => leaks(s, forms))).toEqual([]);
    }
    for (const o of [cluster.summaries, cluster.warnings, cluster.files]) {
      expect(leaks(JSON.stringify(await promiseOf(o as pulumi.Output<unknown>)), forms)).toBe(false);
    }
  });
});

test("nodes of one class share a plan, yet each warning is at its own node's property path", async () => {
  const profile: RuntimeProfile = { kind: "microk8s" }; // 1.35 + CRI block: a deprecation warning per node
  const c = new ClusterRegistries(unique("warn"), {
    registries: { "r.example.com": { auth: { username: "u", password: "p" } } },
    nodes: [node("a", profile), node("b", profile), node("c", profile)],
  });
  const warnings = await promiseOf(c.warnings);
  expect(Object.keys(warnings)).toEqual(["a", "b", "c"]);
  expect(warnings.a.map((w) => w.path)).toEqual(["nodes[0].profiles[0].credentials"]);
  expect(warnings.b.map((w) => w.path)).toEqual(["nodes[1].profiles[0].credentials"]);
  expect(warnings.c.map((w) => w.path)).toEqual(["nodes[2].profiles[0].credentials"]);
  expect(warnings.c[0].message).toBe(warnings.a[0].message);
});

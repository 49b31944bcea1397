/**
 * `ClusterRegistries` under `pulumi.runtime.setMocks`: one `NodeRegistries` per node with stable names, the
 * rollout batches, and the dependencies between batches as the engine would receive them (the dependency URNs
 * of each RegisterResource request, after the SDK expanded the component `dependsOn` into its commands).
 */
import * as pulumi from "@pulumi/pulumi";
import { normalizeRegistries } from "../../components/model/normalize";
import type { RegistriesArgs } from "../../components/model/types";
import { planNode } from "../../components/node/plan";
import type { ProfileArgs } from "../../components/node/profiles";
import type * as ClusterModule from "../../components/node/clusterRegistries";
import type { NodeArgs } from "../../components/node/nodeRegistries";
import { CANARY_PASSWORD } from "../helpers/fixtures";
import {
  installMocks,
  isWireSecret,
  leaks,
  plainStrings,
  promiseOf,
  Registration,
  secretForms,
  unwrap,
} from "../helpers/pulumiMocks";

// setMocks first; the component module is imported in beforeAll, once the runtime is in test mode.
const mocks = installMocks();
let ClusterRegistries: typeof ClusterModule.ClusterRegistries;
beforeAll(async () => {
  ({ ClusterRegistries } = await import("../../components/node/clusterRegistries"));
});

const CONTAINERD: ProfileArgs = { kind: "containerd" }; // manages config_path: a change may restart containerd
const MICROK8S_HOSTS: ProfileArgs = { kind: "microk8s", credentials: "hosts" }; // hosts.toml only: never restarts
const DECL = { "docker.io": { mirrors: ["http://10.0.0.5:5000"] } };

const node = (
  name: string,
  profiles: ProfileArgs | ProfileArgs[],
  host = `10.0.0.${name.length}`,
): NodeArgs => ({
  name,
  connection: { host, user: "root", privateKey: "test-key" },
  profiles,
});

let seq = 0;
/** A unique component name per test, so that registrations never mix. */
const unique = (base: string) => `${base}${++seq}`;

/** Wait for the cluster, then return each node's registrations (component and command), keyed by node name. */
async function wire(name: string, cluster: ClusterModule.ClusterRegistries) {
  await promiseOf(cluster.summaries);
  await mocks.settle();
  const nodes: Record<string, { comp: Registration; cmd: Registration }> = {};
  for (const n of Object.keys(cluster.nodes)) {
    nodes[n] = { comp: mocks.one(`${name}-${n}`), cmd: mocks.one(`${name}-${n}-apply`) };
  }
  return { self: mocks.one(name), nodes };
}

/** For each node, the names of the commands its command depends on (from the request's dependency URNs). */
function commandDependencies(name: string, nodes: Record<string, { cmd: Registration }>) {
  const byUrn = new Map(mocks.named(name).map((r) => [r.urn, r]));
  return Object.fromEntries(
    Object.entries(nodes).map(([n, { cmd }]) => [
      n,
      cmd.dependencies.map((urn) => byUrn.get(urn)?.name ?? urn).sort(),
    ]),
  );
}

describe("ClusterRegistries: resource graph", () => {
  test("registers its type token and one NodeRegistries per node, named `${name}-${node.name}`", async () => {
    const name = unique("graph");
    const cluster = new ClusterRegistries(name, {
      nodes: [node("alpha", CONTAINERD), node("beta", MICROK8S_HOSTS), node("gamma", { kind: "k3s" })],
      registries: DECL,
    });
    const { self, nodes } = await wire(name, cluster);
    expect(self).toMatchObject({ type: "registry-setup:node:ClusterRegistries", custom: false, parent: "" });
    const children = mocks.registrations.filter((r) => r.parent === self.urn);
    expect(children.map((r) => [r.type, r.name])).toEqual([
      ["registry-setup:node:NodeRegistries", `${name}-alpha`],
      ["registry-setup:node:NodeRegistries", `${name}-beta`],
      ["registry-setup:node:NodeRegistries", `${name}-gamma`],
    ]);
    for (const { comp, cmd } of Object.values(nodes)) {
      expect(cmd).toMatchObject({ type: "command:remote:Command", parent: comp.urn });
    }
    expect(mocks.named(name)).toHaveLength(7);
    expect(Object.keys(cluster.nodes)).toEqual(["alpha", "beta", "gamma"]);
  });

  test("names derive from node names, not positions: reordering the nodes keeps every name and script", async () => {
    const [a, b] = [unique("order"), unique("order")];
    const nodes = [node("n1", CONTAINERD), node("n2", MICROK8S_HOSTS), node("n3", { kind: "crio" })];
    const first = new ClusterRegistries(a, { nodes, registries: DECL });
    const second = new ClusterRegistries(b, { nodes: [nodes[2], nodes[0], nodes[1]], registries: DECL });
    const [wa, wb] = [await wire(a, first), await wire(b, second)];
    const names = (prefix: string) =>
      mocks
        .named(prefix)
        .map((r) => `${r.type} ${r.name.slice(prefix.length)}`)
        .sort();
    expect(names(b)).toEqual(names(a));
    for (const n of ["n1", "n2", "n3"]) {
      expect(unwrap(wb.nodes[n].cmd.inputs.stdin)).toBe(unwrap(wa.nodes[n].cmd.inputs.stdin));
    }
  });

  test("every node gets the script for its own name and profiles", async () => {
    const name = unique("script");
    const nodes = [node("n1", CONTAINERD), node("n2", [MICROK8S_HOSTS, { kind: "kubelet" }])];
    const cluster = new ClusterRegistries(name, { nodes, registries: DECL, owner: "team-c" });
    const wired = await wire(name, cluster);
    for (const n of nodes) {
      const plan = planNode(normalizeRegistries(DECL as RegistriesArgs), {
        node: n.name,
        owner: "team-c",
        profiles: Array.isArray(n.profiles) ? n.profiles : [n.profiles],
      });
      const script = unwrap<string>(wired.nodes[n.name].cmd.inputs.stdin);
      expect(script).toContain(`P_NODE='${n.name}'\n`);
      for (const e of plan.entries) expect(script).toContain(` '${e.path}' `);
    }
  });
});

describe("ClusterRegistries: rolling", () => {
  test("5 restarting nodes, maxUnavailable 2: batches [[n1,n2],[n3,n4],[n5]], each after the previous", async () => {
    const name = unique("roll");
    const cluster = new ClusterRegistries(name, {
      nodes: ["n1", "n2", "n3", "n4", "n5"].map((n) => node(n, CONTAINERD)),
      registries: DECL,
      maxUnavailable: 2,
    });
    expect(cluster.batches).toEqual([["n1", "n2"], ["n3", "n4"], ["n5"]]);
    const { nodes } = await wire(name, cluster);
    expect(commandDependencies(name, nodes)).toEqual({
      n1: [],
      n2: [],
      n3: [`${name}-n1-apply`, `${name}-n2-apply`],
      n4: [`${name}-n1-apply`, `${name}-n2-apply`],
      n5: [`${name}-n3-apply`, `${name}-n4-apply`],
    });
    // The per-node components carry the same order, so that anything depending on them waits as well.
    const urnName = new Map(mocks.named(name).map((r) => [r.urn, r.name]));
    expect(nodes.n5.comp.dependencies.map((u) => urnName.get(u)).sort()).toEqual([
      `${name}-n3-apply`,
      `${name}-n4-apply`,
    ]);
  });

  test("maxUnavailable defaults to 1: one restarting node at a time", async () => {
    const name = unique("roll");
    const cluster = new ClusterRegistries(name, {
      nodes: ["a", "b", "c"].map((n) => node(n, { kind: "rke2" })),
      registries: DECL,
    });
    expect(cluster.batches).toEqual([["a"], ["b"], ["c"]]);
    const { nodes } = await wire(name, cluster);
    expect(commandDependencies(name, nodes)).toEqual({
      a: [],
      b: [`${name}-a-apply`],
      c: [`${name}-b-apply`],
    });
  });

  test("MicroK8s ≥1.23 with credentials in hosts.toml never restarts: no batches, all in parallel", async () => {
    const name = unique("parallel");
    const cluster = new ClusterRegistries(name, {
      nodes: ["m1", "m2", "m3", "m4"].map((n) => node(n, MICROK8S_HOSTS)),
      registries: { ...DECL, "registry.example.com": { auth: { username: "u", password: "p" } } },
      maxUnavailable: 1,
    });
    expect(cluster.batches).toEqual([]);
    const { nodes } = await wire(name, cluster);
    expect(commandDependencies(name, nodes)).toEqual({ m1: [], m2: [], m3: [], m4: [] });
    for (const { comp } of Object.values(nodes)) expect(comp.dependencies).toEqual([]);
  });

  test("a mixed cluster: only the nodes that may restart are chained", async () => {
    const name = unique("mixed");
    const cluster = new ClusterRegistries(name, {
      nodes: [
        node("r1", CONTAINERD),
        node("p1", MICROK8S_HOSTS),
        node("r2", { kind: "k3s", role: "agent" }),
        node("p2", { kind: "crio" }),
        node("r3", { kind: "microk8s", legacy: true }),
        node("p3", { kind: "containerd", manageConfigPath: false, credentials: "hosts" }),
      ],
      registries: DECL,
    });
    expect(cluster.batches).toEqual([["r1"], ["r2"], ["r3"]]);
    const { nodes } = await wire(name, cluster);
    expect(commandDependencies(name, nodes)).toEqual({
      r1: [],
      p1: [],
      r2: [`${name}-r1-apply`],
      p2: [],
      r3: [`${name}-r2-apply`],
      p3: [],
    });
  });

  test.each<[string, ProfileArgs, RegistriesArgs]>([
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
  ])(
    "a node whose plan restarts a service is rolled, never parallel: %s",
    async (_label, profile, registries) => {
      // What the node will do, from the plan itself: some entry's change restarts a service.
      const plan = planNode(normalizeRegistries(registries), {
        node: "x",
        owner: "registries",
        profiles: [profile],
      });
      expect(plan.entries.some((e) => e.effect?.action === "restart")).toBe(true);
      const name = unique("restart");
      const cluster = new ClusterRegistries(name, {
        nodes: ["x1", "x2"].map((n) => node(n, profile)),
        registries,
      });
      expect(cluster.batches).toEqual([["x1"], ["x2"]]);
      const { nodes } = await wire(name, cluster);
      expect(commandDependencies(name, nodes).x2).toEqual([`${name}-x1-apply`]);
    },
  );

  test("the cluster's own dependsOn reaches every node's command", async () => {
    const before = unique("first");
    const name = unique("after");
    const first = new ClusterRegistries(before, { nodes: [node("f1", MICROK8S_HOSTS)], registries: DECL });
    const cluster = new ClusterRegistries(
      name,
      { nodes: [node("n1", MICROK8S_HOSTS), node("n2", CONTAINERD)], registries: DECL },
      { dependsOn: [first] },
    );
    const { self, nodes } = await wire(name, cluster);
    const firstCommand = mocks.one(`${before}-f1-apply`).urn;
    expect(self.dependencies).toEqual([firstCommand]);
    for (const { cmd } of Object.values(nodes)) expect(cmd.dependencies).toContain(firstCommand);
  });
});

describe("ClusterRegistries: bad input fails at construction", () => {
  /** Construct; return what the constructor threw (undefined when it did not throw). */
  async function attempt(args: ClusterModule.ClusterRegistriesArgs): Promise<Error | undefined> {
    let thrown: Error | undefined;
    try {
      new ClusterRegistries(unique("bad"), args);
    } catch (e) {
      thrown = e as Error;
    }
    await mocks.settle();
    return thrown;
  }

  test("duplicate node names: the error names nodes[i].name", async () => {
    const thrown = await attempt({
      nodes: [node("n1", CONTAINERD), node("n2", CONTAINERD), node("n1", MICROK8S_HOSTS)],
      registries: DECL,
    });
    expect(thrown).toBeInstanceOf(pulumi.ResourceError);
    expect(thrown?.message).toBe(
      'nodes[2].name: "n1" is also the name of nodes[0]: node names must be unique',
    );
  });

  test.each([0, -1, 1.5, Number.NaN])("maxUnavailable %p is an error", async (maxUnavailable) => {
    const thrown = await attempt({ nodes: [node("n1", CONTAINERD)], registries: DECL, maxUnavailable });
    expect(thrown).toBeInstanceOf(pulumi.ResourceError);
    expect(thrown?.message).toMatch(/^maxUnavailable: .* must be a whole number of at least 1$/);
  });

  test("no nodes is an error", async () => {
    const thrown = await attempt({ nodes: [], registries: DECL });
    expect(thrown?.message).toBe("nodes: must list at least one node");
  });

  test("every problem at once", async () => {
    const thrown = await attempt({
      nodes: [node("n1", CONTAINERD), node("n1", CONTAINERD)],
      registries: DECL,
      maxUnavailable: 0,
    });
    expect(thrown?.message).toContain("2 problems:");
    expect(thrown?.message).toContain("maxUnavailable: ");
    expect(thrown?.message).toContain("nodes[1].name: ");
  });

  test("nothing is registered under the cluster for a failed declaration", async () => {
    const before = mocks.registrations.length;
    await attempt({ nodes: [node("n1", CONTAINERD), node("n1", CONTAINERD)], registries: DECL });
    const added = mocks.registrations.slice(before).map((r) => r.type);
    expect(added).toEqual(["registry-setup:node:ClusterRegistries"]);
  });

  test("a bad mirror with a canary password fails at construction without printing it", async () => {
    const thrown = await attempt({
      nodes: [node("n1", CONTAINERD), node("n2", MICROK8S_HOSTS)],
      registries: {
        "docker.io": { mirrors: ["ftp://10.0.0.5"] },
        "registry.example.com": { auth: { username: "robot", password: CANARY_PASSWORD } },
      },
    });
    expect(thrown?.message).toContain('registries["docker.io"].mirrors[0].endpoint');
    expect(leaks(`${thrown?.message}\n${thrown?.stack}`, secretForms(CANARY_PASSWORD, "robot"))).toBe(false);
  });
});

describe("ClusterRegistries: outputs", () => {
  test("summaries are parsed from each command's stdout, keyed by node name", async () => {
    const name = unique("summary");
    const cluster = new ClusterRegistries(name, {
      nodes: [node("n1", CONTAINERD), node("n2", MICROK8S_HOSTS)],
      registries: DECL,
      owner: "team-d",
    });
    const summaries = await promiseOf(cluster.summaries);
    expect(Object.keys(summaries)).toEqual(["n1", "n2"]);
    expect(summaries.n1).toMatchObject({ node: "n1", owner: "team-d", mode: "apply" });
    expect(summaries.n1?.changed).toEqual([
      "/etc/containerd/certs.d/docker.io/hosts.toml",
      "/etc/containerd/config.toml",
    ]);
    expect(summaries.n2).toMatchObject({ node: "n2", owner: "team-d" });
    expect(summaries.n2?.changed).toEqual(["/var/snap/microk8s/current/args/certs.d/docker.io/hosts.toml"]);
  });

  test("warnings are keyed by node name, only nodes with warnings", async () => {
    const name = unique("warn");
    const cluster = new ClusterRegistries(name, {
      nodes: [node("plain", CONTAINERD), node("build", { kind: "docker" })],
      registries: { ...DECL, "quay.io": { mirrors: ["http://10.0.0.6:5000"] } },
    });
    const warnings = await promiseOf(cluster.warnings);
    expect(Object.keys(warnings)).toEqual(["build"]);
    expect(warnings.build.length).toBeGreaterThan(0);
  });

  test("a secret password: every node's stdin is secret, and the canary shows nowhere else", async () => {
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
    const { nodes } = await wire(name, cluster);
    for (const { cmd } of Object.values(nodes)) expect(isWireSecret(cmd.inputs.stdin)).toBe(true);
    for (const r of mocks.named(name)) {
      const plain = [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})];
      expect(plain.filter((s) => leaks(s, forms))).toEqual([]);
    }
    expect(leaks(JSON.stringify(await promiseOf(cluster.summaries)), forms)).toBe(false);
    expect(leaks(JSON.stringify(await promiseOf(cluster.warnings)), forms)).toBe(false);
  });
});

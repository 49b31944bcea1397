/**
 * `NodeClassRegistries` under `pulumi.runtime.setMocks`: the resources the engine would receive (type, name,
 * dependencies, options), every Kubernetes object valid against the OpenAPI schema, secrets only where they belong,
 * the same node script bodies as the SSH transport, and every argument problem at construction.
 */
import * as pulumi from "@pulumi/pulumi";
import type { NodeClass, NodeClassRegistriesArgs, RegistriesInput, RuntimeProfile } from "../../components";
import { DAEMONSET_SCRIPT } from "../../components/kubectl/daemonSetScript.bundle";
import { MODE_ANNOTATION } from "../../components/kubernetes";
import type * as ClassModule from "../../components/resources/nodeClassRegistries";
import type * as ClusterModule from "../../components/resources/clusterRegistries";
import { CANARY_PASSWORD } from "../helpers/fixtures";
import { expectValidK8s } from "../helpers/k8sSchema";
import {
  installMocks,
  isWireSecret,
  kubernetesOutputs,
  leaks,
  plainStrings,
  promiseOf,
  Registration,
  secretForms,
  unpackScript,
  unwrap,
} from "../helpers/pulumiMocks";

const mocks = installMocks();
let NodeClassRegistries: typeof ClassModule.NodeClassRegistries;
let ClusterRegistries: typeof ClusterModule.ClusterRegistries;
beforeAll(async () => {
  ({ NodeClassRegistries } = await import("../../components/resources/nodeClassRegistries"));
  ({ ClusterRegistries } = await import("../../components/resources/clusterRegistries"));
});

// hosts files (files part, no credential: those go to the CRI block) + config.toml (services part, credentials)
const CONTAINERD: RuntimeProfile[] = [{ kind: "containerd" }];
const HOSTS_ONLY: RuntimeProfile[] = [{ kind: "microk8s", credentials: "hosts" }];
const DECL: RegistriesInput = {
  "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] },
  "registry.example.com:5443": { auth: { username: "ci", password: CANARY_PASSWORD } },
};

let seq = 0;
const unique = (base: string) => `${base}${++seq}`;
const workers = (extra: Partial<NodeClass> = {}): NodeClass => ({
  name: "workers",
  nodeSelector: { "node-role.kubernetes.io/worker": "" },
  profiles: CONTAINERD,
  ...extra,
});

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Build the component, wait for it, and return what it registered. */
async function build(name: string, args: Partial<NodeClassRegistriesArgs> = {}) {
  const c = new NodeClassRegistries(name, { registries: DECL, classes: [workers()], ...args });
  await promiseOf(c.files);
  await promiseOf(c.daemonSets);
  await mocks.settle();
  const regs = mocks.named(name);
  const byUrn = new Map(regs.map((r) => [r.urn, r.name]));
  const one = (n: string) => {
    const found = regs.filter((r) => r.name === `${name}-${n}` && r.custom);
    if (found.length !== 1) throw new Error(`expected one resource ${name}-${n}, found ${found.length}`);
    return found[0];
  };
  return {
    c,
    regs,
    one,
    deps: (r: Registration) => r.dependencies.map((u) => byUrn.get(u) ?? u).sort(),
    /** The object the engine would send to the API server (inputs, secrets unwrapped). */
    object: (r: Registration) => deep(r.inputs) as Obj,
  };
}

function deep(v: unknown): unknown {
  if (isWireSecret(v)) return deep(unwrap(v));
  if (Array.isArray(v)) return v.map(deep);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
}

/** The packed script a payload carries. */
function payloadScript(r: Registration): string {
  const data = deep(r.inputs.data) as Record<string, string>;
  return r.type === "kubernetes:core/v1:Secret"
    ? Buffer.from(data["node.sh"], "base64").toString("utf8")
    : data["node.sh"];
}

describe("NodeClassRegistries: resources", () => {
  test("its type token; per class and part a payload, a give-back command and a DaemonSet; a checker; the namespace", async () => {
    const name = unique("graph");
    const { regs } = await build(name);
    const self = mocks.one(name);
    expect(self).toMatchObject({
      type: "registry-setup:index:NodeClassRegistries",
      custom: false,
      parent: "",
    });
    const children = regs.filter((r) => r.custom).map((r) => `${r.name.slice(name.length + 1)} ${r.type}`);
    expect(children.sort()).toEqual([
      "namespace kubernetes:core/v1:Namespace",
      "workers-check kubernetes:apps/v1:DaemonSet",
      "workers-files kubernetes:apps/v1:DaemonSet",
      "workers-files-give-back command:local:Command",
      "workers-files-payload kubernetes:core/v1:ConfigMap",
      "workers-services kubernetes:apps/v1:DaemonSet",
      "workers-services-give-back command:local:Command",
      "workers-services-payload kubernetes:core/v1:Secret",
    ]);
    for (const r of regs.filter((x) => x.custom)) expect(r.parent).toBe(self.urn);
  });

  test("every Kubernetes object is valid against the Kubernetes OpenAPI schema (no unknown field)", async () => {
    const name = unique("schema");
    const { regs, object } = await build(name, {
      classes: [
        workers({ maxUnavailable: 3 }),
        { name: "edge", nodeSelector: { pool: "edge" }, profiles: HOSTS_ONLY },
      ],
      priorityClassName: "system-node-critical",
      rolloutTimeoutSeconds: 1800,
    });
    const k8s = regs.filter((r) => r.type.startsWith("kubernetes:"));
    expect(k8s).toHaveLength(1 + 5 + 3); // namespace; workers: 2 payloads, 3 DaemonSets; edge: 1 payload, files + check
    for (const r of k8s) expectValidK8s(object(r));
  });

  test("order: payload ← give-back command ← DaemonSet (retained: the command gives back, then deletes it)", async () => {
    const name = unique("order");
    const { one, deps } = await build(name);
    expect(deps(one("workers-files-payload"))).toEqual([`${name}-namespace`]);
    expect(deps(one("workers-files-give-back"))).toEqual([`${name}-workers-files-payload`]);
    expect(deps(one("workers-files"))).toEqual([
      `${name}-workers-files-give-back`,
      `${name}-workers-files-payload`,
    ]);
    expect(one("workers-files").retainOnDelete).toBe(true);
    expect(one("workers-check").retainOnDelete).toBe(false);
    for (const part of ["files", "services"]) {
      // Immutable payload with a fixed name: a new one replaces the old one, deleted first.
      expect(one(`workers-${part}-payload`)).toMatchObject({ deleteBeforeReplace: true });
      expect(one(`workers-${part}-payload`).replaceOnChanges).toContain("data");
    }
  });

  test("the give-back command: fixed command texts, the program on stdin, names in the environment", async () => {
    const name = unique("giveback");
    const { one } = await build(name, {
      kubeconfig: "/home/ops/.kube/prod",
      kubeContext: "prod",
      giveBackTimeoutSeconds: 900,
    });
    const cmd = one("workers-services-give-back").inputs;
    expect(cmd).toMatchObject({
      create: "node - verify",
      update: "node - verify",
      delete: "node - give-back",
      stdin: DAEMONSET_SCRIPT,
      addPreviousOutputInEnv: false,
      environment: {
        REGISTRY_SETUP_NAMESPACE: "registry-setup-nodes",
        REGISTRY_SETUP_DAEMONSETS: '["registries-workers-services"]',
        REGISTRY_SETUP_WAIT_SECONDS: "900",
        REGISTRY_SETUP_KUBECONFIG: "/home/ops/.kube/prod",
        REGISTRY_SETUP_CONTEXT: "prod",
      },
    });
    expect(cmd.triggers).toBeUndefined(); // never replaced: a replacement would give the nodes back
  });

  test("payload: a Secret exactly when the part holds a credential; the canary is nowhere in clear", async () => {
    const name = unique("secret");
    const { regs, one } = await build(name);
    expect(one("workers-files-payload").type).toBe("kubernetes:core/v1:ConfigMap");
    const secret = one("workers-services-payload");
    expect(secret.type).toBe("kubernetes:core/v1:Secret");
    expect(isWireSecret(secret.inputs.data)).toBe(true);
    const forms = secretForms(CANARY_PASSWORD, "ci");
    expect(leaks(unpackScript(payloadScript(secret)), forms)).toBe(true); // it is there (the CRI block)
    for (const r of regs) {
      for (const s of plainStrings(r.inputs))
        expect({ name: r.name, leaks: leaks(s, forms, 3) }).toEqual({ name: r.name, leaks: false });
    }
    // Credentials as hosts.toml headers: the files part holds them, so the files payload is the Secret.
    const hosts = unique("hosts");
    const b = await build(hosts, { classes: [workers({ profiles: HOSTS_ONLY })] });
    expect(b.one("workers-files-payload").type).toBe("kubernetes:core/v1:Secret");
    expect(b.regs.some((r) => r.name === `${hosts}-workers-services-payload`)).toBe(false);
  });

  test("a declaration not known when the program is built: every payload is a Secret", async () => {
    const name = unique("unknown");
    const { one } = await build(name, { registries: pulumi.output(DECL) as unknown as RegistriesInput });
    expect(one("workers-files-payload").type).toBe("kubernetes:core/v1:Secret");
    expect(one("workers-services-payload").type).toBe("kubernetes:core/v1:Secret");
  });

  test("rollout: files to every node at once, services maxUnavailable; the Pods carry each payload's identity", async () => {
    const name = unique("rollout");
    const { one, object } = await build(name, { classes: [workers({ maxUnavailable: 4 })] });
    const files = object(one("workers-files"));
    const services = object(one("workers-services"));
    expect(files.spec.updateStrategy.rollingUpdate.maxUnavailable).toBe("100%");
    expect(services.spec.updateStrategy.rollingUpdate.maxUnavailable).toBe(4);
    // The payload's uid (here the mock provider's, made from its inputs; a real API server's is random): the Pod
    // template names the payload it was rolled for.
    const uid = (n: string) => (kubernetesOutputs(one(n) as never)!.metadata as Obj).uid as string;
    expect(files.spec.template.metadata.annotations).toEqual({
      [MODE_ANNOTATION]: "apply",
      "registry-setup.io/payload-files": uid("workers-files-payload"),
    });
    expect(services.spec.template.metadata.annotations).toEqual({
      [MODE_ANNOTATION]: "apply",
      "registry-setup.io/payload-services": uid("workers-services-payload"),
    });
    expect(services.spec.template.spec.nodeSelector).toEqual({
      "kubernetes.io/os": "linux",
      "node-role.kubernetes.io/worker": "",
    });
  });

  test("a mirror edit changes only the files payload: only the files DaemonSet (and the checker) roll", async () => {
    const a = await build(unique("mirrorA"));
    const edited: RegistriesInput = {
      ...DECL,
      "docker.io": { mirrors: [{ endpoint: "http://10.0.0.6:5000" }] },
    };
    const b = await build(unique("mirrorB"), { registries: edited });
    const template = (x: typeof a, n: string) => x.object(x.one(n)).spec.template;
    expect(template(b, "workers-services")).toEqual(template(a, "workers-services"));
    expect(template(b, "workers-files")).not.toEqual(template(a, "workers-files"));
    expect(template(b, "workers-check")).not.toEqual(template(a, "workers-check"));
    // The same declaration again: the same objects (no rollout at all).
    const c = await build(unique("mirrorC"));
    for (const n of ["workers-files", "workers-services", "workers-check"])
      expect(template(c, n)).toEqual(template(a, n));
  });

  test("driftCheckSeconds: 0 declares no checker", async () => {
    const name = unique("nocheck");
    const { regs } = await build(name, { driftCheckSeconds: 0 });
    expect(regs.filter((r) => r.name.endsWith("-check"))).toEqual([]);
  });

  test("createNamespace: false declares no namespace", async () => {
    const name = unique("nons");
    const { regs, one, deps } = await build(name, { createNamespace: false, namespace: "kube-system" });
    expect(regs.filter((r) => r.type === "kubernetes:core/v1:Namespace")).toEqual([]);
    expect(deps(one("workers-files-payload"))).toEqual([]);
  });
});

describe("NodeClassRegistries: the same script as the SSH transport", () => {
  test("a class and an SSH node with the same profiles get byte-identical script bodies; only the node line differs", async () => {
    const name = unique("same");
    const { one } = await build(name);
    const ssh = unique("ssh");
    const cluster = new ClusterRegistries(ssh, {
      registries: DECL,
      nodes: [
        {
          name: "vm",
          connection: { host: "10.0.0.9", user: "root", privateKey: "k", hostKey: "ssh-ed25519 AAAA" },
          profiles: CONTAINERD,
        },
      ],
    });
    await promiseOf(cluster.summaries);
    await mocks.settle();
    for (const part of ["files", "services"]) {
      const daemonset = payloadScript(one(`workers-${part}-payload`));
      const stdin = unwrap<string>(mocks.one(`${ssh}-vm-${part}`).inputs.stdin);
      expect(daemonset).toContain(': "${P_NODE:?the node name must be in the environment}"');
      expect(stdin).toContain("P_NODE='vm'");
      const body = (s: string) => unpackScript(s).replace(/^P_NODE=.*\n/m, "");
      expect(body(daemonset)).toBe(body(stdin));
    }
  });

  test("the files output: per class, what each node of the class gets (secret content left out)", async () => {
    const name = unique("files");
    const { c, one } = await build(name, {
      classes: [workers({ profiles: [...CONTAINERD, { kind: "kubelet" }] })],
    });
    // kubelet's config.json holds the credentials and restarts nothing: now the files part is a Secret.
    expect(one("workers-files-payload").type).toBe("kubernetes:core/v1:Secret");
    const files = await promiseOf(c.files);
    expect(Object.keys(files)).toEqual(["workers"]);
    expect(files.workers.map((f) => [f.path, f.part, f.secret])).toEqual([
      ["/etc/containerd/certs.d/docker.io/hosts.toml", "files", false],
      ["/etc/containerd/certs.d/registry.example.com:5443/hosts.toml", "files", false],
      ["/etc/containerd/config.toml", "services", true],
      ["/var/lib/kubelet/config.json", "files", true],
    ]);
    expect(JSON.stringify(files)).not.toContain(CANARY_PASSWORD);
    expect(await promiseOf(c.daemonSets)).toEqual([
      "registry-setup-nodes/registries-workers-files",
      "registry-setup-nodes/registries-workers-services",
      "registry-setup-nodes/registries-workers-check",
    ]);
  });
});

describe("NodeClassRegistries inside a parent (one declaration for SSH nodes and node classes)", () => {
  test("a parent hands over its prepared declaration and the property path of the classes", async () => {
    const { PREPARED } = await import("../../components/resources/nodeRegistries");
    const { prepareDeclaration } = await import("../../components/inputs/declaration");
    const parent = new pulumi.ComponentResource("test:index:Parent", unique("parent"));
    const { prepared } = prepareDeclaration(DECL, parent);
    const name = unique("child");
    const c = new NodeClassRegistries(
      name,
      Object.assign(
        { registries: {}, classes: [workers()] },
        { [PREPARED]: { prepared, path: "nodeClasses" } },
      ),
      { parent },
    );
    // The declaration handed over is the one planned (the registries argument is not read again).
    expect(Object.keys(await promiseOf(c.files))).toEqual(["workers"]);
    expect((await promiseOf(c.files)).workers.map((f) => f.path)).toContain(
      "/etc/containerd/certs.d/docker.io/hosts.toml",
    );
    let message = "";
    try {
      new NodeClassRegistries(
        unique("child"),
        Object.assign(
          { registries: {}, classes: [workers({ name: "Bad" })] },
          { [PREPARED]: { prepared, path: "nodeClasses" } },
        ),
        { parent },
      );
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('nodeClasses[0].name: "Bad"');
  });
});

describe("NodeClassRegistries: argument problems, all at once, before anything is registered", () => {
  const bad = (args: Partial<NodeClassRegistriesArgs>) => {
    const name = unique("bad");
    let message = "";
    try {
      new NodeClassRegistries(name, { registries: DECL, classes: [workers()], ...args });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(mocks.named(name).filter((r) => r.custom)).toEqual([]);
    return message;
  };

  test.each<[string, Partial<NodeClassRegistriesArgs>, string]>([
    ["no class", { classes: [] }, "classes: must list at least one node class"],
    [
      "class name",
      { classes: [workers({ name: "Workers_1" })] },
      'classes[0].name: "Workers_1" must be lowercase letters',
    ],
    [
      "duplicate",
      { classes: [workers(), workers({ nodeSelector: { pool: "b" } })] },
      'classes[1].name: "workers" is also the name of classes[0]',
    ],
    [
      "a selector inside another",
      {
        classes: [
          workers(),
          {
            name: "gpu",
            nodeSelector: { "node-role.kubernetes.io/worker": "", gpu: "a100" },
            profiles: CONTAINERD,
          },
        ],
      },
      "classes[1].nodeSelector: every node it selects also matches classes[0]'s selector",
    ],
    [
      "the same selector twice",
      { classes: [workers(), workers({ name: "other" })] },
      "classes[1].nodeSelector: every node it selects also matches classes[0]'s selector",
    ],
    [
      "every node, and more",
      {
        classes: [
          workers({ nodeSelector: {} }),
          { name: "b", nodeSelector: { x: "1" }, profiles: CONTAINERD },
        ],
      },
      "classes[1].nodeSelector",
    ],
    [
      "label key",
      { classes: [workers({ nodeSelector: { "bad key": "x" } })] },
      '"bad key" is not a label key',
    ],
    [
      "label value",
      { classes: [workers({ nodeSelector: { pool: "a b" } })] },
      'classes[0].nodeSelector["pool"]: "a b" is not a label value',
    ],
    [
      "maxUnavailable",
      { classes: [workers({ maxUnavailable: 0 })] },
      "classes[0].maxUnavailable: 0 must be a whole number of at least 1",
    ],
    [
      "profiles",
      { classes: [workers({ profiles: [] })] },
      "classes[0].profiles: must be a list of at least one runtime profile",
    ],
    [
      "unknown class setting",
      { classes: [{ ...workers(), sudo: true } as NodeClass] },
      "classes[0].sudo: is not a node class setting",
    ],
    [
      "owner for objects",
      { owner: "team.a" },
      'owner: "team.a" must be lowercase letters, digits and "-" here',
    ],
    [
      "names too long",
      { owner: "o".repeat(40), classes: [workers({ name: "c".repeat(20) })] },
      "(owner-class-part) must fit in 63 characters",
    ],
    ["namespace", { namespace: "Bad_NS" }, 'namespace: "Bad_NS" must be a DNS label'],
    [
      "pull policy",
      { imagePullPolicy: "Sometimes" as never },
      'imagePullPolicy: "Sometimes" must be one of IfNotPresent, Always, Never',
    ],
    [
      "drift check",
      { driftCheckSeconds: -1 },
      "driftCheckSeconds: -1 must be a whole number from 0 to 86400",
    ],
    ["give-back wait", { giveBackTimeoutSeconds: 1.5 }, "giveBackTimeoutSeconds: 1.5 must be a whole number"],
    ["image", { image: "" }, "image: must be a non-empty string"],
    ["boolean", { createNamespace: "yes" as never }, 'createNamespace: must be true or false, got "yes"'],
  ])("%s", (_, args, message) => {
    expect(bad(args)).toContain(message);
  });

  test("problems are reported together", () => {
    const message = bad({ namespace: "Bad_NS", classes: [workers({ name: "X" })], driftCheckSeconds: -1 });
    expect(message).toContain("namespace:");
    expect(message).toContain("classes[0].name:");
    expect(message).toContain("driftCheckSeconds:");
  });
});

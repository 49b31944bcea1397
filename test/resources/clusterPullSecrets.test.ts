/**
 * `ClusterPullSecrets` under `pulumi.runtime.setMocks`: the `kubernetes.io/dockerconfigjson` Secrets (valid
 * objects, several registries merged, secret end to end, checked with a canary), the namespaces, and one
 * `local.Command` per ServiceAccount, whose declared commands are then run as @pulumi/command would against the
 * STAND-IN kubectl (test/standins/bin).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type * as Module from "../../components/resources/clusterPullSecrets";
import { SERVICE_ACCOUNT_SCRIPT } from "../../components/kubectl/serviceAccountScript.bundle";
import { pullSecretPayload } from "../../components/kubernetes/pullSecrets";
import { ClusterArgs } from "../../components/model/cluster";
import { normalizeCluster } from "../../components/model/normalizeCluster";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { CANARY_PASSWORD } from "../helpers/fixtures";
import { isKube, objectOf } from "../helpers/kubeRegistrations";
import { expectValidK8s } from "../helpers/k8sSchema";
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
import { serviceAccount, StandInCluster } from "../helpers/standinKubectl";

const mocks = installMocks();
let ClusterPullSecrets: typeof Module.ClusterPullSecrets;
let SERVICE_ACCOUNT_COMMANDS: typeof Module.SERVICE_ACCOUNT_COMMANDS;
beforeAll(async () => {
  ({ ClusterPullSecrets, SERVICE_ACCOUNT_COMMANDS } =
    await import("../../components/resources/clusterPullSecrets"));
});

const USER = "robot";
const CANARY = secretForms(CANARY_PASSWORD, USER);
const REGISTRIES: RegistriesArgs = {
  "registry.example.com": { auth: { username: USER, password: CANARY_PASSWORD } },
  "docker.io": { auth: { username: "hub-user", password: "hub-token" } },
  "quay.io": {},
};

let seq = 0;
function make(
  pullSecrets: ClusterArgs["pullSecrets"],
  opts: {
    secretDeclaration?: boolean;
    namespaces?: Map<string, pulumi.Resource>;
    kubectl?: Module.KubectlArgs;
    component?: pulumi.ComponentResourceOptions;
  } = {},
) {
  const name = `ps${++seq}`;
  const registries = normalizeRegistries(REGISTRIES);
  const cluster = normalizeCluster({ pullSecrets }, { registries });
  const content = { cluster, registries };
  const c = new ClusterPullSecrets(
    name,
    {
      structure: cluster.pullSecrets!,
      content: opts.secretDeclaration ? pulumi.secret(content) : pulumi.output(content),
      owner: "registries",
      ...(opts.kubectl ? { kubectl: opts.kubectl } : {}),
      ...(opts.namespaces ? { namespaces: opts.namespaces } : {}),
    },
    opts.component,
  );
  return { name, c, cluster, registries };
}

async function settled(name: string, c: Module.ClusterPullSecrets) {
  await promiseOf(c.secrets);
  await promiseOf(c.serviceAccounts);
  await mocks.settle();
  const regs = mocks.named(`${name}-`);
  const byUrn = new Map(regs.map((r) => [r.urn, r.name.slice(name.length + 1)]));
  const deps = (r: Registration) => r.dependencies.map((u) => byUrn.get(u) ?? u).sort();
  return { regs, get: (key: string) => regs.find((r) => r.name === `${name}-${key}`)!, deps };
}

describe("ClusterPullSecrets: the Secrets", () => {
  test("one dockerconfigjson Secret per namespace, the registries with credentials merged, valid objects", async () => {
    const { name, c, cluster, registries } = make({ namespaces: ["team-b", "team-a"] });
    const { regs, get } = await settled(name, c);
    expect(regs.filter(isKube).map((r) => r.name.slice(name.length + 1))).toEqual([
      "pull-secret/team-a",
      "pull-secret/team-b",
    ]);
    const payload = pullSecretPayload(cluster.pullSecrets!, registries);
    expect(Object.keys(JSON.parse(payload).auths).sort()).toEqual([
      "https://index.docker.io/v1/",
      "registry.example.com",
    ]);
    for (const ns of ["team-a", "team-b"]) {
      const object = objectOf(get(`pull-secret/${ns}`));
      expectValidK8s(object);
      expect(object).toEqual({
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: "registry-credentials",
          namespace: ns,
          labels: { "app.kubernetes.io/part-of": "registry-setup" },
        },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": Buffer.from(payload).toString("base64") },
      });
    }
    expect(await promiseOf(c.secrets)).toEqual([
      "team-a/registry-credentials",
      "team-b/registry-credentials",
    ]);
  });

  test.each([false, true])(
    "secret end to end (declaration given as a secret: %s): data wrapped as secret, no canary anywhere in clear",
    async (secretDeclaration) => {
      const { name, c } = make({ namespaces: ["team-a"] }, { secretDeclaration });
      const { regs, get } = await settled(name, c);
      const secret = get("pull-secret/team-a");
      expect(isWireSecret(secret.inputs.data)).toBe(true);
      expect(secret.additionalSecretOutputs).toEqual(expect.arrayContaining(["data", "stringData"]));
      // Metadata and type are no secret: a reviewer sees which Secret changes.
      expect(isWireSecret(secret.inputs.metadata)).toBe(false);
      for (const r of regs) {
        for (const s of plainStrings(r.inputs)) expect(leaks(s, CANARY)).toBe(false);
        for (const s of plainStrings(r.outputs ?? {})) expect(leaks(s, CANARY)).toBe(false);
      }
      // The canary is really in the secret data (the check above can fail).
      expect(leaks(JSON.stringify(unwrap(secret.inputs.data)), CANARY)).toBe(true);
    },
  );

  test("createNamespaces: the namespaces, each Secret after its namespace; a namespace declared elsewhere is reused", async () => {
    const elsewhere = new k8s.core.v1.Namespace(`elsewhere${++seq}`, { metadata: { name: "team-b" } });
    const { name, c } = make(
      { namespaces: ["team-a", "team-b"], createNamespaces: true },
      { namespaces: new Map([["namespace/team-b", elsewhere]]) },
    );
    const { regs, get, deps } = await settled(name, c);
    expect(
      regs
        .filter(isKube)
        .map((r) => r.name.slice(name.length + 1))
        .sort(),
    ).toEqual(["namespace/team-a", "pull-secret/team-a", "pull-secret/team-b"]);
    expectValidK8s(objectOf(get("namespace/team-a")));
    expect(deps(get("pull-secret/team-a"))).toEqual(["namespace/team-a"]);
    expect(get("pull-secret/team-b").dependencies).toEqual([await promiseOf(elsewhere.urn)]);
  });
});

describe("ClusterPullSecrets: the ServiceAccounts", () => {
  test("patch mode (default): one local.Command per ServiceAccount, `default` in every namespace", async () => {
    const { name, c } = make({ namespaces: ["team-a", "team-b"] });
    const { regs, get, deps } = await settled(name, c);
    const cmds = regs.filter((r) => r.type === "command:local:Command");
    expect(cmds.map((r) => r.name.slice(name.length + 1)).sort()).toEqual([
      "service-account/team-a/default",
      "service-account/team-b/default",
    ]);
    const cmd = get("service-account/team-a/default");
    expect(cmd.inputs).toMatchObject({
      create: "node - apply",
      update: "node - apply",
      delete: "node - remove",
      stdin: SERVICE_ACCOUNT_SCRIPT,
      addPreviousOutputInEnv: false,
      logging: "stdoutAndStderr",
      triggers: ["registries"],
      environment: {
        REGISTRY_SETUP_NAMESPACE: "team-a",
        REGISTRY_SETUP_SERVICE_ACCOUNT: "default",
        REGISTRY_SETUP_PULL_SECRETS: '["registry-credentials"]',
        REGISTRY_SETUP_OWNER: "registries",
        REGISTRY_SETUP_WAIT_SECONDS: "60",
      },
    });
    expect(cmd.inputs).toMatchObject(SERVICE_ACCOUNT_COMMANDS);
    expect(cmd.deleteBeforeReplace).toBe(true);
    expect(deps(cmd)).toEqual(["pull-secret/team-a"]);
    // Nothing about it is secret, and nothing in it is the machine's own (the same text on every machine).
    for (const v of Object.values(cmd.inputs)) expect(isWireSecret(v)).toBe(false);
    expect(JSON.stringify(cmd.inputs)).not.toMatch(/\/work\/|\/home\/|\/tmp\//);
  });

  test("named ServiceAccounts, kubeconfig and context reach the environment", async () => {
    const { name, c } = make(
      { namespaces: ["team-a", "team-b"], serviceAccounts: { names: ["team-a/builder", "default"] } },
      { kubectl: { kubeconfig: "/etc/kube/ops.yaml", context: "prod", waitSeconds: 5 } },
    );
    const { regs, get } = await settled(name, c);
    expect(
      regs
        .filter((r) => r.type === "command:local:Command")
        .map((r) => r.name.slice(name.length + 1))
        .sort(),
    ).toEqual([
      "service-account/team-a/builder",
      "service-account/team-a/default",
      "service-account/team-b/default",
    ]);
    expect(get("service-account/team-a/builder").inputs.environment).toEqual({
      REGISTRY_SETUP_NAMESPACE: "team-a",
      REGISTRY_SETUP_SERVICE_ACCOUNT: "builder",
      REGISTRY_SETUP_PULL_SECRETS: '["registry-credentials"]',
      REGISTRY_SETUP_OWNER: "registries",
      REGISTRY_SETUP_WAIT_SECONDS: "5",
      REGISTRY_SETUP_KUBECONFIG: "/etc/kube/ops.yaml",
      REGISTRY_SETUP_CONTEXT: "prod",
    });
  });

  test("secretsOnly mode: the Secrets and nothing that touches a ServiceAccount", async () => {
    const { name, c } = make({ namespaces: ["team-a"], serviceAccounts: { mode: "secretsOnly" } });
    const { regs } = await settled(name, c);
    expect(regs.map((r) => r.type)).toEqual(["kubernetes:core/v1:Secret"]);
    expect(await promiseOf(c.serviceAccounts)).toEqual([]);
  });

  test("the declared commands, run as @pulumi/command runs them, against the stand-in kubectl", async () => {
    const { name, c } = make({ namespaces: ["team-a", "team-b"] });
    const { get } = await settled(name, c);
    const world = new StandInCluster([
      serviceAccount("team-a", "default", ["theirs"]),
      serviceAccount("team-b", "default"),
    ]);
    try {
      for (const ns of ["team-a", "team-b"]) {
        const r = world.run(get(`service-account/${ns}/default`).inputs, "create");
        expect(r).toMatchObject({ code: 0, stderr: "" });
      }
      expect(world.list("team-a/default")).toEqual(["theirs", "registry-credentials"]);
      expect(world.list("team-b/default")).toEqual(["registry-credentials"]);
      for (const ns of ["team-a", "team-b"]) {
        expect(world.run(get(`service-account/${ns}/default`).inputs, "delete").code).toBe(0);
      }
      expect(world.list("team-a/default")).toEqual(["theirs"]);
      expect(world.list("team-b/default")).toBeUndefined();
    } finally {
      world.dispose();
    }
  });
});

describe("pullSecretStructure", () => {
  test("the same keys, kinds and names as clusterManifests builds once the declaration is known", async () => {
    const { pullSecretStructure } = await import("../../components/resources/clusterPullSecrets");
    const { clusterManifests } = await import("../../components/kubernetes/clusterManifests");
    const registries = normalizeRegistries(REGISTRIES);
    for (const createNamespaces of [false, true]) {
      const ps = normalizeCluster(
        { pullSecrets: { namespaces: ["b", "a"], createNamespaces } },
        { registries },
      ).pullSecrets!;
      const shape = (
        list: { key: string; object: { kind: string; metadata: { name: string; namespace?: string } } }[],
      ) => list.map((m) => [m.key, m.object.kind, m.object.metadata.name, m.object.metadata.namespace]);
      expect(shape(pullSecretStructure(ps, new Set()))).toEqual(
        shape(clusterManifests({ caches: [], sideLoads: [], pullSecrets: ps }, registries).manifests),
      );
    }
  });
});

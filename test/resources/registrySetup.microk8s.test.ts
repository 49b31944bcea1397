/**
 * One `RegistrySetup` for a 3-node MicroK8s cluster, under `pulumi.runtime.setMocks`: the registry addon on mk1,
 * Docker Hub through an HTTPS mirror with a CA, a private registry with a CA and credentials, pull Secrets in two
 * namespaces, one ServiceAccount, one side-load. The addon and side-load components are STAND-INS
 * (test/helpers/standinParts.ts) with the documented shapes; the ServiceAccount command really runs, against the
 * STAND-IN kubectl. Asserted: the resource graph, that every node trusts the addon's endpoint, the Secrets, the
 * ServiceAccount command, and that the credential never shows in clear.
 */
import type * as Module from "../../components/resources/registrySetup";
import { normalizeRegistries } from "../../components/model/normalize";
import { renderHostsDirectory } from "../../components/render/hostsToml";
import { CANARY_PASSWORD } from "../helpers/fixtures";
import { MICROK8S_SETUP, NODES, USER } from "../fixtures/registrySetup/microk8s";
import { isKube, objectOf } from "../helpers/kubeRegistrations";
import { expectValidK8s } from "../helpers/k8sSchema";
import { installMocks, leaks, plainStrings, promiseOf, secretForms, unwrap } from "../helpers/pulumiMocks";
import { serviceAccount, StandInCluster } from "../helpers/standinKubectl";
import { received, STAND_IN_PARTS } from "../helpers/standinParts";

// The ServiceAccount's command runs for real (against the stand-in kubectl) when the mock engine "creates" it.
const world = new StandInCluster([
  serviceAccount("team-a", "builder", ["theirs"]),
  serviceAccount("team-a", "default"),
  serviceAccount("team-b", "default"),
]);
afterAll(() => world.dispose());
const mocks = installMocks({
  localStdout: (args) => {
    const r = world.run(args.inputs, "create");
    if (r.code !== 0) throw new Error(`the ServiceAccount command failed: ${r.stderr}`);
    return r.stdout;
  },
});
let RegistrySetup: typeof Module.RegistrySetup;
let PARTS: typeof Module.PARTS;
beforeAll(async () => {
  ({ RegistrySetup, PARTS } = await import("../../components/resources/registrySetup"));
});

const CANARY = secretForms(CANARY_PASSWORD, USER);
const ARGS = MICROK8S_SETUP;

const NAME = "mk";
let setup: Module.RegistrySetup;
beforeAll(async () => {
  setup = new RegistrySetup(NAME, Object.assign({ ...ARGS }, { [PARTS]: STAND_IN_PARTS }));
  await promiseOf(setup.files);
  await promiseOf(setup.serviceAccounts);
  await promiseOf(setup.endpoints);
  await mocks.settle();
});

const reg = (name: string) => mocks.one(name);
const childrenOf = (name: string) =>
  mocks.registrations.filter((r) => r.parent === reg(name).urn).map((r) => `${r.type} ${r.name}`);

test("the resource graph", () => {
  expect(reg(NAME)).toMatchObject({ type: "registry-setup:index:RegistrySetup", parent: "" });
  expect(childrenOf(NAME).sort()).toEqual([
    `registry-setup:index:ClusterPullSecrets ${NAME}-pull-secrets`,
    `registry-setup:index:ClusterRegistries ${NAME}-nodes`,
    `test:standin:MicroK8sRegistryAddon ${NAME}-registry-addon`,
    `test:standin:SideLoad ${NAME}-side-load`,
  ]);
  expect(childrenOf(`${NAME}-nodes`).sort()).toEqual([
    `registry-setup:index:NodeRegistries ${NAME}-nodes-mk1`,
    `registry-setup:index:NodeRegistries ${NAME}-nodes-mk2`,
    `registry-setup:index:NodeRegistries ${NAME}-nodes-mk3`,
  ]);
  // MicroK8s: hosts files (no restart) and the credentials block of containerd-template.toml (a restart, rolled).
  for (const n of ["mk1", "mk2", "mk3"]) {
    expect(childrenOf(`${NAME}-nodes-${n}`).sort()).toEqual([
      `command:remote:Command ${NAME}-nodes-${n}-files`,
      `command:remote:Command ${NAME}-nodes-${n}-services`,
    ]);
  }
  expect(childrenOf(`${NAME}-pull-secrets`).sort()).toEqual([
    `command:local:Command ${NAME}-pull-secrets-service-account/team-a/builder`,
    `kubernetes:core/v1:Namespace ${NAME}-pull-secrets-namespace/team-a`,
    `kubernetes:core/v1:Namespace ${NAME}-pull-secrets-namespace/team-b`,
    `kubernetes:core/v1:Secret ${NAME}-pull-secrets-pull-secret/team-a`,
    `kubernetes:core/v1:Secret ${NAME}-pull-secrets-pull-secret/team-b`,
  ]);
});

test("every node trusts the addon's endpoint: a plain-HTTP hosts.toml for 10.0.0.11:32000 on mk1, mk2 and mk3", async () => {
  const files = await promiseOf(setup.files);
  const byHand = renderHostsDirectory(
    normalizeRegistries({ "10.0.0.11:32000": { plainHttp: true } }).registries[0],
    { certsDir: "/var/snap/microk8s/current/args/certs.d" },
  ).files.find((x) => x.path.endsWith("/hosts.toml"))!.content;
  for (const n of ["mk1", "mk2", "mk3"]) {
    const f = files[n].find(
      (x) => x.path === "/var/snap/microk8s/current/args/certs.d/10.0.0.11:32000/hosts.toml",
    );
    // Exactly what the hosts renderer makes of { "10.0.0.11:32000": { plainHttp: true } } declared by hand.
    expect(f?.content).toBe(byHand);
    expect(f?.content).toMatch(/^server = "http:\/\/10\.0\.0\.11:32000"$/m);
    // The declared registries are there too.
    expect(files[n].map((x) => x.path)).toEqual(
      expect.arrayContaining([
        "/var/snap/microk8s/current/args/certs.d/docker.io/hosts.toml",
        "/var/snap/microk8s/current/args/certs.d/registry.example.com:5443/hosts.toml",
      ]),
    );
  }
  expect(await promiseOf(setup.endpoints)).toEqual({ "registry-addon": "10.0.0.11:32000" });
});

test("the addon stand-in gets mk1 and the size, after the nodes are configured", async () => {
  const addon = received.addons.get(`${NAME}-registry-addon`)!;
  expect(addon.args).toEqual({ node: NODES[0], size: "40Gi" });
  const deps = reg(`${NAME}-registry-addon`).dependencies;
  const nodeCommands = mocks
    .named(`${NAME}-nodes-`)
    .filter((r) => r.custom)
    .map((r) => r.urn);
  expect(deps.sort()).toEqual(nodeCommands.sort());
});

test("the side-load stand-in gets every node, the tarball and the owner", async () => {
  expect(received.sideLoads.get(`${NAME}-side-load`)!.args).toEqual({
    nodes: NODES,
    images: [{ path: "images/app.tar", format: "docker-archive" }],
    owner: "registries",
  });
  expect(await promiseOf(setup.sideLoaded)).toEqual({
    mk1: ["stand-in:images/app.tar"],
    mk2: ["stand-in:images/app.tar"],
    mk3: ["stand-in:images/app.tar"],
  });
});

test("the pull Secrets: valid, in both namespaces, with the private registry's credentials", async () => {
  for (const ns of ["team-a", "team-b"]) {
    const object = objectOf(reg(`${NAME}-pull-secrets-pull-secret/${ns}`));
    expectValidK8s(object);
    const json = JSON.parse(
      Buffer.from((object.data as Record<string, string>)[".dockerconfigjson"], "base64").toString("utf8"),
    );
    expect(json).toEqual({
      auths: {
        "registry.example.com:5443": {
          username: USER,
          password: CANARY_PASSWORD,
          auth: Buffer.from(`${USER}:${CANARY_PASSWORD}`).toString("base64"),
        },
      },
    });
    expectValidK8s(objectOf(reg(`${NAME}-pull-secrets-namespace/${ns}`)));
  }
  expect(await promiseOf(setup.pullSecrets)).toEqual([
    "team-a/registry-credentials",
    "team-b/registry-credentials",
  ]);
});

test("the ServiceAccount command: run against the stand-in, our Secret appended after theirs; removal gives back theirs", async () => {
  expect(await promiseOf(setup.serviceAccounts)).toEqual([
    {
      serviceAccount: "team-a/builder",
      changed: true,
      recorded: ["registry-credentials"],
      imagePullSecrets: ["theirs", "registry-credentials"],
    },
  ]);
  expect(world.list("team-a/builder")).toEqual(["theirs", "registry-credentials"]);
  // Only the listed ServiceAccount was touched.
  expect(world.list("team-a/default")).toBeUndefined();
  const cmd = reg(`${NAME}-pull-secrets-service-account/team-a/builder`);
  expect(world.run(cmd.inputs, "delete").code).toBe(0);
  expect(world.list("team-a/builder")).toEqual(["theirs"]);
});

test("secrecy: the password shows nowhere in clear, but is where it must be", () => {
  for (const r of mocks.registrations) {
    for (const s of plainStrings(r.inputs)) expect(leaks(s, CANARY)).toBe(false);
    for (const s of plainStrings(r.outputs ?? {})) expect(leaks(s, CANARY)).toBe(false);
  }
  const secret = reg(`${NAME}-pull-secrets-pull-secret/team-a`);
  expect(leaks(JSON.stringify(unwrap(secret.inputs.data)), CANARY)).toBe(true);
  // The node scripts that carry it (MicroK8s' credentials block) are secret as a whole.
  const services = reg(`${NAME}-nodes-mk2-services`);
  expect(plainStrings(services.inputs.stdin)).toEqual([]);
});

test("every Kubernetes object the setup declares is valid against the OpenAPI schema", () => {
  const kube = mocks.named(`${NAME}-`).filter(isKube);
  expect(kube).toHaveLength(4);
  for (const r of kube) expectValidK8s(objectOf(r));
});

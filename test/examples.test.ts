/**
 * Every template (examples/<name>) runs under Pulumi mocks with its example stack (`Pulumi.example.yaml`, read the
 * way `registry-setup render` reads it): each one is a program that really works. The same templates run again from
 * the packed tarball in a fresh project in test/consumer/.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { stackConfig } from "../components/program/render";
import { CANARY_PASSWORD } from "./helpers/fixtures";
import {
  installMocks,
  isWireSecret,
  leaks,
  plainStrings,
  promiseOf,
  secretForms,
  unpackScript,
  unwrap,
} from "./helpers/pulumiMocks";

const mocks = installMocks();
const EXAMPLES = path.join(__dirname, "..", "examples");

/** Templates, with the deliveries (one per part of each node's plan) their example stack declares. */
const TEMPLATES: [string, string[]][] = [
  ["microk8s-dev-vm", ["dev-nodes-build-services", "dev-nodes-vm-files"]],
  [
    "private-registry",
    [
      "prod-nodes-node1-files",
      "prod-nodes-node1-services",
      "prod-nodes-node2-files",
      "prod-nodes-node2-services",
      "prod-nodes-node3-files",
      "prod-nodes-node3-services",
    ],
  ],
  [
    "china-mirrors",
    [
      "regional-nodes-node1-files",
      "regional-nodes-node1-services",
      "regional-nodes-node2-files",
      "regional-nodes-node2-services",
    ],
  ],
  ["air-gapped-k3s", ["edge-nodes-agent1-services", "edge-nodes-agent2-services"]],
  ["render-only", []],
  [
    "microk8s-cluster",
    [
      "cluster-nodes-mk1-files",
      "cluster-nodes-mk1-services",
      "cluster-nodes-mk2-files",
      "cluster-nodes-mk2-services",
      "cluster-nodes-mk3-files",
      "cluster-nodes-mk3-services",
    ],
  ],
];

/** Run a template's program with config values (as strings, like the CLI passes them); return its exports. */
async function run(name: string, overrides: Record<string, string> = {}, secret: string[] = []) {
  const { values, secretKeys } = stackConfig(path.join(EXAMPLES, name), "example");
  // The mocks name the project "project": the template's own namespace becomes that one.
  const rename = (k: string) => k.replace(`${name}:`, "project:");
  pulumi.runtime.setAllConfig(
    { ...Object.fromEntries(Object.entries(values).map(([k, v]) => [rename(k), v])), ...overrides },
    [...secretKeys.map(rename), ...secret],
  );
  const before = mocks.registrations.length;
  let exports: Record<string, unknown> = {};
  // Pulumi runs a program in its project directory (relative paths, e.g. side-loaded tarballs, resolve there), and
  // stays there until the program's outputs are resolved.
  const cwd = process.cwd();
  process.chdir(path.join(EXAMPLES, name));
  try {
    jest.isolateModules(() => {
      // A program is a module with side effects: each run loads a fresh copy of it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exports = require(path.join(EXAMPLES, name, "index.ts")) as Record<string, unknown>;
    });
    for (const v of Object.values(exports)) if (pulumi.Output.isInstance(v)) await promiseOf(v);
    await mocks.settle();
  } finally {
    process.chdir(cwd);
  }
  return { exports, registrations: mocks.registrations.slice(before) };
}

describe.each(TEMPLATES)("examples/%s with its example stack", (name, deliveries) => {
  test(`declares ${deliveries.length} delivery(ies) with fixed command texts and exports a readable file map`, async () => {
    const { exports, registrations } = await run(name);
    // Node deliveries (the registry addon's command, where there is one, is tested with its component).
    const commands = registrations.filter(
      (r) => r.type === "command:remote:Command" && /-(files|services)$/.test(r.name),
    );
    expect(commands.map((c) => c.name).sort()).toEqual(deliveries);
    for (const c of commands) {
      expect(c.inputs.create).toMatch(/^(sudo -n )?\/bin\/sh -s -- apply$/);
      expect(unpackScript(unwrap<string>(c.inputs.stdin))).toContain("pulumi-registries node script");
    }
    if (deliveries.length > 0) {
      const files = (await promiseOf(
        exports.files as pulumi.Output<Record<string, Record<string, string>>>,
      ))!;
      expect(Object.keys(files).length).toBeGreaterThan(0);
    }
  });
});

test("examples/microk8s-dev-vm: the registry addon on the VM, and every node trusts it", async () => {
  const { exports, registrations } = await run("microk8s-dev-vm");
  const addon = registrations.filter((r) => r.type === "registry-setup:index:MicroK8sRegistryAddon");
  expect(addon.map((r) => r.name)).toEqual(["dev-registry-addon"]);
  expect(await promiseOf(exports.registry as pulumi.Output<string>)).toBe("10.141.241.175:32000");
  // The endpoint holds no secret, though it comes from a connection that holds the SSH key.
  expect(await pulumi.isSecret(exports.registry as pulumi.Output<string>)).toBe(false);
  const files = (await promiseOf(exports.files as pulumi.Output<Record<string, Record<string, string>>>))!;
  expect(files.vm["/var/snap/microk8s/current/args/certs.d/10.141.241.175:32000/hosts.toml"]).toContain(
    'server = "http://10.141.241.175:32000"',
  );
  expect(files.build["/etc/docker/daemon.json"]).toContain("10.141.241.175:32000");
});

test("examples/microk8s-cluster: addon, pull Secrets in two namespaces, ServiceAccounts, a side-load on every node", async () => {
  const { exports, registrations } = await run(
    "microk8s-cluster",
    { "project:registryPassword": CANARY_PASSWORD },
    ["project:registryPassword"],
  );
  expect(await promiseOf(exports.endpoints as pulumi.Output<unknown>)).toEqual({
    "registry-addon": "10.0.0.11:32000",
  });
  expect(await promiseOf(exports.pullSecrets as pulumi.Output<unknown>)).toEqual([
    "team-a/registry-credentials",
    "team-b/registry-credentials",
  ]);
  const names = registrations.map((r) => r.name);
  expect(names).toEqual(
    expect.arrayContaining(["cluster-registry-addon", "cluster-side-load", "cluster-pull-secrets"]),
  );
  // One copy and one import per node; one ServiceAccount command per ServiceAccount (2 defaults + builder).
  expect(registrations.filter((r) => r.type === "command:remote:CopyToRemote")).toHaveLength(3);
  expect(registrations.filter((r) => r.type === "command:local:Command")).toHaveLength(3);
  const forms = secretForms(CANARY_PASSWORD, "ci-bot");
  for (const r of registrations) {
    expect(
      [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})].filter((s) => leaks(s, forms)),
    ).toEqual([]);
  }
});

test("examples/private-registry: the password (a canary) shows only inside secrets", async () => {
  const { registrations } = await run("private-registry", { "project:registryPassword": CANARY_PASSWORD }, [
    "project:registryPassword",
  ]);
  const forms = secretForms(CANARY_PASSWORD, "ci-bot");
  for (const r of registrations) {
    expect(
      [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})].filter((s) => leaks(s, forms)),
    ).toEqual([]);
  }
  // The hosts files and the CA hold no credential: the files parts stay readable.
  const files = registrations.filter((r) => r.name.endsWith("-files"));
  expect(files.map((r) => isWireSecret(r.inputs.stdin))).toEqual([true, true, true]); // kubelet's config.json
  const services = registrations.filter((r) => r.name.endsWith("-services"));
  expect(services.map((r) => isWireSecret(r.inputs.stdin))).toEqual([true, true, true]); // the CRI auth block
});

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
  ["microk8s-dev-vm", ["dev-build-services", "dev-vm-files"]],
  [
    "private-registry",
    [
      "prod-node1-files",
      "prod-node1-services",
      "prod-node2-files",
      "prod-node2-services",
      "prod-node3-files",
      "prod-node3-services",
    ],
  ],
  [
    "china-mirrors",
    ["regional-node1-files", "regional-node1-services", "regional-node2-files", "regional-node2-services"],
  ],
  ["air-gapped-k3s", ["edge-agent1-services", "edge-agent2-services"]],
  ["render-only", []],
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
  jest.isolateModules(() => {
    // A program is a module with side effects: each run loads a fresh copy of it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(path.join(EXAMPLES, name, "index.ts")) as Record<string, unknown>;
  });
  for (const v of Object.values(exports)) if (pulumi.Output.isInstance(v)) await promiseOf(v);
  await mocks.settle();
  return { exports, registrations: mocks.registrations.slice(before) };
}

describe.each(TEMPLATES)("examples/%s with its example stack", (name, deliveries) => {
  test(`declares ${deliveries.length} delivery(ies) with fixed command texts and exports a readable file map`, async () => {
    const { exports, registrations } = await run(name);
    const commands = registrations.filter((r) => r.type === "command:remote:Command");
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

import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { declare } from "./helpers/commandHarness";
import { CANARY_PASSWORD, pem } from "./helpers/fixtures";
import { unpackScript } from "./helpers/pulumiMocks";

/**
 * Every example runs under Pulumi mocks with a realistic config: each one is a program that really works. The
 * number is how many deliveries (one per part of each node's plan) it declares.
 */
const EXAMPLES: [string, Record<string, string>, number][] = [
  ["microk8s-dev-vm", { vmHost: "10.141.241.175", buildHost: "10.141.241.1", sshPrivateKey: "key" }, 2],
  [
    "private-registry",
    {
      registry: "registry.corp.example:5443",
      registryCa: pem.ca,
      registryUser: "ci-bot",
      registryPassword: CANARY_PASSWORD,
      nodes: JSON.stringify(["10.0.0.11", "10.0.0.12", "10.0.0.13"]),
      sshPrivateKey: "key",
    },
    6,
  ],
  ["air-gapped-mirrors", { nodes: JSON.stringify(["10.0.0.21", "10.0.0.22"]), sshPrivateKey: "key" }, 2],
  [
    "air-gapped-mirrors",
    { nodes: JSON.stringify(["10.0.0.21"]), sshPrivateKey: "key", airGapped: "true" },
    1,
  ],
  ["render-only", {}, 0],
];

describe.each(EXAMPLES)("examples/%s", (name, config, nodes) => {
  test(`declares ${nodes} delivery(ies); no secret in any command text`, async () => {
    // The examples read `new pulumi.Config()`, whose namespace is the project: the mocks name it "project".
    pulumi.runtime.setAllConfig(
      Object.fromEntries(Object.entries(config).map(([k, v]) => [`project:${k}`, v])),
    );
    let exports: Record<string, unknown> = {};
    const commands = await declare(() => {
      jest.isolateModules(() => {
        // A program is a module with side effects: each test loads a fresh copy of it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        exports = require(path.join(__dirname, "..", "examples", name, "index.ts")) as Record<
          string,
          unknown
        >;
      });
      return Object.values(exports);
    });
    expect(commands.size).toBe(nodes);
    for (const c of commands.values()) {
      expect(c.create).toMatch(/^(sudo -n )?\/bin\/sh -s -- apply$/);
      expect(unpackScript(c.stdin)).toContain("pulumi-registries node script");
      for (const text of [c.create, c.update, c.delete]) expect(text).not.toContain(CANARY_PASSWORD);
    }
  });
});

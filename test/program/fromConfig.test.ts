import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../components";
import { mergeCredentials, nodesFromConfig } from "../../components/program/fromConfig";
import { declare } from "../helpers/commandHarness";
import { CANARY_PASSWORD } from "../helpers/fixtures";

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
};

describe("the root program (Pulumi.yaml + index.ts) from stack config", () => {
  test("declares one command per node; credentials from secret config end up only in the secret stdin", async () => {
    pulumi.runtime.setAllConfig(
      {
        "registry-setup:registries": JSON.stringify({
          "docker.io": { mirrors: ["http://10.0.0.5:5000"] },
          "10.0.0.5:5443": {},
        }),
        "registry-setup:nodes": JSON.stringify([
          { name: "vm", host: "10.0.0.10", profiles: [{ kind: "microk8s" }] },
          { name: "build", host: "10.0.0.11", user: "ci", sudo: true, profiles: { kind: "docker" } },
        ]),
        "registry-setup:credentials": JSON.stringify({
          "10.0.0.5:5443": { username: "u", password: CANARY_PASSWORD },
        }),
        "registry-setup:sshPrivateKey": "key",
      },
      ["registry-setup:credentials", "registry-setup:sshPrivateKey"],
    );
    let exports: Record<string, unknown> = {};
    const commands = await declare(() => {
      jest.isolateModules(() => {
        // A program is a module with side effects: each test loads a fresh copy of it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        exports = require(path.join(__dirname, "..", "..", "index.ts")) as Record<string, unknown>;
      });
      return Object.values(exports);
    });
    expect([...commands.keys()].sort()).toEqual(["registry-setup-build-apply", "registry-setup-vm-apply"]);
    const vm = commands.get("registry-setup-vm-apply")!;
    expect(vm.create).toBe("/bin/sh -s -- apply");
    expect(commands.get("registry-setup-build-apply")!.create).toBe("sudo -n /bin/sh -s -- apply");
    for (const c of commands.values())
      for (const t of [c.create, c.update, c.delete]) expect(t).not.toContain(CANARY_PASSWORD);
    // The password travels base64-encoded inside the (secret) script for the MicroK8s template block.
    expect(vm.stdin).toContain("containerd-template.toml");
  });
});

describe("mergeCredentials", () => {
  test("by registry name and by mirror URL", () => {
    const merged = mergeCredentials(
      { "docker.io": { mirrors: ["https://m.example.com/"] }, "r.example.com": {} },
      { "r.example.com": { username: "a", password: "b" }, "https://m.example.com": { identityToken: "t" } },
    ) as Record<string, { auth?: unknown; mirrors?: unknown[] }>;
    expect(merged["r.example.com"].auth).toEqual({ username: "a", password: "b" });
    expect(merged["docker.io"].mirrors).toEqual([
      { endpoint: "https://m.example.com/", auth: { identityToken: "t" } },
    ]);
  });

  test("a name that matches nothing is an error (and the value is never shown)", () => {
    expect(
      problems(() =>
        mergeCredentials({ "docker.io": {} }, { "quay.io": { username: "u", password: CANARY_PASSWORD } }),
      ),
    ).toEqual([
      `credentials["quay.io"]: names no registry and no mirror endpoint of the declaration: use a registry name such as "docker.io" or a mirror's URL`,
    ]);
  });
});

describe("nodesFromConfig", () => {
  test("every problem with its path", () => {
    expect(
      problems(() =>
        nodesFromConfig(
          [
            { name: "a", host: "10.0.0.1:22", profiles: [] },
            { name: "b", host: "bad host", user: "ubuntu", port: 70000 },
            { name: "c", host: "c.example.com", hostKey: "not a key", profiles: { kind: "kubelet" } },
          ],
          "key",
        ),
      ),
    ).toEqual([
      "nodes[0].host: must not carry a port: use port",
      'nodes[1].host: host "bad host" is not a valid host name (letters, digits, "-" and "." only, e.g. "registry.example.com")',
      "nodes[1].port: 70000 must be a port number from 1 to 65535",
      'nodes[1].sudo: must be true when user is "ubuntu": the node script writes root-owned files',
      'nodes[1].profiles: is required, e.g. [{ kind: "microk8s" }]',
      'nodes[2].hostKey: must be a public host key line such as "ssh-ed25519 AAAA…" (from ssh-keyscan)',
    ]);
  });

  test("not a list", () => {
    expect(problems(() => nodesFromConfig({}, "key"))).toEqual([
      'nodes: must be a list of nodes, e.g. [{ name: "vm", host: "10.0.0.10", profiles: [{ kind: "microk8s" }] }]',
    ]);
  });
});

/**
 * The root program and `setupFromConfig`: the whole setup from stack config, run under Pulumi mocks with the
 * config a stack would give it (secret keys marked secret, as the CLI passes them).
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../components";
import type * as FromConfig from "../../components/program/fromConfig";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import {
  installMocks,
  isWireSecret,
  leaks,
  plainStrings,
  promiseOf,
  secretForms,
  unpackScript,
  unwrap,
} from "../helpers/pulumiMocks";

const mocks = installMocks();
let from: typeof FromConfig;
beforeAll(async () => {
  from = await import("../../components/program/fromConfig");
});

const problems = (fn: () => unknown): string[] => {
  try {
    fn();
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
};

/** Stack config as the CLI hands it to a program: every value a string, secret keys listed. */
function setConfig(values: Record<string, unknown>, secret: string[]) {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(values).map(([k, v]) => [
        `registry-setup:${k}`,
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    ),
    secret.map((k) => `registry-setup:${k}`),
  );
}

/** Load the root program (a module with side effects) afresh and wait until it registered everything. */
async function runRootProgram(): Promise<Record<string, unknown>> {
  let exports: Record<string, unknown> = {};
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(path.join(__dirname, "..", "..", "index.ts")) as Record<string, unknown>;
  });
  for (const v of Object.values(exports)) if (pulumi.Output.isInstance(v)) await promiseOf(v);
  await mocks.settle();
  return exports;
}

const FORMS = secretForms(CANARY_PASSWORD, "u");

describe("the root program (Pulumi.yaml + index.ts) from stack config", () => {
  beforeAll(() => {
    setConfig(
      {
        registries: { "docker.io": { mirrors: ["http://10.0.0.5:5000"] }, "10.0.0.5:5443": {} },
        nodes: [
          {
            name: "vm",
            host: "10.0.0.10",
            hostKey: "ssh-ed25519 AAAAC3Nz",
            profiles: [{ kind: "microk8s" }],
          },
          { name: "build", host: "10.0.0.11", user: "ci", sudo: true, profiles: [{ kind: "docker" }] },
        ],
        credentials: { "10.0.0.5:5443": { username: "u", password: CANARY_PASSWORD } },
        sshPrivateKey: "shared-key",
        sshPrivateKeys: { build: "build-key" },
        drift: "fail",
        lockWaitSeconds: "30",
        owner: "ops",
      },
      ["credentials", "sshPrivateKey", "sshPrivateKeys"],
    );
  });

  test("one delivery per part of each node; the credential only in the part that holds it", async () => {
    const exports = await runRootProgram();
    const deliveries = mocks.registrations.filter((r) => r.type === "command:remote:Command");
    expect(deliveries.map((r) => r.name).sort()).toEqual([
      "registry-setup-nodes-build-services",
      "registry-setup-nodes-vm-files",
      "registry-setup-nodes-vm-services",
    ]);
    const byName = (n: string) => deliveries.find((r) => r.name === `registry-setup-nodes-${n}`)!;
    // MicroK8s keeps credentials in containerd-template.toml (services); its hosts files are plain.
    expect(isWireSecret(byName("vm-files").inputs.stdin)).toBe(false);
    expect(isWireSecret(byName("vm-services").inputs.stdin)).toBe(true);
    expect(isWireSecret(byName("build-services").inputs.stdin)).toBe(false);
    expect(byName("build-services").inputs.create).toBe("sudo -n /bin/sh -s -- apply");
    // Options from config reach every script.
    const text = unpackScript(unwrap<string>(byName("vm-files").inputs.stdin));
    expect(text).toContain("P_DRIFT='fail'\n");
    expect(text).toContain("P_LOCK_WAIT=30\n");
    expect(text).toContain("P_OWNER='ops'\n");
    // Per-node keys: the build host gets its own, the VM the shared one.
    expect(unwrap<{ privateKey: string }>(byName("build-services").inputs.connection).privateKey).toBe(
      "build-key",
    );
    expect(unwrap<{ privateKey: string }>(byName("vm-files").inputs.connection).privateKey).toBe(
      "shared-key",
    );
    // The canary shows up in nothing a preview displays in clear.
    for (const r of mocks.registrations) {
      expect(
        [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})].filter((s) => leaks(s, FORMS)),
      ).toEqual([]);
    }
    const files = (await promiseOf(exports.files as pulumi.Output<Record<string, Record<string, string>>>))!;
    expect(leaks(JSON.stringify(files), FORMS)).toBe(false);
    expect(files.vm["/var/snap/microk8s/current/args/certs.d/docker.io/hosts.toml"]).toContain(
      '[host."http://10.0.0.5:5000"]',
    );
    expect(files.vm["/var/snap/microk8s/current/args/containerd-template.toml"]).toBe(
      "(secret: holds a credential or key; mode 0600)",
    );
    expect(Object.keys(files.build)).toEqual(["/etc/docker/daemon.json"]);
  });
});

describe("the root program with the cluster side from stack config", () => {
  test("cluster, nodeAddress and kubectl keys build the in-cluster registry and the pull Secrets; the credential stays secret", async () => {
    setConfig(
      {
        registries: { "10.0.0.5:5443": {} },
        nodes: [
          {
            name: "vm",
            host: "10.0.0.10",
            hostKey: "ssh-ed25519 AAAAC3Nz",
            profiles: [{ kind: "containerd" }],
          },
        ],
        credentials: { "10.0.0.5:5443": { username: "u", password: CANARY_PASSWORD } },
        sshPrivateKey: "shared-key",
        nodeAddress: "10.0.0.10",
        cluster: {
          registry: {},
          pullSecrets: { namespaces: ["team-a"], serviceAccounts: { mode: "secretsOnly" } },
        },
      },
      ["credentials", "sshPrivateKey"],
    );
    const exports = await runRootProgram();
    expect(await promiseOf(exports.endpoints as pulumi.Output<unknown>)).toEqual({
      registry: "10.0.0.10:32000",
    });
    expect(await promiseOf(exports.pullSecrets as pulumi.Output<unknown>)).toEqual([
      "team-a/registry-credentials",
    ]);
    const files = (await promiseOf(exports.files as pulumi.Output<Record<string, Record<string, string>>>))
      .vm;
    expect(files["/etc/containerd/certs.d/10.0.0.10:32000/hosts.toml"]).toContain(
      'server = "http://10.0.0.10:32000"',
    );
    const secret = mocks.registrations.find((r) => r.type === "kubernetes:core/v1:Secret");
    expect(secret).toBeDefined();
    const clear = mocks.registrations.flatMap((r) =>
      [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})].filter((x) => leaks(x, FORMS)),
    );
    expect(clear).toEqual([]);
  });

  test("a bad cluster key is reported at its path before anything is declared", () => {
    setConfig(
      {
        registries: {},
        nodes: [],
        credentials: {},
        sshPrivateKey: "k",
        cluster: { pullSecrets: { namespaces: ["Bad_NS"] } },
      },
      ["credentials", "sshPrivateKey"],
    );
    let message = "";
    try {
      from.setupFromConfig(`bad${Date.now()}`, new pulumi.Config("registry-setup"));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/cluster\.pullSecrets\.namespaces\[0\]: "Bad_NS"/);
  });
});

describe("the root program with node classes only", () => {
  test("needs neither nodes, an SSH key nor credentials: one DaemonSet per class and part, no SSH command", async () => {
    setConfig(
      {
        registries: { "docker.io": { mirrors: ["http://10.0.0.5:5000"] } },
        nodeClasses: {
          classes: [{ name: "workers", nodeSelector: {}, profiles: [{ kind: "containerd" }] }],
        },
      },
      [],
    );
    const before = mocks.registrations.length;
    const exports = await runRootProgram();
    const regs = mocks.registrations.slice(before);
    expect(regs.filter((r) => r.type === "command:remote:Command")).toEqual([]);
    expect(regs.filter((r) => r.type === "kubernetes:apps/v1:DaemonSet").length).toBeGreaterThan(0);
    const classFiles = await promiseOf(
      exports.classFiles as pulumi.Output<Record<string, Record<string, string>>>,
    );
    expect(classFiles.workers["/etc/containerd/certs.d/docker.io/hosts.toml"]).toContain(
      '[host."http://10.0.0.5:5000"]',
    );
  });
});

describe("secret keys set in clear", () => {
  test("are refused before anything is declared", () => {
    setConfig({ registries: {}, nodes: [], sshPrivateKey: "key", credentials: {} }, ["credentials"]);
    expect(problems(() => from.setupFromConfig("x", new pulumi.Config("registry-setup")))).toEqual([
      "sshPrivateKey: holds secrets but is stored in clear: set it again with `pulumi config set --secret sshPrivateKey …` (--path for a single field)",
    ]);
  });
});

describe("keys the program does not read, and per-node keys that name no node", () => {
  const NODE = {
    name: "node1",
    host: "10.0.0.11",
    hostKey: "ssh-ed25519 AAAAC3Nz",
    profiles: [{ kind: "containerd" }],
  };

  test("a misspelt key is refused, with every key the program knows", () => {
    setConfig({ registries: {}, node: [NODE], maxUnavialable: 2, sshPrivateKey: "k" }, ["sshPrivateKey"]);
    const found = problems(() => from.setupFromConfig("x", new pulumi.Config("registry-setup")));
    expect(found).toEqual([
      expect.stringMatching(
        /^maxUnavialable: is not a key of this program \(known: registries, nodes, .*maxUnavailable.*\): fix its name, or remove it \(pulumi config rm maxUnavialable\)$/,
      ),
      expect.stringMatching(/^node: is not a key of this program /),
    ]);
    expect(from.ROOT_CONFIG_KEYS).toContain("nodeClasses");
  });

  test("a key of another namespace is not the program's business", () => {
    pulumi.runtime.setAllConfig(
      { "registry-setup:registries": "{}", "registry-setup:nodes": "[]", "aws:region": "eu-west-1" },
      [],
    );
    expect(
      problems(() => from.setupFromConfig(`ns${Date.now()}`, new pulumi.Config("registry-setup"))),
    ).toEqual([]);
  });

  test("sshPrivateKeys: a name that is no node's, and a value that is not one key, are refused (values never shown)", () => {
    setConfig({ registries: {}, nodes: [NODE], sshPrivateKeys: { nod1: "SECRET-KEY-1" } }, [
      "sshPrivateKeys",
    ]);
    expect(problems(() => from.setupFromConfig("x", new pulumi.Config("registry-setup")))).toEqual([
      `sshPrivateKeys.nod1: names no node (nodes: node1): fix the name, or remove it (pulumi config rm --path 'sshPrivateKeys["nod1"]')`,
      "nodes[0]: has no SSH key: set the secret sshPrivateKey (every node) or sshPrivateKeys.node1 (this node)",
    ]);
    setConfig({ registries: {}, nodes: [NODE], sshPrivateKeys: { node1: { password: "SECRET-KEY-2" } } }, [
      "sshPrivateKeys",
    ]);
    const found = problems(() => from.setupFromConfig("x", new pulumi.Config("registry-setup")));
    expect(found).toEqual([
      `sshPrivateKeys.node1: must be the node's private key, one string (pulumi config set --secret --path 'sshPrivateKeys["node1"]' "$(cat <key file>)")`,
    ]);
    expect(found.join("\n")).not.toContain("SECRET-KEY");
  });
});

describe("secrets inside the declaration (registries)", () => {
  const NODE = {
    name: "vm",
    host: "10.0.0.10",
    hostKey: "ssh-ed25519 AAAAC3Nz",
    profiles: [{ kind: "containerd" }],
  };
  const MTLS = "https://mtls.example:5443";

  test("credentials are refused there, pointing at the credentials key; a client key in clear too (values never shown)", () => {
    setConfig(
      {
        registries: {
          "docker.io": {
            mirrors: [
              {
                endpoint: MTLS,
                auth: { username: "u", password: CANARY_PASSWORD },
                tls: { clientCert: pem.clientCert, clientKey: pem.clientKey },
              },
            ],
          },
          "10.0.0.5:5443": { auth: { username: "ci", password: CANARY_PASSWORD } },
        },
        nodes: [NODE],
        sshPrivateKey: "k",
      },
      ["sshPrivateKey"],
    );
    const found = problems(() => from.setupFromConfig("x", new pulumi.Config("registry-setup")));
    expect(found).toEqual([
      `registries["docker.io"].mirrors[0].auth: puts credentials in the declaration, which stays in clear: set them in the secret key credentials instead (pulumi config set --secret --path 'credentials["${MTLS}"].password' …)`,
      `registries["docker.io"].mirrors[0].tls.clientKey: is a private key stored in clear: set it again with pulumi config set --secret --path 'registries["docker.io"].mirrors[0].tls.clientKey' "$(cat client.key)"`,
      `registries["10.0.0.5:5443"].auth: puts credentials in the declaration, which stays in clear: set them in the secret key credentials instead (pulumi config set --secret --path 'credentials["10.0.0.5:5443"].password' …)`,
    ]);
    expect(found.join("\n")).not.toContain(CANARY_PASSWORD);
    expect(found.join("\n")).not.toContain("PRIVATE KEY-----\n");
  });

  test("a client key set with --secret --path is accepted, never shows in clear, and the rest stays readable", async () => {
    setConfig(
      {
        registries: {
          "docker.io": {
            mirrors: [{ endpoint: MTLS, tls: { clientCert: pem.clientCert, clientKey: pem.clientKey } }],
          },
        },
        nodes: [NODE],
        sshPrivateKey: "k",
      },
      ["sshPrivateKey", "registries"],
    );
    const before = mocks.registrations.length;
    const exports = await runRootProgram();
    const files = (await promiseOf(exports.files as pulumi.Output<Record<string, Record<string, string>>>))
      .vm;
    expect(files["/etc/containerd/certs.d/docker.io/hosts.toml"]).toContain(`[host."${MTLS}"]`);
    const keyFile = Object.entries(files).find(([p]) => p.endsWith(".key"));
    expect(keyFile?.[1]).toMatch(/^\(secret/);
    const keyBody = pem.clientKey.split("\n")[1];
    const clear = mocks.registrations
      .slice(before)
      .flatMap((r) => [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})])
      .filter((x) => x.includes(keyBody));
    expect(clear).toEqual([]);
  });
});

describe("what registry-setup render passes for a secret it cannot decrypt", () => {
  test("passes the value checks it would fail by its form (a user name, a PEM)", async () => {
    const { REDACTED } = await import("../../components/model/redacted");
    const { checkPrivateKeyPem, checkCertificatePem, checkKeyPair } =
      await import("../../components/model/grammar");
    expect([...REDACTED].filter((c) => c === ":" || c.charCodeAt(0) < 0x20)).toEqual([]);
    expect([
      checkPrivateKeyPem(REDACTED),
      checkCertificatePem(REDACTED),
      checkKeyPair(pem.clientCert, REDACTED),
    ]).toEqual([undefined, undefined, undefined]);
    expect(checkPrivateKeyPem("[secret]")).toMatch(/PEM private key/);
  });
});

describe("registriesFromConfig", () => {
  test("a mirror may be written as its URL alone", () => {
    expect(
      from.registriesFromConfig({
        "docker.io": { mirrors: ["http://a:5000", { endpoint: "https://b", overridePath: false }] },
        "quay.io": null,
      }),
    ).toEqual({
      "docker.io": {
        mirrors: [{ endpoint: "http://a:5000" }, { endpoint: "https://b", overridePath: false }],
      },
      "quay.io": {},
    });
  });

  test("not a map", () => {
    expect(problems(() => from.registriesFromConfig(["docker.io"]))).toEqual([
      'registries: must be a map of registry name to settings, e.g. { docker.io: { mirrors: [http://10.0.0.5:5000] } }, got ["docker.io"]',
    ]);
  });
});

describe("withCredentials", () => {
  const values = pulumi.secret<Record<string, Record<string, string>>>({
    "r.example.com": { username: "a", password: "b" },
    "https://m.example.com": { identityToken: "t" },
  });

  test("by registry name and by mirror URL, each field a secret leaf", async () => {
    const merged = from.withCredentials(
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com/" }] }, "r.example.com": {} },
      {
        "r.example.com": { username: true, password: true },
        "https://m.example.com": { identityToken: true },
      },
      values,
    ) as Record<
      string,
      {
        auth?: Record<string, pulumi.Output<string>>;
        mirrors?: { auth: Record<string, pulumi.Output<string>> }[];
      }
    >;
    const reg = merged["r.example.com"].auth!;
    expect(await pulumi.isSecret(reg.password)).toBe(true);
    expect(await promiseOf(reg.username)).toBe("a");
    const mirrorAuth = merged["docker.io"].mirrors![0].auth;
    expect(await promiseOf(mirrorAuth.identityToken)).toBe("t");
  });

  test("a name that matches nothing, and an unknown field, are errors (values never shown)", () => {
    expect(
      problems(() =>
        from.withCredentials(
          { "docker.io": {} },
          { "quay.io": { username: true, password: true }, "docker.io": { user: true } },
          values,
        ),
      ),
    ).toEqual([
      `credentials["quay.io"]: names no registry and no mirror endpoint of the declaration: use a registry name such as "docker.io" or a mirror's URL`,
      `credentials["docker.io"].user: is not a credentials field (known: username, password, identityToken)`,
    ]);
  });
});

describe("nodesFromConfig", () => {
  const keys = { shared: pulumi.secret("key"), perNodeNames: [] };

  test("every problem with its path", () => {
    expect(
      problems(() =>
        from.nodesFromConfig(
          [
            { name: "a", host: "10.0.0.1:22", profiles: [] },
            { name: "b", host: "bad host", user: "ubuntu", port: 70000 },
            {
              name: "c",
              host: "c.example.com",
              hostKey: "not a key",
              sudo: "yes",
              profiles: [{ kind: "kubelet" }],
            },
            { name: "d", host: "d.example.com", proxy: { host: "jump", port: 0, key: "x" }, profiles: [] },
          ],
          keys,
        ),
      ),
    ).toEqual([
      "nodes[0].host: must not carry a port: use port",
      'nodes[1].host: host "bad host" is not a valid host name (letters, digits, "-" and "." only, e.g. "registry.example.com")',
      "nodes[1].port: 70000 must be a port number from 1 to 65535",
      'nodes[1].sudo: must be true when user is "ubuntu": the node script writes root-owned files',
      "nodes[1].profiles: is required, e.g. [{ kind: microk8s }]",
      'nodes[2].sudo: must be true or false, got "yes"',
      'nodes[2].hostKey: must be a public host key line such as "ssh-ed25519 AAAA…" (from ssh-keyscan)',
      "nodes[3].proxy.key: is not a bastion setting (known: host, port, user, hostKey)",
      "nodes[3].proxy.port: 0 must be a port number from 1 to 65535",
    ]);
  });

  test("no SSH key for a node", () => {
    expect(
      problems(() =>
        from.nodesFromConfig([{ name: "a", host: "10.0.0.1", profiles: [] }], { perNodeNames: [] }),
      ),
    ).toEqual([
      "nodes[0]: has no SSH key: set the secret sshPrivateKey (every node) or sshPrivateKeys.a (this node)",
    ]);
  });

  test("a bastion for every node, its own key", async () => {
    const [n] = from.nodesFromConfig(
      [{ name: "a", host: "10.0.0.1", profiles: [{ kind: "kubelet" }] }],
      { ...keys, proxy: pulumi.secret("bastion-key") },
      { host: "bastion.example.com", user: "jump", hostKey: "ssh-ed25519 AAAAB" },
    );
    const proxy = n.connection.proxy as {
      host: string;
      user: string;
      port: number;
      hostKey: string;
      privateKey: pulumi.Output<string>;
    };
    expect([proxy.host, proxy.user, proxy.port, proxy.hostKey]).toEqual([
      "bastion.example.com",
      "jump",
      22,
      "ssh-ed25519 AAAAB",
    ]);
    expect(await promiseOf(proxy.privateKey)).toBe("bastion-key");
  });

  test("not a list", () => {
    expect(problems(() => from.nodesFromConfig({}, keys))).toEqual([
      "nodes: must be a list of nodes (or [] when nodeClasses reach them), e.g. [{ name: vm, host: 10.0.0.10, profiles: [{ kind: microk8s }] }]",
    ]);
  });
});

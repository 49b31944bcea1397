/**
 * `NodeRegistries` under `pulumi.runtime.setMocks`: the resource graph (one delivery per part), the fixed command
 * text, what each part's script carries, the connection, the resource options and the handling of secrets, as the
 * engine would receive them.
 */
import * as pulumi from "@pulumi/pulumi";
import type { RegistriesInput, RuntimeProfile } from "../../components";
import type * as NodeModule from "../../components/resources/nodeRegistries";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import {
  installMocks,
  isWireSecret,
  leaks,
  plainStrings,
  promiseOf,
  Registration,
  secretForms,
  summaryFromScript,
  unpackScript,
  unwrap,
} from "../helpers/pulumiMocks";

// setMocks first; the component module is imported in beforeAll, once the runtime is in test mode.
const mocks = installMocks({
  stdout: (args, script) =>
    args.name.startsWith("nosummary")
      ? "no summary here\n"
      : args.name.startsWith("unchecked") && args.name.endsWith("-services")
        ? `PULUMI_REGISTRIES ${JSON.stringify({ ...summaryFromScript(script), actions: ["restart:containerd"], unchecked: ["containerd"] })}\n`
        : `log line\nPULUMI_REGISTRIES ${JSON.stringify(summaryFromScript(script))}\n`,
});
let NodeRegistries: typeof NodeModule.NodeRegistries;
beforeAll(async () => {
  ({ NodeRegistries } = await import("../../components/resources/nodeRegistries"));
});

const USER = "robot";
const CANARY = secretForms(CANARY_PASSWORD, USER);
const MIRROR_HOST = "mirror-7c1d.example.internal";

/** A declaration with a mirror and a private registry that needs credentials. */
function credentialed(password: pulumi.Input<string>): RegistriesInput {
  return {
    "docker.io": { mirrors: [{ endpoint: `https://${MIRROR_HOST}:5000` }] },
    "registry.example.com": { auth: { username: USER, password } },
  };
}
const PLAIN_DECL = { "docker.io": { mirrors: [{ endpoint: `http://${MIRROR_HOST}:5000` }] } };

const CONNECTION = {
  host: "10.0.0.11",
  port: 2222,
  user: "admin",
  privateKey: "test-private-key",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheNode",
  dialErrorLimit: 3,
  perDialTimeout: 7,
  proxy: {
    host: "bastion.example.internal",
    port: 22,
    user: "jump",
    privateKey: "test-bastion-key",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfBastion",
    dialErrorLimit: 10,
    perDialTimeout: 15,
  },
};

const CONTAINERD_AND_KUBELET: RuntimeProfile[] = [{ kind: "containerd" }, { kind: "kubelet" }];

let seq = 0;
/** A unique component name per test, so that registrations never mix. */
const unique = (base: string) => `${base}${++seq}`;

/** The wire registrations of a NodeRegistries named `name`: the component and its deliveries by part. */
async function wire(name: string, component: NodeModule.NodeRegistries) {
  await promiseOf(component.summary);
  await promiseOf(component.files);
  await mocks.settle();
  const comp = mocks.one(name);
  const children = mocks.registrations.filter((r) => r.parent === comp.urn);
  const part = (p: string) => children.find((r) => r.name === `${name}-${p}`);
  return { comp, children, files: part("files"), services: part("services") };
}

/** The node script a delivery carries, unpacked. */
function script(cmd: Registration | undefined): string {
  if (!cmd) throw new Error("no such delivery");
  return unpackScript(unwrap<string>(cmd.inputs.stdin));
}

/** The paths a script stages, in order. */
const staged = (text: string) =>
  [...text.matchAll(/^ {2}p_stage '\d+' '[^']*' '([^']*)'/gm)].map((m) => m[1]);

describe("NodeRegistries: resource graph", () => {
  test("type token registry-setup:index:NodeRegistries; one remote.Command per part of the plan", async () => {
    const name = unique("graph");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: credentialed(CANARY_PASSWORD),
    });
    const { comp, children } = await wire(name, c);
    expect(comp).toMatchObject({ type: "registry-setup:index:NodeRegistries", custom: false });
    expect(children.map((r) => [r.type, r.name, r.custom])).toEqual([
      ["command:remote:Command", `${name}-files`, true],
      ["command:remote:Command", `${name}-services`, true],
    ]);
  });

  // Exact from the plan when the declaration is known: a part exists only when some entry belongs to it.
  const WITH_CREDENTIALS = { ...PLAIN_DECL, "r.example.com": { auth: { username: "u", password: "p" } } };
  test.each<[RuntimeProfile[], string[], string[]]>([
    [[{ kind: "microk8s", credentials: "hosts" }], ["files"], ["files"]],
    [[{ kind: "microk8s", legacy: true }], ["services"], ["services"]],
    [[{ kind: "microk8s" }], ["files"], ["files", "services"]],
    [[{ kind: "containerd" }], ["files", "services"], ["files", "services"]],
    [[{ kind: "containerd", manageConfigPath: false, credentials: "hosts" }], ["files"], ["files"]],
    [[{ kind: "containerd", manageConfigPath: false }], ["files"], ["files", "services"]],
    [[{ kind: "k3s" }], ["services"], ["services"]],
    [[{ kind: "rke2", role: "agent" }], ["services"], ["services"]],
    [[{ kind: "crio" }], ["services"], ["services"]],
    [[{ kind: "docker" }], ["services"], ["services"]],
    [[{ kind: "kubelet" }], [], ["files"]],
    [[{ kind: "crio" }, { kind: "kubelet" }], ["services"], ["files", "services"]],
  ])("%j → parts %j without credentials, %j with", async (profiles, without, withCreds) => {
    for (const [registries, expected] of [
      [PLAIN_DECL, without],
      [WITH_CREDENTIALS, withCreds],
    ] as const) {
      const name = unique("parts");
      const c = new NodeRegistries(name, {
        node: { name: "n1", connection: CONNECTION, profiles },
        registries,
      });
      const { children } = await wire(name, c);
      expect(children.map((r) => r.name.slice(name.length + 1))).toEqual(expected);
    }
  });

  test("when the declaration is an Output, every part the profiles can ever produce exists", async () => {
    const name = unique("parts");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "microk8s", credentials: "hosts" }] },
      registries: pulumi.output(PLAIN_DECL),
    });
    const { children, services } = await wire(name, c);
    expect(children.map((r) => r.name)).toEqual([`${name}-files`, `${name}-services`]);
    // The part that turned out empty stages nothing: it only gives back what it may have had.
    expect(staged(script(services))).toEqual([]);
  });
});

describe("NodeRegistries: fixed command text", () => {
  test.each([
    [false, "/bin/sh -s -- apply", "/bin/sh -s -- destroy"],
    [true, "sudo -n /bin/sh -s -- apply", "sudo -n /bin/sh -s -- destroy"],
  ])("sudo: %s → create/update %j, delete %j", async (sudo, apply, destroy) => {
    const name = unique("text");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "containerd" }], sudo },
      registries: credentialed(CANARY_PASSWORD),
    });
    const { children } = await wire(name, c);
    for (const cmd of children) {
      expect([cmd.inputs.create, cmd.inputs.update, cmd.inputs.delete]).toEqual([apply, apply, destroy]);
    }
  });

  test("the command text holds no registry data (no host, no credential)", async () => {
    const name = unique("text");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: credentialed(pulumi.secret(CANARY_PASSWORD)),
    });
    const { children } = await wire(name, c);
    for (const cmd of children) {
      for (const key of ["create", "update", "delete"]) {
        const text = cmd.inputs[key] as string;
        expect(text).not.toContain(MIRROR_HOST);
        expect(text).not.toContain("registry.example.com");
        expect(leaks(text, CANARY)).toBe(false);
      }
    }
  });
});

describe("NodeRegistries: what each part's script carries", () => {
  const decl = {
    "docker.io": {
      mirrors: [
        { endpoint: "http://10.0.0.5:5000" },
        { endpoint: "https://mirror.example.com", capabilities: ["pull" as const] },
      ],
    },
    "registry.k8s.io": {
      mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
    },
    "r.example.com": { auth: { username: "u", password: "p" } },
  };

  test("containerd + kubelet: hosts files and credentials file without a restart; config.toml with one", async () => {
    const name = unique("stdin");
    const c = new NodeRegistries(name, {
      node: { name: "node-a.1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: decl,
      owner: "team-a",
      probeMirrors: true,
      drift: "fail",
      lockWaitSeconds: 30,
    });
    const { files, services } = await wire(name, c);
    expect(staged(script(files))).toEqual([
      "/etc/containerd/certs.d/docker.io/hosts.toml",
      "/etc/containerd/certs.d/r.example.com/hosts.toml",
      "/etc/containerd/certs.d/registry.k8s.io/hosts.toml",
      "/var/lib/kubelet/config.json",
    ]);
    expect(staged(script(services))).toEqual(["/etc/containerd/config.toml"]);
    for (const [part, cmd] of [
      ["files", files],
      ["services", services],
    ] as const) {
      const text = script(cmd);
      expect(text).toContain("P_NODE='node-a.1'\n");
      expect(text).toContain("P_OWNER='team-a'\n");
      expect(text).toContain(`P_PART='${part}'\n`);
      expect(text).toContain("P_DRIFT='fail'\n");
      expect(text).toContain("P_LOCK_WAIT=30\n");
      // Every mirror is probed by each part before it changes anything.
      expect(text).toContain("p_probe 'https://mirror.example.com' '-' 0\n");
    }
    // Only the part with the restart knows how to restart containerd.
    expect(script(services)).toContain("p_service 'containerd' restart 'systemctl' 'restart' 'containerd'\n");
    expect(script(files)).not.toMatch(/^ {2}p_service /m);
  });

  test("the packed script is a fraction of the script, and unpacks to it", async () => {
    const name = unique("stdin");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: decl,
    });
    const { files } = await wire(name, c);
    const packed = unwrap<string>(files!.inputs.stdin);
    expect(packed.startsWith("#!/bin/sh\n")).toBe(true);
    expect(packed.length).toBeLessThan(script(files).length / 2);
    expect(script(files)).toContain('\np_main "$@"\n');
  });

  test("a declaration whose leaves are Outputs gives the same scripts as the plain one", async () => {
    const plainName = unique("stdin");
    const outputName = unique("stdin");
    const node = { name: "x", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET };
    const a = new NodeRegistries(plainName, { node, registries: credentialed(CANARY_PASSWORD) });
    const b = new NodeRegistries(outputName, {
      node,
      registries: {
        "docker.io": { mirrors: [{ endpoint: pulumi.output(`https://${MIRROR_HOST}:5000`) }] },
        "registry.example.com": pulumi.output({ auth: { username: USER, password: CANARY_PASSWORD } }),
      },
    });
    const [wa, wb] = [await wire(plainName, a), await wire(outputName, b)];
    expect(script(wb.files)).toBe(script(wa.files));
    expect(script(wb.services)).toBe(script(wa.services));
  });
});

describe("NodeRegistries: connection and options", () => {
  test("the connection reaches every command unchanged (hostKey and proxy included)", async () => {
    const name = unique("conn");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "containerd" }] },
      registries: PLAIN_DECL,
    });
    const { children } = await wire(name, c);
    for (const cmd of children) expect(unwrap(cmd.inputs.connection)).toEqual(CONNECTION);
  });

  test("a connection field given as a secret Output reaches the command as a secret", async () => {
    const name = unique("conn");
    const c = new NodeRegistries(name, {
      node: {
        name: "n1",
        connection: { ...CONNECTION, privateKey: pulumi.secret("secret-key") },
        profiles: [{ kind: "microk8s", credentials: "hosts" }],
      },
      registries: PLAIN_DECL,
    });
    const { files } = await wire(name, c);
    const conn = files!.inputs.connection as Record<string, unknown>;
    expect(isWireSecret(conn.privateKey) || isWireSecret(conn)).toBe(true);
    expect(unwrap<Record<string, unknown>>(conn).host).toBe(CONNECTION.host);
  });

  test("options on the wire: deleteBeforeReplace, no previous output in env, logging, replace on owner and part", async () => {
    const name = unique("opts");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "containerd" }] },
      registries: PLAIN_DECL,
      owner: "ops",
    });
    const { children } = await wire(name, c);
    for (const cmd of children) {
      const part = cmd.name.slice(name.length + 1);
      expect(cmd.deleteBeforeReplace).toBe(true);
      // The script is not an additional secret output: it is secret exactly when it holds a credential.
      expect(cmd.additionalSecretOutputs).not.toContain("stdin");
      expect(cmd.inputs.addPreviousOutputInEnv).toBe(false);
      expect(cmd.inputs.logging).toBe("stdoutAndStderr");
      expect(cmd.inputs.triggers).toEqual(["ops", part]);
    }
  });

  test("the component's dependsOn reaches every command", async () => {
    class Before extends pulumi.CustomResource {
      constructor(n: string) {
        super("test:index:Before", n, {});
      }
    }
    const before = new Before(unique("before"));
    const name = unique("deps");
    const c = new NodeRegistries(
      name,
      {
        node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "containerd" }] },
        registries: PLAIN_DECL,
      },
      { dependsOn: [before] },
    );
    const { children } = await wire(name, c);
    const urn = await promiseOf(before.urn);
    for (const cmd of children) expect(cmd.dependencies).toContain(urn);
  });
});

describe("NodeRegistries: secrets", () => {
  /** Nothing the engine receives outside a secret envelope (inputs and registered outputs) holds the canary. */
  async function expectNoLeak(name: string, c: NodeModule.NodeRegistries) {
    const w = await wire(name, c);
    for (const r of [w.comp, ...w.children]) {
      const plain = [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})];
      expect(plain.filter((s) => leaks(s, CANARY))).toEqual([]);
    }
    expect(w.comp.outputs).toBeDefined();
    for (const o of [c.summary, c.warnings, c.files])
      expect(leaks(JSON.stringify(await promiseOf(o as pulumi.Output<unknown>)), CANARY)).toBe(false);
    return w;
  }

  test("a secret password in the CRI block: only the services script is secret; files stay readable", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "containerd" }] },
      registries: credentialed(pulumi.secret(CANARY_PASSWORD)),
    });
    const { comp, files, services } = await expectNoLeak(name, c);
    expect(isWireSecret(services!.inputs.stdin)).toBe(true);
    expect(leaks(script(services), CANARY)).toBe(true);
    expect(isWireSecret(files!.inputs.stdin)).toBe(false);
    expect(await pulumi.isSecret(c.files)).toBe(false);
    expect(isWireSecret(comp.outputs?.files)).toBe(false);
    const list = await promiseOf(c.files);
    expect(list.find((f) => f.path === "/etc/containerd/config.toml")).toMatchObject({
      secret: true,
      mode: "0600",
    });
    expect(list.find((f) => f.path === "/etc/containerd/config.toml")!.content).toBeUndefined();
    expect(list.find((f) => f.path.endsWith("docker.io/hosts.toml"))!.content).toContain(MIRROR_HOST);
  });

  test("credentials in hosts.toml: the files script is secret, found even base64-encoded twice", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "containerd", credentials: "hosts" }] },
      registries: credentialed(pulumi.secret(CANARY_PASSWORD)),
    });
    const { files } = await expectNoLeak(name, c);
    expect(isWireSecret(files!.inputs.stdin)).toBe(true);
    expect(script(files)).not.toContain(CANARY_PASSWORD);
    expect(leaks(script(files), CANARY)).toBe(true);
  });

  test("a plain password string is treated as secret all the same", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: credentialed(CANARY_PASSWORD),
    });
    const { files, services } = await expectNoLeak(name, c);
    // kubelet's config.json holds it in the files part, the CRI block in the services part.
    expect(isWireSecret(files!.inputs.stdin)).toBe(true);
    expect(isWireSecret(services!.inputs.stdin)).toBe(true);
  });

  test("a format that drops the credentials warns without printing them", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "docker" }] },
      registries: credentialed(CANARY_PASSWORD),
    });
    await expectNoLeak(name, c);
    expect((await promiseOf(c.warnings)).map((w) => w.path)).toContain(
      'registries["registry.example.com"].auth',
    );
  });

  test("a TLS client key (no password) makes the files script secret; header values too", async () => {
    for (const registries of [
      {
        "registry.example.com": { tls: { ca: pem.ca, clientCert: pem.clientCert, clientKey: pem.clientKey } },
      },
      {
        "docker.io": {
          mirrors: [{ endpoint: "https://m.example.com", headers: { "X-Api-Key": CANARY_PASSWORD } }],
        },
      },
    ] as RegistriesInput[]) {
      const name = unique("secret");
      const c = new NodeRegistries(name, {
        node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "containerd" }] },
        registries,
      });
      const { files, services } = await wire(name, c);
      expect(isWireSecret(files!.inputs.stdin)).toBe(true);
      expect(isWireSecret(services!.inputs.stdin)).toBe(false);
    }
  });

  test("no credentials and no key: nothing is secret (preview --diff stays reviewable)", async () => {
    const name = unique("plain");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: PLAIN_DECL,
    });
    const { comp, children } = await wire(name, c);
    for (const cmd of children) expect(isWireSecret(cmd.inputs.stdin)).toBe(false);
    expect(await pulumi.isSecret(c.files)).toBe(false);
    expect(isWireSecret(comp.outputs?.files)).toBe(false);
  });
});

describe("NodeRegistries: bad input fails at construction", () => {
  const badMirror = (password: pulumi.Input<string>) => ({
    "docker.io": { mirrors: [{ endpoint: "ftp://10.0.0.5:5000" }] },
    "registry.example.com": { auth: { username: USER, password } },
  });
  const node = { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET };

  /** Construct; return what the constructor threw (undefined when it did not throw). */
  async function attempt(
    args: NodeModule.NodeRegistriesArgs,
    name = unique("bad"),
  ): Promise<Error | undefined> {
    let thrown: Error | undefined;
    try {
      new NodeRegistries(name, args);
    } catch (e) {
      thrown = e as Error;
    }
    await mocks.settle();
    return thrown;
  }

  /** The message and stack of an error, where a canary must never appear. */
  const printed = (e: Error | undefined) => `${e?.message}\n${e?.stack}`;

  test("a bad mirror URL names its property path and never prints the (plain) canary password", async () => {
    const thrown = await attempt({ node, registries: badMirror(CANARY_PASSWORD) });
    expect(thrown).toBeInstanceOf(pulumi.ResourceError);
    expect(thrown?.message).toBe(
      'registries["docker.io"].mirrors[0].endpoint: "ftp://10.0.0.5:5000" must be an http:// or https:// URL ' +
        '(scheme "ftp" is not supported)',
    );
    expect(leaks(printed(thrown), CANARY)).toBe(false);
  });

  test("a bad mirror URL next to a secret password fails at construction too", async () => {
    const thrown = await attempt({ node, registries: badMirror(pulumi.secret(CANARY_PASSWORD)) });
    expect(thrown?.message).toContain('registries["docker.io"].mirrors[0].endpoint');
    expect(leaks(printed(thrown), CANARY)).toBe(false);
  });

  test("nothing but the component is registered for a declaration that failed", async () => {
    const name = unique("bad");
    expect(await attempt({ node, registries: badMirror(CANARY_PASSWORD) }, name)).toBeDefined();
    expect(mocks.named(name).map((r) => r.type)).toEqual(["registry-setup:index:NodeRegistries"]);
  });

  test.each<[string, Partial<NodeModule.NodeRegistriesArgs>, string]>([
    [
      "a bad profile setting",
      { node: { ...node, profiles: [{ kind: "containerd", version: "3" }] } },
      'node.profiles[0].version: "3" must be a version "<major>.<minor>" or "<major>.<minor>.<patch>", e.g. "1.7" or "1.6.20"',
    ],
    [
      "an unknown profile kind",
      { node: { ...node, profiles: [{ kind: "podman" } as unknown as RuntimeProfile] } },
      'node.profiles[0].kind: "podman" is not a profile kind',
    ],
    [
      "a string where a boolean belongs",
      { node: { ...node, sudo: "false" as unknown as boolean } },
      'node.sudo: must be true or false, got "false"',
    ],
    [
      "a string where a boolean belongs, in a profile",
      { node: { ...node, profiles: [{ kind: "containerd", manageConfigPath: "no" as unknown as boolean }] } },
      'node.profiles[0].manageConfigPath: must be true or false, got "no"',
    ],
    [
      "probeMirrors as a string",
      { probeMirrors: "no" as unknown as boolean },
      'probeMirrors: must be true or false, got "no"',
    ],
    [
      "profiles not a list",
      { node: { ...node, profiles: { kind: "microk8s" } as unknown as RuntimeProfile[] } },
      "node.profiles: must be a list",
    ],
    ["a bad node name", { node: { ...node, name: "n 1" } }, 'node.name: "n 1" must be a node name'],
    ["a bad owner", { owner: "Team A" }, 'owner: "Team A" must match'],
    [
      "a bad drift setting",
      { drift: "ignore" as "fail" },
      'drift: "ignore" is not allowed: use "overwrite" or "fail"',
    ],
    ["a bad lock wait", { lockWaitSeconds: -1 }, "must be a whole number of seconds from 0 to 3600"],
  ])("%s", async (_label, override, message) => {
    const thrown = await attempt({ node, registries: PLAIN_DECL, ...override });
    expect(thrown?.message).toContain(message);
  });
});

describe("NodeRegistries: summary", () => {
  test("both parts' summaries merged into one", async () => {
    const name = unique("summary");
    const c = new NodeRegistries(name, {
      node: { name: "node-7", connection: CONNECTION, profiles: [{ kind: "containerd" }] },
      registries: PLAIN_DECL,
      owner: "team-b",
    });
    await wire(name, c);
    expect(await promiseOf(c.summary)).toEqual({
      format: 1,
      node: "node-7",
      owner: "team-b",
      mode: "apply",
      changed: ["/etc/containerd/certs.d/docker.io/hosts.toml", "/etc/containerd/config.toml"],
      removed: [],
      unchanged: 0,
      drift: [],
      actions: [],
      unchecked: [],
      probed: [],
      recovered: false,
      rolledBack: false,
    });
  });

  test("a restart whose health check could not run is in the summary and warned about, once", async () => {
    const warn = jest.spyOn(pulumi.log, "warn");
    try {
      const name = unique("unchecked");
      const c = new NodeRegistries(name, {
        node: { name: "node-u", connection: CONNECTION, profiles: [{ kind: "containerd" }] },
        registries: PLAIN_DECL,
      });
      await wire(name, c);
      expect(await promiseOf(c.summary)).toMatchObject({
        actions: ["restart:containerd"],
        unchecked: ["containerd"],
      });
      const said = warn.mock.calls.map((call) => String(call[0])).filter((m) => m.includes("health check"));
      expect(said).toEqual([
        expect.stringMatching(
          /^node \(node-u\): the health check of containerd did not run after its restart or reload: .* Set the profile's socket to where the service listens\.$/,
        ),
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  test("is undefined when no output holds a summary line", async () => {
    const name = unique("nosummary");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: [{ kind: "microk8s" }] },
      registries: PLAIN_DECL,
    });
    expect(await promiseOf(c.summary)).toBeUndefined();
  });
});

describe("NodeRegistries: host key", () => {
  test("a node without a pinned host key is warned about at construction (preview)", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    const error = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const { hostKey: _h, ...unpinned } = CONNECTION;
      const name = unique("hostkey");
      const c = new NodeRegistries(name, {
        node: { name: "n1", connection: unpinned, profiles: [{ kind: "microk8s" }] },
        registries: PLAIN_DECL,
      });
      await wire(name, c);
      const said = [...warn.mock.calls, ...error.mock.calls].map((a) => a.join(" ")).join("\n");
      expect(said).toContain('node "n1": connection.hostKey is not set');
    } finally {
      warn.mockRestore();
      error.mockRestore();
    }
  });
});

/**
 * `NodeRegistries` under `pulumi.runtime.setMocks`: the resource graph, the fixed command text, the script on
 * stdin, the connection, the resource options and the handling of secrets, as the engine would receive them.
 */
import * as pulumi from "@pulumi/pulumi";
import { normalizeRegistries } from "../../components/model/normalize";
import type { RegistriesArgs } from "../../components/model/types";
import { planNode } from "../../components/node/plan";
import type { ProfileArgs } from "../../components/node/profiles";
import { buildNodeScript } from "../../components/node/script";
import type * as NodeModule from "../../components/node/nodeRegistries";
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
  unwrap,
} from "../helpers/pulumiMocks";

// setMocks first; the component module is imported in beforeAll, once the runtime is in test mode.
const mocks = installMocks({
  stdout: (args, script) =>
    args.name.startsWith("nosummary")
      ? "no summary here\n"
      : `log line\nPULUMI_REGISTRIES ${JSON.stringify(summaryFromScript(script))}\n`,
});
let NodeRegistries: typeof NodeModule.NodeRegistries;
beforeAll(async () => {
  ({ NodeRegistries } = await import("../../components/node/nodeRegistries"));
});

const USER = "robot";
const CANARY = secretForms(CANARY_PASSWORD, USER);
const MIRROR_HOST = "mirror-7c1d.example.internal";

/** A declaration with a mirror and a private registry that needs credentials. */
function credentialed(password: pulumi.Input<string>) {
  return {
    "docker.io": { mirrors: [`https://${MIRROR_HOST}:5000`] },
    "registry.example.com": { auth: { username: USER, password } },
  };
}
const PLAIN_DECL = { "docker.io": { mirrors: [`http://${MIRROR_HOST}:5000`] } };

const CONNECTION = {
  host: "10.0.0.11",
  port: 2222,
  user: "admin",
  privateKey: "test-private-key",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheNode",
  // Set explicitly so that the provider's defaults add nothing and "unchanged" can be compared exactly.
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

const CONTAINERD_AND_KUBELET: ProfileArgs[] = [
  { kind: "containerd", credentials: "hosts" },
  { kind: "kubelet" },
];

let seq = 0;
/** A unique component name per test, so that registrations never mix. */
const unique = (base: string) => `${base}${++seq}`;

/** The wire registrations of a NodeRegistries named `name`: the component and its command. */
async function wire(name: string, component: NodeModule.NodeRegistries) {
  await promiseOf(component.summary);
  await mocks.settle();
  return { comp: mocks.one(name), cmd: mocks.one(`${name}-apply`) };
}

function script(cmd: Registration): string {
  return unwrap<string>(cmd.inputs.stdin);
}

describe("NodeRegistries: resource graph", () => {
  test("registers its type token and exactly one child: the remote.Command `${name}-apply`", async () => {
    const name = unique("graph");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "microk8s" } },
      registries: PLAIN_DECL,
    });
    const { comp, cmd } = await wire(name, c);
    expect(comp).toMatchObject({ type: "registry-setup:node:NodeRegistries", custom: false });
    const children = mocks.registrations.filter((r) => r.parent === comp.urn);
    expect(children.map((r) => [r.type, r.name, r.custom])).toEqual([
      ["command:remote:Command", `${name}-apply`, true],
    ]);
    expect(mocks.named(name).map((r) => r.name)).toEqual([name, `${name}-apply`]);
    expect(cmd.parent).toBe(comp.urn);
  });
});

describe("NodeRegistries: fixed command text", () => {
  test.each([
    [false, "/bin/sh -s -- apply", "/bin/sh -s -- destroy"],
    [true, "sudo -n /bin/sh -s -- apply", "sudo -n /bin/sh -s -- destroy"],
  ])("sudo: %s → create/update %j, delete %j", async (sudo, apply, destroy) => {
    const name = unique("text");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "containerd" }, sudo },
      registries: credentialed(CANARY_PASSWORD),
    });
    const { cmd } = await wire(name, c);
    expect([cmd.inputs.create, cmd.inputs.update, cmd.inputs.delete]).toEqual([apply, apply, destroy]);
  });

  test("the command text holds no registry data (no host, no credential)", async () => {
    const name = unique("text");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: credentialed(pulumi.secret(CANARY_PASSWORD)),
    });
    const { cmd } = await wire(name, c);
    for (const key of ["create", "update", "delete"]) {
      const text = cmd.inputs[key];
      expect(typeof text).toBe("string");
      expect(text).not.toContain(MIRROR_HOST);
      expect(text).not.toContain("registry.example.com");
      expect(text).not.toContain("docker.io");
      expect(leaks(text as string, CANARY)).toBe(false);
    }
  });
});

describe("NodeRegistries: the script on stdin", () => {
  const decl: RegistriesArgs = {
    "docker.io": {
      mirrors: ["http://10.0.0.5:5000", { endpoint: "https://mirror.example.com", capabilities: ["pull"] }],
    },
    "registry.k8s.io": {
      mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
    },
    "10.141.241.175:32000": { plainHttp: true },
  };

  test.each<[string, ProfileArgs | ProfileArgs[], Record<string, unknown>]>([
    ["one profile object, defaults", { kind: "microk8s" }, {}],
    [
      "several profiles and every setting",
      CONTAINERD_AND_KUBELET,
      { owner: "team-a", probeMirrors: true, drift: "fail", lockWaitSeconds: 30 },
    ],
    ["k3s agent", { kind: "k3s", role: "agent" }, { owner: "k3s.owner", drift: "overwrite" }],
  ])("equals buildNodeScript(planNode(…)) for the same inputs: %s", async (_label, profiles, settings) => {
    const name = unique("stdin");
    const node = { name: "node-a.1", connection: CONNECTION, profiles };
    const c = new NodeRegistries(name, { node, registries: decl, ...settings });
    const { cmd } = await wire(name, c);
    const expected = buildNodeScript(
      planNode(normalizeRegistries(decl), {
        node: "node-a.1",
        owner: (settings.owner as string | undefined) ?? "registries",
        profiles: Array.isArray(profiles) ? profiles : [profiles],
        probeMirrors: (settings.probeMirrors as boolean | undefined) ?? false,
      }),
      {
        drift: settings.drift as "overwrite" | "fail" | undefined,
        lockWaitSeconds: settings.lockWaitSeconds as number | undefined,
      },
    );
    expect(script(cmd)).toBe(expected);
  });

  test("a declaration whose leaves are Outputs gives the same script as the plain one", async () => {
    const plainName = unique("stdin");
    const outputName = unique("stdin");
    const node = (n: string) => ({ name: n, connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET });
    const a = new NodeRegistries(plainName, { node: node("x"), registries: credentialed(CANARY_PASSWORD) });
    const b = new NodeRegistries(outputName, {
      node: node("x"),
      registries: {
        "docker.io": { mirrors: [pulumi.output(`https://${MIRROR_HOST}:5000`)] },
        "registry.example.com": pulumi.output({ auth: { username: USER, password: CANARY_PASSWORD } }),
      },
    });
    const [wa, wb] = [await wire(plainName, a), await wire(outputName, b)];
    expect(script(wb.cmd)).toBe(script(wa.cmd));
  });
});

describe("NodeRegistries: connection and options", () => {
  test("the connection reaches the command unchanged (hostKey and proxy included)", async () => {
    const name = unique("conn");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "microk8s" } },
      registries: PLAIN_DECL,
    });
    const { cmd } = await wire(name, c);
    expect(unwrap(cmd.inputs.connection)).toEqual(CONNECTION);
  });

  test("a connection given as an Output with a secret key reaches the command unchanged", async () => {
    const name = unique("conn");
    const connection = pulumi.output({ ...CONNECTION, privateKey: pulumi.secret("secret-key") });
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection, profiles: { kind: "microk8s" } },
      registries: PLAIN_DECL,
    });
    const { cmd } = await wire(name, c);
    expect(isWireSecret(cmd.inputs.connection)).toBe(true);
    expect(unwrap(cmd.inputs.connection)).toEqual({ ...CONNECTION, privateKey: "secret-key" });
  });

  test("addPreviousOutputInEnv is false and logging is set", async () => {
    const name = unique("opts");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "microk8s" } },
      registries: PLAIN_DECL,
    });
    const { cmd } = await wire(name, c);
    expect(cmd.inputs.addPreviousOutputInEnv).toBe(false);
    expect(cmd.inputs.logging).toBe("stdoutAndStderr");
  });

  test("resource options on the wire: deleteBeforeReplace, stdin an additional secret output", async () => {
    const name = unique("opts");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "microk8s" } },
      registries: PLAIN_DECL,
    });
    const { comp, cmd } = await wire(name, c);
    expect(cmd.deleteBeforeReplace).toBe(true);
    expect(cmd.additionalSecretOutputs).toContain("stdin");
    expect(cmd.dependencies).toEqual([]);
    expect(comp.deleteBeforeReplace).toBe(false);
  });

  test("the component's dependsOn reaches the command", async () => {
    const before = unique("dep");
    const name = unique("dep");
    const first = new NodeRegistries(before, {
      node: { name: "n0", connection: CONNECTION, profiles: { kind: "microk8s" } },
      registries: PLAIN_DECL,
    });
    const c = new NodeRegistries(
      name,
      {
        node: { name: "n1", connection: CONNECTION, profiles: { kind: "microk8s" } },
        registries: PLAIN_DECL,
      },
      { dependsOn: [first] },
    );
    const { cmd } = await wire(name, c);
    expect(cmd.dependencies).toEqual([mocks.one(`${before}-apply`).urn]);
  });
});

describe("NodeRegistries: secrets", () => {
  /** Checks shared by every credentialed declaration. */
  async function expectNoLeak(name: string, c: NodeModule.NodeRegistries) {
    const { comp, cmd } = await wire(name, c);
    // Anything the engine receives outside a secret envelope (inputs and registered outputs).
    for (const r of [comp, cmd]) {
      const plain = [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})];
      expect(plain.filter((s) => leaks(s, CANARY))).toEqual([]);
    }
    expect(comp.outputs).toBeDefined();
    expect(leaks(JSON.stringify(await promiseOf(c.summary)), CANARY)).toBe(false);
    expect(leaks(JSON.stringify(await promiseOf(c.warnings)), CANARY)).toBe(false);
    return { comp, cmd };
  }

  test("a pulumi.secret password: stdin and files are secret, the canary shows up nowhere else", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: credentialed(pulumi.secret(CANARY_PASSWORD)),
    });
    const { comp, cmd } = await expectNoLeak(name, c);
    expect(isWireSecret(cmd.inputs.stdin)).toBe(true);
    expect(await pulumi.isSecret(c.files)).toBe(true);
    expect(isWireSecret(comp.outputs?.files)).toBe(true);
    // The checks above can see the canary: the files meant to hold it, and the script that embeds them, do.
    expect(leaks(JSON.stringify(await promiseOf(c.files)), CANARY)).toBe(true);
    expect(leaks(script(cmd), CANARY)).toBe(true);
    expect(await pulumi.isSecret(c.summary)).toBe(false);
  });

  test("the leak check sees a password that only travels base64-encoded twice (header in a file in the script)", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "containerd", credentials: "hosts" } },
      registries: credentialed(pulumi.secret(CANARY_PASSWORD)),
    });
    const { cmd } = await expectNoLeak(name, c);
    expect(script(cmd)).not.toContain(CANARY_PASSWORD);
    expect(leaks(script(cmd), CANARY)).toBe(true);
  });

  test("a plain password string: stdin and files are still secret", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: credentialed(CANARY_PASSWORD),
    });
    const { comp, cmd } = await expectNoLeak(name, c);
    expect(isWireSecret(cmd.inputs.stdin)).toBe(true);
    expect(await pulumi.isSecret(c.files)).toBe(true);
    expect(isWireSecret(comp.outputs?.files)).toBe(true);
  });

  test("a format that drops the credentials warns without printing them", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "docker" } },
      registries: credentialed(CANARY_PASSWORD),
    });
    await expectNoLeak(name, c);
    const warnings = await promiseOf(c.warnings);
    expect(warnings.map((w) => w.path)).toContain('registries["registry.example.com"].auth');
  });

  test("a TLS client key (no password) makes stdin secret too", async () => {
    const name = unique("secret");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "containerd" } },
      registries: {
        "registry.example.com": { tls: { ca: pem.ca, clientCert: pem.clientCert, clientKey: pem.clientKey } },
      },
    });
    const { cmd } = await wire(name, c);
    expect(isWireSecret(cmd.inputs.stdin)).toBe(true);
    expect(await pulumi.isSecret(c.files)).toBe(true);
  });

  test("no credentials and no key: stdin and files are not secret (preview --diff stays reviewable)", async () => {
    const name = unique("plain");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: CONTAINERD_AND_KUBELET },
      registries: PLAIN_DECL,
    });
    const { comp, cmd } = await wire(name, c);
    expect(typeof cmd.inputs.stdin).toBe("string");
    expect(cmd.inputs.stdin).toContain(`P_NODE='n1'`);
    expect(await pulumi.isSecret(c.files)).toBe(false);
    expect(isWireSecret(comp.outputs?.files)).toBe(false);
  });
});

describe("NodeRegistries: bad input fails at construction", () => {
  const badMirror = (password: pulumi.Input<string>) => ({
    "docker.io": { mirrors: ["ftp://10.0.0.5:5000"] },
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
    // A check that only runs inside an `apply` fails later, outside the caller's reach (jest reports such an
    // unhandled rejection against the running test): let it happen within this test, not the next one.
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
    // Only the password is an Output: the endpoint is a plain value that can be checked right away.
    const thrown = await attempt({ node, registries: badMirror(pulumi.secret(CANARY_PASSWORD)) });
    expect(thrown?.message).toContain('registries["docker.io"].mirrors[0].endpoint');
    expect(leaks(printed(thrown), CANARY)).toBe(false);
  });

  test("no command is registered for a declaration that failed", async () => {
    const name = unique("bad");
    expect(await attempt({ node, registries: badMirror(CANARY_PASSWORD) }, name)).toBeDefined();
    expect(mocks.named(name).map((r) => r.type)).toEqual(["registry-setup:node:NodeRegistries"]);
  });

  test.each<[string, Partial<NodeModule.NodeRegistriesArgs>, string]>([
    [
      "a bad profile setting",
      { node: { ...node, profiles: [{ kind: "containerd", major: 3 as 1 }] } },
      "profiles[0].major: 3 is not allowed",
    ],
    [
      "an unknown profile kind",
      { node: { ...node, profiles: { kind: "podman" } as unknown as ProfileArgs } },
      'profiles[0].kind: "podman" is not a profile kind',
    ],
    ["a bad node name", { node: { ...node, name: "n 1" } }, 'node: "n 1" must be a node name'],
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

  test.each<[string, Partial<NodeModule.NodeRegistriesArgs>, string]>([
    [
      "a bad drift setting",
      { drift: "ignore" as "fail" },
      'drift: "ignore" is not allowed: use "overwrite" or "fail"',
    ],
    ["a bad lock wait", { lockWaitSeconds: 4000 }, "must be a whole number of seconds from 0 to 3600"],
  ])(
    "%s fails at construction even when the declaration holds an Output",
    async (_label, override, message) => {
      const thrown = await attempt({
        node,
        registries: credentialed(pulumi.secret(CANARY_PASSWORD)),
        ...override,
      });
      expect(thrown?.message).toContain(message);
      expect(leaks(printed(thrown), CANARY)).toBe(false);
    },
  );
});

describe("NodeRegistries: summary", () => {
  test("is parsed from the command's stdout", async () => {
    const name = unique("summary");
    const c = new NodeRegistries(name, {
      node: { name: "node-7", connection: CONNECTION, profiles: { kind: "microk8s" } },
      registries: PLAIN_DECL,
      owner: "team-b",
    });
    const { cmd } = await wire(name, c);
    expect(await promiseOf(c.summary)).toEqual({
      format: 1,
      node: "node-7",
      owner: "team-b",
      mode: "apply",
      changed: ["/var/snap/microk8s/current/args/certs.d/docker.io/hosts.toml"],
      removed: [],
      unchanged: 0,
      drift: [],
      actions: [],
      probed: [],
      recovered: false,
      rolledBack: false,
    });
    expect(await promiseOf(c.command.stdout)).toContain("PULUMI_REGISTRIES ");
    expect(cmd.inputs.stdin).toContain("P_NODE='node-7'");
  });

  test("is undefined when the output holds no summary line", async () => {
    const name = unique("nosummary");
    const c = new NodeRegistries(name, {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "microk8s" } },
      registries: PLAIN_DECL,
    });
    expect(await promiseOf(c.summary)).toBeUndefined();
  });
});

describe("NodeRegistries: mayRestart", () => {
  const WITH_CREDENTIALS = { ...PLAIN_DECL, "r.example.com": { auth: { username: "u", password: "p" } } };
  // Exact from the plan: a restart is possible only when an entry of this declaration needs one.
  test.each<[ProfileArgs | ProfileArgs[], boolean, boolean]>([
    [{ kind: "microk8s", credentials: "hosts" }, false, false],
    [{ kind: "microk8s", legacy: true }, true, true],
    [{ kind: "microk8s", credentials: "template" }, false, true],
    [{ kind: "microk8s" }, false, true],
    [{ kind: "containerd" }, true, true],
    [{ kind: "containerd", manageConfigPath: false, credentials: "hosts" }, false, false],
    [{ kind: "containerd", manageConfigPath: false, credentials: "config" }, false, true],
    [{ kind: "k3s" }, true, true],
    [{ kind: "rke2", role: "agent" }, true, true],
    [{ kind: "crio" }, false, false],
    [{ kind: "docker" }, false, false],
    [[{ kind: "crio" }, { kind: "kubelet" }], false, false],
    [[{ kind: "kubelet" }, { kind: "k3s" }], true, true],
  ])("%j → %s without credentials, %s with", (profiles, withoutCredentials, withCredentials) => {
    for (const [registries, expected] of [
      [PLAIN_DECL, withoutCredentials],
      [WITH_CREDENTIALS, withCredentials],
    ] as const) {
      const c = new NodeRegistries(unique("restart"), {
        node: { name: "n1", connection: CONNECTION, profiles },
        registries,
      });
      expect(c.mayRestart).toBe(expected);
    }
  });

  test("when the declaration is an Output, every profile that can ever restart counts", () => {
    const c = new NodeRegistries(unique("restart"), {
      node: { name: "n1", connection: CONNECTION, profiles: { kind: "microk8s", credentials: "hosts" } },
      registries: pulumi.output(PLAIN_DECL),
    });
    expect(c.mayRestart).toBe(true);
  });
});

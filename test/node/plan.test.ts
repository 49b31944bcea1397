/**
 * The node plan per runtime profile: a golden per profile (every entry's path, kind, mode, secrecy, part, what a
 * change needs and how it is checked, the services and their commands, the warnings), the profile table's own
 * guarantees, and every `checkProfile` error with its exact message.
 */
import { ConfigError, Problems } from "../../components/model/errors";
import {
  checkProfile,
  NodePlan,
  partOf,
  planNode,
  planParts,
  PROFILE_KINDS,
  ProfileDefinition,
  ProfileKind,
  PROFILES,
  RuntimeProfile,
} from "../../components/node";
import { normalizeRegistries } from "../../components/render";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import { expectGolden } from "../helpers/golden";

/** A declaration that exercises every kind of entry: a mirror, a path mirror, a CA, credentials, plain HTTP. */
const DECL = normalizeRegistries({
  "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] },
  "registry.k8s.io": {
    mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
  },
  "registry.corp.example:5443": {
    tls: { ca: pem.ca },
    auth: { username: "ci-bot", password: CANARY_PASSWORD },
  },
  "10.141.241.175:32000": { plainHttp: true },
});

/** The plan as reviewable text: one line per entry, then services and warnings. */
function describePlan(plan: NodePlan): string {
  const lines = plan.entries.map((e) =>
    [
      e.path,
      e.kind,
      `0${e.mode.toString(8)}`,
      e.secret ? "secret" : "plain",
      partOf(e),
      e.effect ? `${e.effect.action}:${e.effect.service}` : "no-action",
      e.check ? `check ${e.check.kind} ${e.check.binary}` : "no-check",
      ...(e.kind === "config-path"
        ? [`config_path=${e.hostsDir}`, `block=${e.blockId}`, `containerd=${e.containerdMajor}`]
        : []),
      ...(e.kind === "block" ? [`block=${e.blockId}`] : []),
      ...(e.kind === "json-merge" ? [e.values.map((v) => `${v.key}=${v.value}`).join(",")] : []),
    ].join("  "),
  );
  const services = plan.services.map(
    (s) =>
      `service ${s.name}: ${s.restart ? `restart=${s.restart.join(" ")}` : ""}${s.reload ? `reload=${s.reload.join(" ")}` : ""}${
        s.health ? ` health=${s.health.kind} ${s.health.argv.join(" ")}` : ""
      }`,
  );
  const warnings = plan.warnings.map((w) => `warning ${w.path}: ${w.message}`);
  return [...lines, ...services, ...warnings].join("\n") + "\n";
}

const CASES: [string, RuntimeProfile[]][] = [
  ["microk8s", [{ kind: "microk8s" }]],
  ["microk8s-hosts-credentials", [{ kind: "microk8s", credentials: "hosts" }]],
  ["microk8s-legacy", [{ kind: "microk8s", legacy: true }]],
  ["containerd", [{ kind: "containerd" }]],
  ["containerd-2.1-hosts-credentials", [{ kind: "containerd", version: "2.1", credentials: "hosts" }]],
  ["containerd-unmanaged-config-path", [{ kind: "containerd", manageConfigPath: false }]],
  ["k3s", [{ kind: "k3s" }]],
  ["rke2-agent", [{ kind: "rke2", role: "agent" }]],
  ["crio", [{ kind: "crio" }]],
  ["docker", [{ kind: "docker" }]],
  ["kubelet", [{ kind: "kubelet" }]],
  ["containerd-and-kubelet", [{ kind: "containerd" }, { kind: "kubelet" }]],
];

describe("the plan of each profile (golden)", () => {
  test.each(CASES)("%s", (name, profiles) => {
    const plan = planNode(DECL, { node: "n1", owner: "registries", profiles });
    expectGolden(`plan/${name}.txt`, describePlan(plan));
  });

  test("every profile kind has at least one golden", () => {
    const covered = new Set(CASES.flatMap(([, ps]) => ps.map((p) => p.kind)));
    expect([...covered].sort()).toEqual([...PROFILE_KINDS].sort());
  });

  test("the parts split the plan by effect, and keep only the services their entries name", () => {
    const plan = planNode(DECL, {
      node: "n1",
      owner: "o",
      profiles: [{ kind: "containerd" }, { kind: "kubelet" }],
    });
    const parts = planParts(plan);
    expect(parts.map((p) => p.part)).toEqual(["files", "services"]);
    expect(parts.flatMap((p) => p.entries).length).toBe(plan.entries.length);
    expect(parts[0].entries.every((e) => !e.effect)).toBe(true);
    expect(parts[0].services).toEqual([]);
    expect(parts[1].services.map((s) => s.name)).toEqual(["containerd"]);
    expect(parts.map((p) => p.secret)).toEqual([true, true]); // config.json (files), the CRI block (services)
  });
});

describe("the profile table", () => {
  test("one entry per kind, keyed by its own kind", () => {
    for (const kind of PROFILE_KINDS) expect(PROFILES[kind].kind).toBe(kind);
  });

  test("every option has a default the planner can use, or is documented as none", () => {
    const withoutDefault: string[] = [];
    for (const def of Object.values(PROFILES) as ProfileDefinition[]) {
      for (const [key, spec] of Object.entries(def.options))
        if (spec?.default === undefined) withoutDefault.push(`${def.kind}.${key}`);
    }
    expect(withoutDefault).toEqual([]);
  });

  test("a kind without an entry does not compile", () => {
    // The table's type is `{ [K in ProfileKind]: ProfileDefinition<K> }`: leaving a kind out is a type error,
    // which @ts-expect-error turns into a proof (npm test type-checks this file).
    // @ts-expect-error Property 'kubelet' is missing
    const partial: { readonly [K in ProfileKind]: ProfileDefinition<K> } = {
      microk8s: PROFILES.microk8s,
      containerd: PROFILES.containerd,
      k3s: PROFILES.k3s,
      rke2: PROFILES.rke2,
      crio: PROFILES.crio,
      docker: PROFILES.docker,
    };
    expect(Object.keys(partial)).toHaveLength(6);
  });
});

describe("checkProfile: every error", () => {
  const problems = (profile: unknown): string[] => {
    const p = new Problems();
    checkProfile(p, "profiles[0]", profile);
    return p.all.map((x) => `${x.path}: ${x.message}`);
  };

  test.each<[string, unknown, string[]]>([
    [
      "not an object",
      "microk8s",
      [
        'profiles[0]: must be an object with a kind (microk8s, containerd, k3s, rke2, crio, docker, kubelet), got "microk8s"',
      ],
    ],
    [
      "a list",
      [],
      [
        "profiles[0]: must be an object with a kind (microk8s, containerd, k3s, rke2, crio, docker, kubelet), got []",
      ],
    ],
    [
      "no kind",
      {},
      [
        "profiles[0].kind: undefined is not a profile kind: use one of microk8s, containerd, k3s, rke2, crio, docker, kubelet",
      ],
    ],
    [
      "unknown kind",
      { kind: "podman" },
      [
        'profiles[0].kind: "podman" is not a profile kind: use one of microk8s, containerd, k3s, rke2, crio, docker, kubelet',
      ],
    ],
    [
      "kind from the prototype",
      { kind: "toString" },
      [
        'profiles[0].kind: "toString" is not a profile kind: use one of microk8s, containerd, k3s, rke2, crio, docker, kubelet',
      ],
    ],
    [
      "a setting of another kind",
      { kind: "kubelet", certsDir: "/etc/x" },
      ["profiles[0].certsDir: is not a setting of the kubelet profile (known: rootDir, configJson)"],
    ],
    [
      "a relative path",
      { kind: "containerd", certsDir: "etc/containerd" },
      [
        'profiles[0].certsDir: "etc/containerd" must be an absolute path of plain segments (letters, digits and ._+@:,=- only), e.g. "/etc/containerd/certs.d"',
      ],
    ],
    [
      "a path with ..",
      { kind: "crio", dropIn: "/etc/../root/x.conf" },
      ['profiles[0].dropIn: "/etc/../root/x.conf" must not contain "." or ".." segments'],
    ],
    [
      "a path with a shell metacharacter",
      { kind: "docker", daemonJson: "/etc/docker/$(reboot).json" },
      [
        'profiles[0].daemonJson: "/etc/docker/$(reboot).json" must be an absolute path of plain segments (letters, digits and ._+@:,=- only), e.g. "/etc/containerd/certs.d"',
      ],
    ],
    [
      "a command with a space",
      { kind: "containerd", containerdBinary: "my containerd" },
      [
        'profiles[0].containerdBinary: "my containerd" must be an absolute path of plain segments (letters, digits and ._+@:,=- only), e.g. "/etc/containerd/certs.d", or a command name such as "containerd"',
      ],
    ],
    [
      "an empty argv",
      { kind: "k3s", restart: [] },
      [
        "profiles[0].restart: must be a non-empty list of non-empty strings (the command and its arguments), got []",
      ],
    ],
    [
      "an argv string",
      { kind: "crio", reload: "systemctl reload crio" },
      [
        'profiles[0].reload: must be a non-empty list of non-empty strings (the command and its arguments), got "systemctl reload crio"',
      ],
    ],
    [
      "an argv with a newline",
      { kind: "docker", reload: ["sh", "-c", "a\nb"] },
      ["profiles[0].reload: must not contain control characters (newlines…)"],
    ],
    [
      "a string where a boolean belongs",
      { kind: "microk8s", legacy: "true" },
      ['profiles[0].legacy: must be true or false, got "true"'],
    ],
    [
      "an enum value of another profile",
      { kind: "microk8s", credentials: "template" },
      ['profiles[0].credentials: "template" is not allowed: use "cri" or "hosts"'],
    ],
    [
      "a bad role",
      { kind: "rke2", role: "worker" },
      ['profiles[0].role: "worker" is not allowed: use "server" or "agent"'],
    ],
    [
      "a bad version",
      { kind: "containerd", version: "2" },
      [
        'profiles[0].version: "2" must be a version "<major>.<minor>" or "<major>.<minor>.<patch>", e.g. "1.7" or "1.6.20"',
      ],
    ],
    [
      "an unsupported containerd version",
      { kind: "containerd", version: "3.0" },
      [
        'profiles[0].version: "3.0": only containerd 1.6 to 2.x are known to this library (a new major may move the registry settings); declare the version your nodes run',
      ],
    ],
    [
      "several problems at once",
      { kind: "containerd", certsDir: "x", restart: "y", legacy: true },
      [
        'profiles[0].certsDir: "x" must be an absolute path of plain segments (letters, digits and ._+@:,=- only), e.g. "/etc/containerd/certs.d"',
        'profiles[0].restart: must be a non-empty list of non-empty strings (the command and its arguments), got "y"',
        "profiles[0].legacy: is not a setting of the containerd profile (known: version, certsDir, configFile, manageConfigPath, credentials, restart, containerdBinary, ctr, socket)",
      ],
    ],
  ])("%s", (_label, profile, expected) => {
    expect(problems(profile)).toEqual(expected);
  });

  test("planNode reports them under the node's path, with duplicates and an empty list", () => {
    const thrown = (profiles: unknown) => {
      try {
        planNode(DECL, {
          node: "n1",
          owner: "o",
          profiles: profiles as RuntimeProfile[],
          path: "nodes[3].profiles",
        });
      } catch (e) {
        return (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      return [];
    };
    expect(thrown([])).toEqual([
      'nodes[3].profiles: must be a list of at least one runtime profile, e.g. [{ kind: "microk8s" }]',
    ]);
    expect(thrown([{ kind: "kubelet" }, { kind: "kubelet" }])).toEqual([
      'nodes[3].profiles[1].kind: "kubelet" is listed twice: merge the two profiles',
    ]);
    expect(thrown([{ kind: "containerd" }, { kind: "microk8s", snapData: "/etc" }])).toEqual([]);
  });
});

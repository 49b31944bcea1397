/**
 * Issue 11: every profile follows its runtime's version. One refused-feature test per version boundary (the
 * version just before the boundary is refused at construction, with the property path, the rule and the fix; the
 * boundary itself is not), the layouts each version gets, and the warnings where the runtime still works.
 * Boundaries and their sources: notes/runtimes.md §10, repeated in each profile's `*_SINCE` table.
 */
import { RegistriesArgs } from "../../components/model/types";
import { NodePlan, planNode, RuntimeProfile } from "../../components/node";
import { atLeast, describeSince, has, parseVersion, version } from "../../components/node/profiles/versions";
import { normalizeRegistries } from "../../components/render";
import { thrown } from "../helpers/thrown";

const plan = (registries: RegistriesArgs, profiles: RuntimeProfile[]): NodePlan =>
  planNode(normalizeRegistries(registries), { node: "n1", owner: "o", profiles });

/** The problems planning refuses with, as `path: message` lines. */
const refused = (registries: RegistriesArgs, profiles: RuntimeProfile[]): string[] =>
  thrown(() => plan(registries, profiles)).problems.map((p) => `${p.path}: ${p.message}`);

const warnings = (registries: RegistriesArgs, profiles: RuntimeProfile[]): string[] =>
  plan(registries, profiles).warnings.map((w) => `${w.path}: ${w.message}`);

const MIRROR = { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } };
const CATCH_ALL = { _default: { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } };
const AUTH = { "registry.example.com": { auth: { username: "u", password: "fake" } } };
const REWRITE = {
  "docker.io": {
    mirrors: [{ endpoint: "https://mirror.example.com", rewrite: { "^rancher/(.*)": "mirror/rancher/$1" } }],
  },
};
const NO_FALLBACK = {
  "docker.io": { fallback: false, mirrors: [{ endpoint: "https://mirror.example.com" }] },
};

describe("versions", () => {
  test("parse: <major>.<minor> is the minor line's first release", () => {
    expect(parseVersion("1.7")).toEqual({ major: 1, minor: 7, patch: 0, text: "1.7" });
    expect(parseVersion("1.6.20")).toEqual({ major: 1, minor: 6, patch: 20, text: "1.6.20" });
    for (const bad of ["2", "1.07", "v1.7", "1.7.0.1", "1.7-rc1", "", 1.7, undefined]) {
      expect(parseVersion(bad)).toBeUndefined();
    }
  });

  test("a boundary per minor line; later lines have it, earlier ones do not", () => {
    const since = ["1.26.13", "1.27.10", "1.28.6", "1.29.1"];
    const yes = ["1.26.13", "1.26.20", "1.27.10", "1.28.6", "1.29.1", "1.30", "2.0"];
    const no = ["1.25.99", "1.26", "1.26.12", "1.27.9", "1.28", "1.28.5", "1.29", "1.29.0"];
    for (const v of yes) expect([v, has(version(v), since)]).toEqual([v, true]);
    for (const v of no) expect([v, has(version(v), since)]).toEqual([v, false]);
    expect(describeSince(since)).toBe("1.26.13, 1.27.10, 1.28.6 or 1.29.1 (or any later minor line)");
    expect(describeSince(["1.21.0"])).toBe("1.21 or later");
    expect(describeSince(["1.6.17", "1.7.0"])).toBe("1.6.17 or 1.7 (or any later minor line)");
    expect(describeSince(["25.0"])).toBe("25.0 or later");
    expect(atLeast(version("2.1"), "2.1")).toBe(true);
    expect(atLeast(version("2.0.7"), "2.1")).toBe(false);
  });
});

describe("containerd", () => {
  test("1.5 and older are refused (no override_path before 1.6.0), and so is an unknown major", () => {
    expect(refused(MIRROR, [{ kind: "containerd", version: "1.5" }])).toEqual([
      "profiles[0].version: \"1.5\": containerd older than 1.6 is not supported (hosts.toml's override_path, which path mirrors need, arrived in 1.6.0, and 1.5 is end of life): upgrade the nodes' containerd",
    ]);
    expect(() => plan(MIRROR, [{ kind: "containerd", version: "1.6" }])).not.toThrow();
    expect(refused(MIRROR, [{ kind: "containerd", version: "3.0" }])).toEqual([
      'profiles[0].version: "3.0": only containerd 1.6 to 2.x are known to this library (a new major may move the registry settings); declare the version your nodes run',
    ]);
  });

  test("_default before 1.6.17 (and in 1.6 without a patch) is refused; 1.6.17 and 1.7 write it", () => {
    const message =
      'needs containerd 1.6.17 or 1.7 (or any later minor line) to read certs.d/_default (the catch-all host directory), but profiles[0].version is "1.6.16": older versions never read it, so pulls would go to each image\'s own registry; declare the version your nodes run (with its patch, e.g. "1.6.20") if it is one of those, or name each registry';
    expect(refused(CATCH_ALL, [{ kind: "containerd", version: "1.6.16" }])).toEqual([
      `registries["_default"]: ${message}`,
    ]);
    expect(refused(CATCH_ALL, [{ kind: "containerd", version: "1.6" }])).toHaveLength(1);
    for (const v of ["1.6.17", "1.7", "2.0"]) {
      const files = plan(CATCH_ALL, [{ kind: "containerd", version: v }]).entries.map((e) => e.path);
      expect(files).toContain("/etc/containerd/certs.d/_default/hosts.toml");
    }
  });

  test("a certsDir with ':' is refused: containerd splits config_path there (or, from 2.1, does not)", () => {
    expect(refused(MIRROR, [{ kind: "containerd", certsDir: "/etc/a:b" }])).toEqual([
      'profiles[0].certsDir: "/etc/a:b" must not contain ":": config_path is split at ":" by containerd 1.x and 2.0, and taken as one directory by 2.1+ (its transfer service); use a directory without ":"',
    ]);
  });

  test("the layout follows the major: a new config.toml is version 2 on 1.x, version 3 on 2.x", () => {
    const entry = (v: string) =>
      plan(AUTH, [{ kind: "containerd", version: v }]).entries.find((e) => e.kind === "config-path");
    const v1 = entry("1.7");
    const v2 = entry("2.1");
    expect(v1).toMatchObject({ containerdMajor: 1 });
    expect(v2).toMatchObject({ containerdMajor: 2 });
    expect(v1?.kind === "config-path" && v1.body).toMatch(
      /^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry/,
    );
    expect(v2?.kind === "config-path" && v2.body).toMatch(
      /^\[plugins\."io\.containerd\.cri\.v1\.images"\.registry/,
    );
  });

  test("registry.configs on 2.x: a warning (deprecated, not removed: 2.4.0-beta.0 still reads it), none on 1.x", () => {
    expect(warnings(AUTH, [{ kind: "containerd", version: "1.7" }])).toEqual([]);
    expect(warnings(AUTH, [{ kind: "containerd", version: "2.0" }])).toEqual([
      'profiles[0].credentials: credentials go to the CRI registry.configs block, which containerd 2.0 reports as deprecated (since containerd 1.5; its removal was planned for 2.4, but 2.4.0-beta.0 still reads it); for registries that answer with a Basic challenge, credentials: "hosts" (an Authorization header in hosts.toml) avoids it',
    ]);
    expect(warnings(AUTH, [{ kind: "containerd", version: "2.1" }])[0]).toMatch(
      /and which makes CRI pull through its local pull path instead of the transfer service;/,
    );
    expect(() => plan(AUTH, [{ kind: "containerd", version: "2.4" }])).not.toThrow();
    expect(warnings(AUTH, [{ kind: "containerd", version: "2.1", credentials: "hosts" }])).toEqual([]);
  });

  test("2.2 without a managed config_path: a warning (its empty config_path is two directories)", () => {
    expect(warnings(MIRROR, [{ kind: "containerd", version: "2.1", manageConfigPath: false }])).toEqual([]);
    expect(warnings(MIRROR, [{ kind: "containerd", version: "2.2", manageConfigPath: false }])).toEqual([
      'profiles[0].manageConfigPath: is false, so the node\'s /etc/containerd/config.toml must set config_path = "/etc/containerd/certs.d" itself: containerd 2.2 takes an empty config_path as "/etc/containerd/certs.d:/etc/docker/certs.d", which its default pull path (the transfer service) reads as one directory, so hosts.toml files would be ignored',
    ]);
  });
});

describe("microk8s", () => {
  test("1.22 and older write mirrors into the template (legacy); 1.23 and later write certs.d", () => {
    const paths = (v: string) => plan(MIRROR, [{ kind: "microk8s", version: v }]).entries.map((e) => e.path);
    expect(paths("1.22")).toEqual(["/var/snap/microk8s/current/args/containerd-template.toml"]);
    expect(paths("1.23")).toEqual(["/var/snap/microk8s/current/args/certs.d/docker.io/hosts.toml"]);
    expect(paths("1.22")).toEqual(
      plan(MIRROR, [{ kind: "microk8s", legacy: true }]).entries.map((e) => e.path),
    );
  });

  test("legacy that contradicts the version is refused, both ways", () => {
    expect(refused(MIRROR, [{ kind: "microk8s", version: "1.23", legacy: true }])).toEqual([
      "profiles[0].legacy: is true, but MicroK8s 1.23 (1.23 or later) sets config_path in containerd-template.toml, and containerd refuses the registry.mirrors that legacy writes next to it (its CRI plugin would not load): drop legacy",
    ]);
    expect(refused(MIRROR, [{ kind: "microk8s", version: "1.22", legacy: false }])).toEqual([
      "profiles[0].legacy: is false, but MicroK8s 1.22 (1.22 or older) has no config_path in containerd-template.toml, so certs.d is never read: drop legacy (it follows version)",
    ]);
    expect(refused(MIRROR, [{ kind: "microk8s", version: "2.1" }])).toEqual([
      'profiles[0].version: "2.1" is not a MicroK8s version: MicroK8s is versioned as the Kubernetes it ships, e.g. "1.35"',
    ]);
  });

  test("_default before 1.30 is refused (released with containerd 1.6.15 or older); 1.30 writes it", () => {
    expect(refused(CATCH_ALL, [{ kind: "microk8s", version: "1.29" }])).toEqual([
      'registries["_default"]: needs MicroK8s 1.30 or later to read certs.d/_default (the catch-all host directory), but profiles[0].version is "1.29": older versions never read it, so pulls would go to each image\'s own registry; MicroK8s before 1.30 was released with containerd 1.6.15 or older (_default arrived in containerd 1.6.17): upgrade MicroK8s, or name each registry',
    ]);
    expect(plan(CATCH_ALL, [{ kind: "microk8s", version: "1.30" }]).entries.map((e) => e.path)).toEqual([
      "/var/snap/microk8s/current/args/certs.d/_default/hosts.toml",
    ]);
  });

  test("from 1.35 (containerd 2.x) credentials in the template's CRI block get the deprecation warning", () => {
    expect(warnings(AUTH, [{ kind: "microk8s", version: "1.34" }])).toEqual([]);
    expect(warnings(AUTH, [{ kind: "microk8s", version: "1.35" }])).toEqual([
      'profiles[0].credentials: credentials go to the CRI registry.configs block, which MicroK8s 1.35 (containerd 2.1) reports as deprecated (since containerd 1.5; its removal was planned for 2.4, but 2.4.0-beta.0 still reads it) and which makes CRI pull through its local pull path instead of the transfer service; for registries that answer with a Basic challenge, credentials: "hosts" (an Authorization header in hosts.toml) avoids it',
    ]);
    expect(warnings(AUTH, [{ kind: "microk8s", version: "1.36" }])[0]).toMatch(
      /MicroK8s 1\.36 \(containerd 2\.2\)/,
    );
  });
});

describe.each([
  ["k3s", "k3s"],
  ["rke2", "RKE2"],
] as const)("%s", (kind, name) => {
  test("rewrite before 1.21.0 is refused (the key is ignored)", () => {
    expect(refused(REWRITE, [{ kind, version: "1.20.15" }])).toEqual([
      `registries["docker.io"].mirrors[0].rewrite: needs ${name} 1.21 or later, but profiles[0].version is "1.20.15": older releases ignore rewrite, so the mirror would be asked for the path as the image names it; upgrade the nodes, or drop the rewrite`,
    ]);
  });

  test("rewrite with a fallback before the January 2024 releases is refused (applied to the default endpoint too)", () => {
    expect(refused(REWRITE, [{ kind, version: "1.28.5" }])).toEqual([
      `registries["docker.io"].mirrors[0].rewrite: is applied by ${name} before 1.26.13, 1.27.10, 1.28.6 or 1.29.1 (or any later minor line) to the default endpoint too, and profiles[0].version is "1.28.5": the fallback to "docker.io" itself would fetch the rewritten path there; upgrade the nodes (then rewrites stay on the mirrors), or drop the rewrite`,
    ]);
    expect(plan(REWRITE, [{ kind, version: "1.28.6" }]).entries[0].kind).toBe("file");
  });

  test("disableDefaultEndpoint before the January 2024 releases is refused (no such flag)", () => {
    const profile = { kind, disableDefaultEndpoint: true };
    expect(refused(NO_FALLBACK, [{ ...profile, version: "1.29" }])).toEqual([
      `profiles[0].disableDefaultEndpoint: needs ${name} 1.26.13, 1.27.10, 1.28.6 or 1.29.1 (or any later minor line) for the --disable-default-registry-endpoint flag, but profiles[0].version is "1.29": older releases do not have the flag; upgrade the nodes, or drop disableDefaultEndpoint (and every fallback: false)`,
    ]);
    expect(refused(NO_FALLBACK, [{ ...profile, version: "1.27.9" }])).toHaveLength(1);
    for (const v of ["1.26.13", "1.27.10", "1.29.1", "1.30"]) {
      expect(plan(NO_FALLBACK, [{ ...profile, version: v }]).entries).toHaveLength(1);
    }
  });

  test('_default (the "*" wildcard) before the March 2024 releases is refused', () => {
    expect(refused(CATCH_ALL, [{ kind, version: "1.29.2" }])).toEqual([
      `registries["_default"]: becomes the "*" wildcard entry of registries.yaml, which needs ${name} 1.26.15, 1.27.12, 1.28.8 or 1.29.3 (or any later minor line), but profiles[0].version is "1.29.2": older releases take "*" as the name of a registry no image uses, so pulls would go to each image's own registry; upgrade the nodes, or name each registry`,
    ]);
    const file = plan(CATCH_ALL, [{ kind, version: "1.29.3" }]).entries[0];
    expect(file.kind === "file" && file.content).toMatch(/^mirrors:\n {2}"\*":/);
  });

  test("the default (1.35) has every feature; a version that is not Kubernetes' is refused", () => {
    expect(() => plan({ ...REWRITE, ...CATCH_ALL }, [{ kind }])).not.toThrow();
    expect(refused(MIRROR, [{ kind, version: "2.0" }])[0]).toMatch(
      new RegExp(`^profiles\\[0\\]\\.version: "2\\.0" is not a ${name} version`),
    );
  });
});

describe("crio", () => {
  const PULL_ONLY = {
    "docker.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["pull"] }] },
  };

  test("CRI-O before 1.18 is refused (no drop-ins, no reload on SIGHUP)", () => {
    expect(refused(MIRROR, [{ kind: "crio", version: "1.17" }])).toEqual([
      'profiles[0].version: "1.17": the crio profile needs CRI-O 1.18 or later (registries.conf.d drop-ins, and registries reloaded on SIGHUP); upgrade CRI-O',
    ]);
    expect(() => plan(MIRROR, [{ kind: "crio", version: "1.18" }])).not.toThrow();
  });

  test("a pull-only mirror (pull-from-mirror) before 1.25 is refused; 1.25 writes digest-only", () => {
    expect(refused(PULL_ONLY as RegistriesArgs, [{ kind: "crio", version: "1.24" }])).toEqual([
      'registries["docker.io"].mirrors[0].capabilities: ["pull"] becomes pull-from-mirror = "digest-only", which needs CRI-O 1.25 or later (containers/image 5.21), but profiles[0].version is "1.24": older releases ignore the key and use the mirror for every pull; upgrade CRI-O, or give the mirror pull and resolve',
    ]);
    const file = plan(PULL_ONLY as RegistriesArgs, [{ kind: "crio", version: "1.25" }]).entries[0];
    expect(file.kind === "file" && file.content).toMatch(/pull-from-mirror = "digest-only"/);
  });
});

describe("docker", () => {
  const PREFIX = {
    "docker.io": { mirrors: [{ endpoint: "https://m.example.com/cache/v2", overridePath: true as const }] },
  };
  const mirrors = (v: string) => {
    const e = plan(PREFIX, [{ kind: "docker", version: v }]).entries[0];
    return e.kind === "json-merge" ? e.values : undefined;
  };

  test("a path prefix before 24.0.8 (and 25.0) is refused; from there it is written", () => {
    const message = (v: string) =>
      `registries["docker.io"].mirrors[0].endpoint: "https://m.example.com/cache/v2" has a path prefix, which Docker registry-mirrors accept only from 24.0.8 or 25.0 (or any later minor line), but profiles[0].version is "${v}": older dockerd refuses the file (it would keep its old configuration on reload); declare the version the hosts run if it is one of those, or use a mirror without a path`;
    expect(refused(PREFIX, [{ kind: "docker", version: "24.0.7" }])).toEqual([message("24.0.7")]);
    expect(refused(PREFIX, [{ kind: "docker" }])).toEqual([message("20.10")]);
    expect(mirrors("24.0.8")).toEqual([{ key: "registry-mirrors", value: "https://m.example.com/cache" }]);
    expect(mirrors("25.0")).toEqual([{ key: "registry-mirrors", value: "https://m.example.com/cache" }]);
  });
});

describe("kubelet", () => {
  const path = (profiles: RuntimeProfile[]) =>
    plan(AUTH, profiles).entries.find((e) => e.path.endsWith("/config.json"))?.path;

  test("config.json goes to kubelet's root: MicroK8s' on a MicroK8s node, else /var/lib/kubelet, or rootDir", () => {
    expect(path([{ kind: "kubelet" }])).toBe("/var/lib/kubelet/config.json");
    expect(path([{ kind: "microk8s" }, { kind: "kubelet" }])).toBe(
      "/var/snap/microk8s/common/var/lib/kubelet/config.json",
    );
    expect(path([{ kind: "kubelet" }, { kind: "microk8s", snapData: "/var/snap/microk8s/1234" }])).toBe(
      "/var/snap/microk8s/common/var/lib/kubelet/config.json",
    );
    expect(path([{ kind: "microk8s" }, { kind: "kubelet", rootDir: "/data/kubelet" }])).toBe(
      "/data/kubelet/config.json",
    );
    expect(path([{ kind: "kubelet", configJson: "/root/.docker/config.json" }])).toBe(
      "/root/.docker/config.json",
    );
    expect(refused(AUTH, [{ kind: "kubelet", rootDir: "/a", configJson: "/b/config.json" }])).toEqual([
      'profiles[0].configJson: is set together with rootDir ("/a"): kubelet reads config.json from its root directory, so set only rootDir (or only configJson for a file elsewhere)',
    ]);
  });

  const TOKEN = {
    "registry.example.com": { auth: { identityToken: "tok" } },
    "other.example.com": { auth: { username: "u", password: "fake" } },
  };

  test("identity tokens: refused when nothing on the node carries them, else left out with a warning", () => {
    expect(refused(TOKEN, [{ kind: "kubelet" }])).toEqual([
      'registries["registry.example.com"].auth: is an identity token, which kubelet does not read from config.json (it reads username, password and auth only), and no other profile of this node (profiles[0]) can carry it: give username and password, or add the node\'s runtime profile (containerd, microk8s, k3s or rke2), which writes the token where the runtime reads it',
    ]);
    const p = plan(TOKEN, [{ kind: "containerd" }, { kind: "kubelet" }]);
    expect(p.warnings.map((w) => `${w.path}: ${w.message}`)).toContain(
      "registries[\"registry.example.com\"].auth: is an identity token, which kubelet does not read from config.json (only username, password and auth): left out of profiles[1]'s config.json; the node's runtime profile carries it",
    );
    const json = p.entries.find((e) => e.path === "/var/lib/kubelet/config.json");
    expect(json?.kind === "file" && Object.keys(JSON.parse(json.content).auths)).toEqual([
      "other.example.com",
    ]);
    // Only a token: no config.json at all.
    expect(
      plan({ "registry.example.com": TOKEN["registry.example.com"] }, [
        { kind: "k3s" },
        { kind: "kubelet" },
      ]).entries.map((e) => e.path),
    ).toEqual(["/etc/rancher/k3s/registries.yaml"]);
  });
});

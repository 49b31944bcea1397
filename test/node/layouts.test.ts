/**
 * Issue 11: what the library does to each runtime version's own files, as goldens. The inputs are the runtimes'
 * real files (test/fixtures: `containerd config default` of containerd 1.6.20 (Debian's and upstream's), 1.7.29,
 * 2.0.0, 2.1.0, 2.2.3; MicroK8s' containerd-template.toml of 1.22, 1.23 and 1.36; k3s' documented registries.yaml
 * examples), each with its provenance on its first line. containerd and MicroK8s files are edited the way the node
 * does it (configPath.awk, then splice.awk, under Debian's mawk), and the TypeScript twins must agree byte for
 * byte. test/rig/versions.rig.test.ts loads every 1.x result in the real containerd 1.6.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { RegistriesArgs } from "../../components/model/types";
import { ConfigPathEntry, BlockEntry, planNode, RuntimeProfile } from "../../components/node";
import { normalizeRegistries } from "../../components/render";
import { enableConfigPath, parseToml, REGISTRY_TABLE, tomlGet } from "../../components/render/configPath";
import { spliceManagedBlock } from "../../components/render/managedBlock";
import { pem } from "../helpers/fixtures";
import { expectGolden } from "../helpers/golden";
import { editOnTheNode } from "../helpers/nodeEdit";

const FIXTURES = path.join(__dirname, "..", "fixtures");
const fixture = (file: string) => fs.readFileSync(path.join(FIXTURES, file), "utf8");

/** A declaration with a mirror, a CA and credentials: config_path and a CRI block are both needed. */
const DECL: RegistriesArgs = {
  "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] },
  "registry.example.com:5443": {
    tls: { ca: pem.ca },
    auth: { username: "ci-bot", password: "fake-password" },
  },
};

/** The one entry of a plan that edits a file others own. */
function ownedEntry(profiles: RuntimeProfile[], decl: RegistriesArgs = DECL): ConfigPathEntry | BlockEntry {
  const plan = planNode(normalizeRegistries(decl), { node: "n1", owner: "registries", profiles });
  const entry = plan.entries.find((e) => e.kind === "config-path" || e.kind === "block");
  if (entry?.kind !== "config-path" && entry?.kind !== "block") throw new Error("no config entry");
  return entry;
}

/** What p_final does to a file for a config-path or block entry, with the node's awk programs. */
const onTheNode = (existing: string, entry: ConfigPathEntry | BlockEntry): string =>
  editOnTheNode(existing, entry);

/** The same edit with the TypeScript twins. */
function inTypeScript(existing: string, entry: ConfigPathEntry | BlockEntry): string {
  const text =
    entry.kind === "config-path"
      ? enableConfigPath(existing, { configPath: entry.hostsDir, containerdMajor: entry.containerdMajor })
          .content
      : existing;
  return spliceManagedBlock(text, entry.blockId, entry.body)!;
}

/** containerd defaults by release, and the profile version that describes each. */
const CONTAINERD_DEFAULTS: [fixture: string, version: string][] = [
  ["config-default-1.6.20-debian.toml", "1.6.20"],
  ["config-default-1.6.20.toml", "1.6.20"],
  ["config-default-1.7.29.toml", "1.7.29"],
  ["config-default-2.0.0.toml", "2.0.0"],
  ["config-default-2.1.0.toml", "2.1.0"],
  ["config-default-2.2.3.toml", "2.2.3"],
];

describe("containerd: each release's own default config.toml, edited as the node edits it", () => {
  test.each(CONTAINERD_DEFAULTS)("%s (version %s)", (file, version) => {
    const stock = fixture(`containerd/${file}`);
    const entry = ownedEntry([{ kind: "containerd", version }]);
    const result = onTheNode(stock, entry);
    expect(inTypeScript(stock, entry)).toBe(result);
    expectGolden(`versions/containerd-${file}`, result);

    const doc = parseToml(result);
    if (doc instanceof Error) throw doc;
    const layout = version.startsWith("1.") ? 2 : 3;
    expect(doc.version).toBe(layout);
    expect(tomlGet(doc, [...REGISTRY_TABLE[layout], "config_path"])).toBe("/etc/containerd/certs.d");
    expect(tomlGet(doc, [...REGISTRY_TABLE[layout], "configs", "registry.example.com:5443", "auth"])).toEqual(
      {
        username: "ci-bot",
        password: "fake-password",
      },
    );
    // Only the config_path line and the appended block differ from the release's own file.
    const before = stock.split("\n");
    const changed = result.split("\n").filter((l, i) => l !== before[i] && i < before.length - 1);
    expect(changed).toEqual([expect.stringMatching(/^ +config_path = "\/etc\/containerd\/certs\.d"$/)]);
  });

  test("2.2.0/2.2.1 printed a two-directory default config_path: replaced by the one directory", () => {
    // The 2.2.3 output with 2.2.0's default value (containerd#12612, commit 5386802f8; no 2.2.0 binary was built).
    const stock = fixture("containerd/config-default-2.2.3.toml").replace(
      "config_path = ''",
      "config_path = '/etc/containerd/certs.d:/etc/docker/certs.d'",
    );
    const entry = ownedEntry([{ kind: "containerd", version: "2.2" }]);
    const result = onTheNode(stock, entry);
    expect(inTypeScript(stock, entry)).toBe(result);
    expect(result).toContain('    config_path = "/etc/containerd/certs.d"\n');
    // (The provenance line names the list too.)
    expect(result.slice(result.indexOf("\n"))).not.toContain("/etc/docker/certs.d");
  });
});

/** MicroK8s templates by release, and the declaration each is given. */
const MICROK8S_TEMPLATES: [fixture: string, version: string, decl: RegistriesArgs][] = [
  [
    "containerd-template-1.22.toml",
    "1.22",
    {
      "registry.k8s.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] },
      "registry.example.com:5443": DECL["registry.example.com:5443"],
    },
  ],
  ["containerd-template-1.23.toml", "1.23", DECL],
  ["containerd-template-current.toml", "1.36", DECL],
];

describe("MicroK8s: each release's own containerd-template.toml with our block spliced in", () => {
  test.each(MICROK8S_TEMPLATES)("%s (version %s)", (file, version, decl) => {
    const stock = fixture(`microk8s/${file}`);
    const entry = ownedEntry([{ kind: "microk8s", version }], decl);
    expect(entry.kind).toBe("block");
    const result = onTheNode(stock, entry);
    expect(inTypeScript(stock, entry)).toBe(result);
    expectGolden(`versions/microk8s-${file}`, result);
    expect(result.startsWith(stock)).toBe(true);
    // Every template is version 2, also on MicroK8s 1.35+ (containerd 2.x migrates it): so is the block.
    expect(entry.body).toMatch(/^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\./);
    expect(/config_path/.test(stock.slice(stock.indexOf("\n")))).toBe(version !== "1.22");
    expect(/registry\.mirrors\."registry\.k8s\.io"/.test(entry.body)).toBe(version === "1.22");
  });
});

/** k3s' documented examples, and the declaration that says the same. */
const K3S_EXAMPLES: [fixture: string, decl: RegistriesArgs, differences: string[]][] = [
  [
    "registries-tls-auth.yaml",
    {
      "docker.io": {
        mirrors: [
          {
            endpoint: "https://registry.example.com:5000",
            tls: { ca: pem.ca, clientCert: pem.clientCert, clientKey: pem.clientKey },
            auth: { username: "xxxxxx", password: "xxxxxx" },
          },
        ],
      },
    },
    [],
  ],
  [
    "registries-plain-http-auth.yaml",
    {
      "docker.io": {
        mirrors: [
          { endpoint: "http://registry.example.com:5000", auth: { username: "xxxxxx", password: "xxxxxx" } },
        ],
      },
    },
    [],
  ],
  [
    "registries-rewrite.yaml",
    {
      "docker.io": {
        mirrors: [
          {
            endpoint: "https://registry.example.com:5000",
            rewrite: { "^rancher/(.*)": "mirrorproject/rancher-images/$1" },
          },
        ],
      },
    },
    [],
  ],
  [
    "registries-wildcard.yaml",
    {
      _default: {
        mirrors: [{ endpoint: "https://registry.example.com:5000", tls: { insecureSkipVerify: true } }],
      },
    },
    // The doc sets TLS for every registry ("*") and exempts docker.io; the declaration sets it where it is used,
    // on the mirror's host: the same connections skip verification.
    ['configs."*"', 'configs."docker.io"', 'configs."registry.example.com:5000"'],
  ],
];

/** Every key path of a YAML document (`mirrors."docker.io".endpoint`), with null values as leaves. */
function keyPaths(v: unknown, prefix = ""): string[] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return [prefix];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) =>
    keyPaths(x, prefix ? `${prefix}.${/^[a-z_]+$/.test(k) ? k : JSON.stringify(k)}` : k),
  );
}

function at(doc: unknown, keyPath: string): unknown {
  return keyPath
    .split(/\.(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .reduce<unknown>((cur, k) => (cur as Record<string, unknown> | null)?.[k.replace(/^"(.*)"$/, "$1")], doc);
}

describe("k3s/RKE2: our registries.yaml has the shape of the documented examples", () => {
  test.each(K3S_EXAMPLES)("%s", (file, decl, differences) => {
    const documented = YAML.parse(fixture(`k3s/${file}`)) as unknown;
    const plan = planNode(normalizeRegistries(decl), { node: "n1", owner: "o", profiles: [{ kind: "k3s" }] });
    const entry = plan.entries.find((e) => e.path === "/etc/rancher/k3s/registries.yaml");
    if (entry?.kind !== "file") throw new Error("no registries.yaml");
    expectGolden(`versions/k3s-${file}`, entry.content);
    const ours = YAML.parse(entry.content) as unknown;
    // Round trip: what we write parses back to what we meant.
    expect(YAML.parse(YAML.stringify(ours))).toEqual(ours);
    // The same keys, except where a difference is named; the same values where the doc gives one (not a
    // placeholder: the doc leaves the TLS file paths empty, and ours are where we write the files).
    const theirs = new Set(keyPaths(documented));
    const mine = new Set(keyPaths(ours));
    const outside = (p: string) => !differences.some((d) => p === d || p.startsWith(`${d}.`));
    expect([...mine].filter(outside).sort()).toEqual([...theirs].filter(outside).sort());
    for (const p of [...theirs].filter(outside)) {
      const value = at(documented, p);
      if (value !== null) expect({ path: p, value: at(ours, p) }).toEqual({ path: p, value });
    }
    for (const p of [...mine].filter((k) => k.endsWith("_file"))) {
      expect(at(ours, p)).toMatch(/^\/etc\/rancher\/k3s\/registry-certs\/registry\.example\.com_5000\//);
    }
  });

  test("the embedded registry mirror's example is not something a declaration can say", () => {
    // Entries without endpoints make k3s' embedded mirror (Spegel, --embedded-registry) serve those registries
    // from other nodes; the declaration has no such setting, and a registry without mirrors writes nothing.
    const documented = YAML.parse(fixture("k3s/registries-embedded-mirror.yaml")) as Record<string, unknown>;
    expect(documented).toEqual({
      mirrors: {
        "docker.io": null,
        "registry.k8s.io": null,
        "mirror.example.com": { endpoint: ["https://mirror.example.com"] },
      },
    });
    const plan = planNode(
      normalizeRegistries({ "docker.io": {}, "registry.k8s.io": {}, "mirror.example.com": {} }),
      {
        node: "n1",
        owner: "o",
        profiles: [{ kind: "k3s" }],
      },
    );
    expect(plan.entries.map((e) => (e.kind === "file" ? e.content : ""))).toEqual(["{}\n"]);
  });
});

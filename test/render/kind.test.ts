import * as TOML from "@iarna/toml";
import * as YAML from "yaml";
import { ConfigError } from "../../components/model/errors";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { KindConfig, renderKindConfig } from "../../components/render/kind";
import { expectGolden } from "../helpers/golden";
import { pem } from "../helpers/fixtures";

/** The kind local-registry setup (kind docs) plus a Docker Hub mirror and a private registry. */
const ARGS: RegistriesArgs = {
  "localhost:5001": { fallback: false, mirrors: [{ endpoint: "http://kind-registry:5000" }] },
  "docker.io": { mirrors: [{ endpoint: "http://kind-registry:5000" }] },
  "registry.example.com": { auth: { username: "ci", password: "fake-password" }, tls: { ca: pem.ca } },
};

/** The kind Cluster document a user would write with the result, for review in a golden file. */
function clusterYaml(k: KindConfig): string {
  const node = k.extraMounts
    ? { role: "control-plane", extraMounts: k.extraMounts }
    : { role: "control-plane" };
  return YAML.stringify({
    kind: "Cluster",
    apiVersion: "kind.x-k8s.io/v1alpha4",
    containerdConfigPatches: k.containerdConfigPatches,
    nodes: [node],
  });
}

function filesListing(k: KindConfig): string {
  return k.files
    .map((f) => `# ${f.path} (mode ${f.mode.toString(8)}${f.secret ? ", secret" : ""})\n${f.content}`)
    .join("\n");
}

describe("renderKindConfig: config_path mode", () => {
  const k = renderKindConfig(normalizeRegistries(ARGS), { hostDir: "./registry-config" });

  test("golden cluster config and files", () => {
    expectGolden("kind/config_path-cluster.yaml", clusterYaml(k));
    expectGolden("kind/config_path-files.txt", filesListing(k));
  });

  test("one patch that sets config_path", () => {
    expect(k.containerdConfigPatches).toEqual([
      '[plugins."io.containerd.grpc.v1.cri".registry]\nconfig_path = "/etc/containerd/certs.d"\n',
    ]);
    expect(TOML.parse(k.containerdConfigPatches[0])).toEqual({
      plugins: { "io.containerd.grpc.v1.cri": { registry: { config_path: "/etc/containerd/certs.d" } } },
    });
  });

  test("files are relative to certsDir; hosts.toml names absolute node paths", () => {
    expect(k.files.map((f) => [f.path, f.mode, f.secret])).toEqual([
      ["docker.io/hosts.toml", 0o644, false],
      ["localhost:5001/hosts.toml", 0o644, false],
      ["registry.example.com/hosts.toml", 0o600, true],
      ["registry.example.com/ca.crt", 0o644, false],
    ]);
    expect(TOML.parse(k.files[1].content)).toEqual({
      server: "http://kind-registry:5000",
      capabilities: ["pull", "resolve"],
      host: {},
    });
    expect(TOML.parse(k.files[2].content).ca).toBe("/etc/containerd/certs.d/registry.example.com/ca.crt");
    expect(k.secret).toBe(true);
    expect(k.warnings).toEqual([]);
  });

  test("the host directory is mounted read-only at certsDir", () => {
    expect(k.extraMounts).toEqual([
      { hostPath: "./registry-config", containerPath: "/etc/containerd/certs.d", readOnly: true },
    ]);
    expect(renderKindConfig(normalizeRegistries(ARGS)).extraMounts).toBeUndefined();
  });

  test("a custom certsDir (trailing slash ignored)", () => {
    const c = renderKindConfig(
      normalizeRegistries({ "docker.io": { mirrors: [{ endpoint: "http://m:5000" }] } }),
      {
        certsDir: "/etc/registry.d/",
      },
    );
    expect(c.containerdConfigPatches[0]).toContain('config_path = "/etc/registry.d"');
    expect(c.files.map((f) => f.path)).toEqual(["docker.io/hosts.toml"]);
    expect(c.secret).toBe(false);
  });

  test("identity tokens cannot go into hosts.toml", () => {
    expect(() =>
      renderKindConfig(normalizeRegistries({ "r.example.com": { auth: { identityToken: "t" } } })),
    ).toThrow(ConfigError);
  });
});

describe("renderKindConfig: legacy mode", () => {
  const legacyArgs: RegistriesArgs = {
    "docker.io": { mirrors: [{ endpoint: "http://kind-registry:5000" }] },
    "registry.example.com": { auth: { username: "ci", password: "fake-password" } },
  };
  const k = renderKindConfig(normalizeRegistries(legacyArgs), { mode: "legacy" });

  test("golden cluster config", () => {
    expectGolden("kind/legacy-cluster.yaml", clusterYaml(k));
  });

  test("one patch with mirrors and configs, parsed", () => {
    expect(k.containerdConfigPatches).toHaveLength(1);
    expect(TOML.parse(k.containerdConfigPatches[0])).toEqual({
      plugins: {
        "io.containerd.grpc.v1.cri": {
          registry: {
            mirrors: {
              "docker.io": { endpoint: ["http://kind-registry:5000", "https://registry-1.docker.io"] },
              "registry.example.com": { endpoint: ["https://registry.example.com"] },
            },
            configs: { "registry.example.com": { auth: { username: "ci", password: "fake-password" } } },
          },
        },
      },
    });
    expect(k.files).toEqual([]);
    expect(k.secret).toBe(true);
    expect(k.extraMounts).toBeUndefined();
  });

  test("TLS files are written, with a warning about containerd 2.x", () => {
    const c = renderKindConfig(normalizeRegistries({ "r.example.com": { tls: { ca: pem.ca } } }), {
      mode: "legacy",
      hostDir: "/srv/kind-certs",
    });
    expect(c.files.map((f) => f.path)).toEqual(["r.example.com/ca.crt"]);
    expect(TOML.parse(c.containerdConfigPatches[0])).toMatchObject({
      plugins: {
        "io.containerd.grpc.v1.cri": {
          registry: {
            configs: {
              "r.example.com": { tls: { ca_file: "/etc/containerd/certs.d/r.example.com/ca.crt" } },
            },
          },
        },
      },
    });
    expect(c.warnings).toEqual([
      {
        path: 'registries["r.example.com"].tls',
        message:
          "is ignored by kind node images with containerd 2.x (v0.27 and later), which have no registry.configs.tls: use mode config_path",
      },
    ]);
    expect(c.extraMounts).toEqual([
      { hostPath: "/srv/kind-certs", containerPath: "/etc/containerd/certs.d", readOnly: true },
    ]);
  });

  test("fallback: false cannot be expressed", () => {
    expect(() =>
      renderKindConfig(
        normalizeRegistries({
          "gcr.io": { fallback: false, mirrors: [{ endpoint: "https://m.example.com" }] },
        }),
        {
          mode: "legacy",
        },
      ),
    ).toThrow(/false \(no fallback\) cannot be expressed in the CRI registry.mirrors form/);
  });

  test("an empty model gives no patch", () => {
    expect(renderKindConfig({ registries: [] }, { mode: "legacy" })).toEqual({
      containerdConfigPatches: [],
      files: [],
      warnings: [],
      secret: false,
    });
  });
});

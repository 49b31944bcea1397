/**
 * `rewrite` on a mirror: the normaliser's rules, registries.yaml (the one format that can express it), and
 * every other format refusing it with the same message.
 */
import * as YAML from "yaml";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs, RegistryModel } from "../../components/model/types";
import { renderAnthosRegistryMirrors } from "../../components/render/anthos";
import { renderCriRegistryBlock } from "../../components/render/criRegistry";
import { renderRegistriesConf } from "../../components/render/crio";
import { dockerDaemonEntries } from "../../components/render/daemonJson";
import { renderDockerConfigJson } from "../../components/render/dockerConfigJson";
import { renderHostsDirectories } from "../../components/render/hostsToml";
import { renderK0sImagesRepository, renderK0sRegistries } from "../../components/render/k0s";
import { renderKindConfig } from "../../components/render/kind";
import { renderKubeadmImageRepository } from "../../components/render/kubeadm";
import { renderRegistriesYaml } from "../../components/render/registriesYaml";
import { renderTalosRegistries } from "../../components/render/talos";
import { expectGolden } from "../helpers/golden";
import { thrown } from "../helpers/thrown";

const REWRITE = { "^rancher/(.*)": "mirrorproject/rancher-images/$1" };
const ARGS: RegistriesArgs = {
  "docker.io": { mirrors: [{ endpoint: "https://registry.example.com:5000", rewrite: REWRITE }] },
};
const yaml = (args: RegistriesArgs, disableDefaultEndpoint = false) =>
  renderRegistriesYaml(normalizeRegistries(args), {
    certsDir: "/etc/rancher/k3s/certs.d",
    disableDefaultEndpoint,
  });

function problems(args: unknown): string[] {
  return thrown(() => normalizeRegistries(args as RegistriesArgs)).problems.map(
    (p) => `${p.path}: ${p.message}`,
  );
}

describe("rewrite in the declaration", () => {
  test("normalised with patterns sorted; absent when not declared", () => {
    const [reg] = normalizeRegistries({
      "docker.io": {
        mirrors: [
          { endpoint: "https://m.example.com", rewrite: { "^z/(.*)": "a/$1", "^a/(.*)": "b/$1" } },
          { endpoint: "https://n.example.com" },
        ],
      },
    }).registries;
    expect(Object.keys(reg.mirrors[0].rewrite ?? {})).toEqual(["^a/(.*)", "^z/(.*)"]);
    expect("rewrite" in reg.mirrors[1]).toBe(false);
  });

  test.each([
    [
      "an empty map",
      {},
      [
        'registries["docker.io"].mirrors[0].rewrite: must be a non-empty map of regular expression to replacement, e.g. { "^rancher/(.*)": "mirror/rancher/$1" }',
      ],
    ],
    [
      "a list",
      ["x"],
      [
        'registries["docker.io"].mirrors[0].rewrite: must be a non-empty map of regular expression to replacement, e.g. { "^rancher/(.*)": "mirror/rancher/$1" }',
      ],
    ],
    [
      "a broken pattern",
      { "^(a": "b" },
      [
        'registries["docker.io"].mirrors[0].rewrite["^(a"]: is not a valid regular expression (Invalid regular expression: /^(a/: Unterminated group)',
      ],
    ],
    [
      "lookahead",
      { "^(?=a)b": "c" },
      [
        'registries["docker.io"].mirrors[0].rewrite["^(?=a)b"]: uses lookaround or a backreference, which Go\'s RE2 (used by k3s) does not support: rewrite the pattern without them',
      ],
    ],
    [
      "a backreference",
      { "^(a)\\1": "c" },
      [
        'registries["docker.io"].mirrors[0].rewrite["^(a)\\\\1"]: uses lookaround or a backreference, which Go\'s RE2 (used by k3s) does not support: rewrite the pattern without them',
      ],
    ],
    [
      "an empty replacement",
      { "^a": "" },
      [
        'registries["docker.io"].mirrors[0].rewrite["^a"]: the replacement must be a non-empty string without control characters, e.g. "mirror/$1"',
      ],
    ],
  ])("rejects %s", (_name, rewrite, expected) => {
    expect(problems({ "docker.io": { mirrors: [{ endpoint: "https://m.example.com", rewrite }] } })).toEqual(
      expected,
    );
  });
});

describe("registries.yaml renders rewrite", () => {
  test("golden: the k3s documentation's example", () => {
    const out = yaml(ARGS);
    expectGolden("registriesYaml/rewrite.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      mirrors: { "docker.io": { endpoint: ["https://registry.example.com:5000"], rewrite: REWRITE } },
    });
    expect(YAML.parse(out.content, { version: "1.1" })).toEqual(YAML.parse(out.content));
  });

  test("two mirrors with the same rewrite: one map", () => {
    const out = yaml({
      "docker.io": {
        mirrors: [
          { endpoint: "https://a.example.com", rewrite: REWRITE },
          { endpoint: "https://b.example.com", rewrite: REWRITE },
        ],
      },
    });
    expect(YAML.parse(out.content).mirrors["docker.io"].rewrite).toEqual(REWRITE);
  });

  test.each([
    [
      "mirrors with different rewrites",
      {
        "docker.io": {
          mirrors: [
            { endpoint: "https://a.example.com", rewrite: REWRITE },
            { endpoint: "https://b.example.com" },
          ],
        },
      },
      false,
      'registries["docker.io"].mirrors[1].rewrite: differs from registries["docker.io"].mirrors[0].rewrite: k3s applies one rewrite to every endpoint of "docker.io"; give every mirror of the registry the same rewrite',
    ],
    [
      "a custom server listed after the mirrors",
      {
        "ghcr.io": {
          server: "https://proxy.example.com",
          mirrors: [{ endpoint: "https://a.example.com", rewrite: REWRITE }],
        },
      },
      false,
      'registries["ghcr.io"].mirrors[0].rewrite: k3s would also rewrite requests to the server "https://proxy.example.com", which registries.yaml lists after the mirrors; drop the rewrite, or set fallback: false',
    ],
    [
      "the default server listed explicitly (disableDefaultEndpoint)",
      { "quay.io": { mirrors: [{ endpoint: "https://a.example.com", rewrite: REWRITE }] } },
      true,
      'registries["quay.io"].mirrors[0].rewrite: k3s would also rewrite requests to the server "https://quay.io", which registries.yaml lists after the mirrors; drop the rewrite, or set fallback: false',
    ],
  ] as [string, RegistriesArgs, boolean, string][])("error: %s", (_name, args, disable, message) => {
    expect(thrown(() => yaml(args, disable)).message).toBe(message);
  });

  test("fallback: false with disableDefaultEndpoint: the rewrite applies to the mirrors only", () => {
    const out = yaml(
      { "quay.io": { fallback: false, mirrors: [{ endpoint: "https://a.example.com", rewrite: REWRITE }] } },
      true,
    );
    expect(YAML.parse(out.content).mirrors["quay.io"]).toEqual({
      endpoint: ["https://a.example.com"],
      rewrite: REWRITE,
    });
  });
});

describe("every other format refuses a rewrite", () => {
  const model: RegistryModel = normalizeRegistries({
    ...ARGS,
    "quay.io": {
      mirrors: [
        { endpoint: "https://registry.example.com:5000/v2/quay", overridePath: true, rewrite: { "^a": "b" } },
      ],
    },
  });
  const msg = (format: string, reg: string, url: string) =>
    `registries["${reg}"].mirrors[0].rewrite: ${format} cannot rewrite repository paths: nodes would fetch repositories from "${url}" unchanged, not rewritten; declare rewrites only where every node reads registries.yaml (k3s/RKE2), or lay the mirror out like the upstream (a fixed prefix fits a path endpoint with overridePath)`;
  const both = (format: string) => [
    msg(format, "docker.io", "https://registry.example.com:5000"),
    msg(format, "quay.io", "https://registry.example.com:5000/v2/quay"),
  ];

  test.each([
    [
      "containerd hosts.toml",
      () => renderHostsDirectories(model, { certsDir: "/etc/containerd/certs.d" }),
      both("containerd hosts.toml"),
    ],
    [
      "the containerd CRI block",
      () =>
        renderCriRegistryBlock(model, {
          certsDir: "/etc/containerd/certs.d",
          configVersion: 2,
          auth: true,
          tls: true,
          mirrors: false,
        }),
      both("the containerd CRI registry block"),
    ],
    [
      "CRI-O registries.conf",
      () => renderRegistriesConf(model),
      both("registries.conf (CRI-O, podman, skopeo)"),
    ],
    ["Docker daemon.json", () => dockerDaemonEntries(model), both("Docker's daemon.json")],
    ["kind (hosts.toml)", () => renderKindConfig(model), both("containerd hosts.toml")],
    ["Talos", () => renderTalosRegistries(model), both("Talos registry config")],
    ["Anthos registryMirrors", () => renderAnthosRegistryMirrors(model), both("Anthos registryMirrors")],
    ["k0s (hosts.toml)", () => renderK0sRegistries(model), both("containerd hosts.toml")],
  ])("%s", (_name, render, expected) => {
    expect(thrown(render).problems.map((p) => `${p.path}: ${p.message}`)).toEqual(expected);
  });

  test("kubeadm and k0s images.repository refuse a rewrite on the mirror they name", () => {
    const k8s = normalizeRegistries({
      "registry.k8s.io": { mirrors: [{ endpoint: "https://m.example.com", rewrite: { "^a": "b" } }] },
    });
    expect(thrown(() => renderKubeadmImageRepository(k8s)).message).toBe(
      'registries["registry.k8s.io"].mirrors[0].rewrite: kubeadm imageRepository cannot rewrite repository paths: the system images would be fetched from "https://m.example.com" unchanged; drop the rewrite or lay the mirror out like registry.k8s.io',
    );
    expect(thrown(() => renderK0sImagesRepository(model)).message).toBe(
      'registries["quay.io"].mirrors[0].rewrite: k0s spec.images.repository cannot rewrite repository paths: the system images would be fetched from "https://registry.example.com:5000/v2/quay" unchanged; drop the rewrite or lay the mirror out like quay.io',
    );
  });

  test(".dockerconfigjson is keyed by host and does not care", () => {
    expect(renderDockerConfigJson(model)).toBeUndefined();
  });
});

import * as YAML from "yaml";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { renderKubeadmImageRepository } from "../../components/render/kubeadm";
import { pem } from "../helpers/fixtures";
import { expectGolden } from "../helpers/golden";
import { thrown } from "../helpers/thrown";

const render = (args: RegistriesArgs, apiVersion?: "kubeadm.k8s.io/v1beta3") =>
  renderKubeadmImageRepository(normalizeRegistries(args), apiVersion ? { apiVersion } : {});

const ALIYUN: RegistriesArgs = {
  "registry.k8s.io": {
    mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
  },
};

describe("renderKubeadmImageRepository", () => {
  test("golden: the aliyun namespace mirror; CoreDNS keeps the upstream layout", () => {
    const out = render(ALIYUN);
    expectGolden("kubeadm/aliyun.yaml", out.content as string);
    expect(YAML.parse(out.content as string)).toEqual({
      apiVersion: "kubeadm.k8s.io/v1beta4",
      kind: "ClusterConfiguration",
      imageRepository: "registry.aliyuncs.com/google_containers",
      dns: { imageRepository: "registry.aliyuncs.com/google_containers/coredns" },
    });
    expect(out.warnings).toEqual([
      {
        path: 'registries["registry.k8s.io"].mirrors[0]',
        message:
          "kubeadm imageRepository renames the images to registry.aliyuncs.com/google_containers/…: only this mirror is used for them, with no fallback to registry.k8s.io and none to later mirrors",
      },
    ]);
  });

  test("golden: v1beta3, a plain-HTTP mirror at the root", () => {
    const out = render(
      {
        "registry.k8s.io": {
          mirrors: [{ endpoint: "http://10.0.0.5:5000" }, { endpoint: "https://second.example.com" }],
        },
      },
      "kubeadm.k8s.io/v1beta3",
    );
    expectGolden("kubeadm/plain-http-v1beta3.yaml", out.content as string);
    expect(YAML.parse(out.content as string).imageRepository).toBe("10.0.0.5:5000");
    expect(out.warnings.map((w) => w.message)[1]).toBe(
      'the runtime now pulls from 10.0.0.5:5000 as a registry of its own: declare registry "10.0.0.5:5000" with plainHttp: true so that the nodes\' files carry it',
    );
  });

  test("the mirror host declared as a registry of its own: no second warning", () => {
    const out = render({ ...ALIYUN, "registry.aliyuncs.com": {} });
    expect(out.warnings).toHaveLength(1);
    const http = render({
      "registry.k8s.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] },
      "10.0.0.5:5000": { plainHttp: true },
    });
    expect(http.warnings).toHaveLength(1);
  });

  test("CA and credentials of the mirror must be declared for its host", () => {
    const out = render({
      "registry.k8s.io": {
        mirrors: [
          { endpoint: "https://m.example.com", tls: { ca: pem.ca }, auth: { username: "u", password: "p" } },
        ],
      },
    });
    expect(out.warnings[1].message).toBe(
      'the runtime now pulls from m.example.com as a registry of its own: declare registry "m.example.com" with tls.ca, auth so that the nodes\' files carry it',
    );
  });

  test("stable whatever the declaration order", () => {
    const args: RegistriesArgs = {
      ...ALIYUN,
      "docker.io": { mirrors: [{ endpoint: "https://m.example.com" }] },
      "registry.aliyuncs.com": {},
    };
    expect(render(Object.fromEntries(Object.entries(args).reverse()))).toEqual(render(args));
  });

  test("no registry.k8s.io mirror: nothing to render", () => {
    expect(render({ "docker.io": { mirrors: [{ endpoint: "https://m.example.com" }] } })).toEqual({
      warnings: [],
    });
    expect(
      render({
        "registry.k8s.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["push"] }] },
      }),
    ).toEqual({
      warnings: [],
    });
  });

  test("error: a path that is not /v2/<namespace>", () => {
    expect(
      thrown(() =>
        render({
          "registry.k8s.io": { mirrors: [{ endpoint: "https://m.example.com/k8s", overridePath: true }] },
        }),
      ).message,
    ).toBe(
      'registries["registry.k8s.io"].mirrors[0].endpoint: "https://m.example.com/k8s": kubeadm imageRepository names a repository host[:port][/namespace], so the mirror path must be empty or "/v2/<namespace>"',
    );
  });
});

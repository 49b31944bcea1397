import * as TOML from "@iarna/toml";
import * as YAML from "yaml";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { renderK0sImagesRepository, renderK0sRegistries } from "../../components/render/k0s";
import { pem } from "../helpers/fixtures";
import { expectGolden } from "../helpers/golden";
import { thrown } from "../helpers/thrown";

const ARGS: RegistriesArgs = {
  "docker.io": {
    mirrors: [
      { endpoint: "https://docker-mirror.internal.acme.corp:5000", tls: { ca: pem.ca } },
      { endpoint: "https://mirror.gcr.io" },
    ],
  },
  "quay.io": { mirrors: [{ endpoint: "https://registry.example.com/v2/quay", overridePath: true }] },
};

describe("renderK0sRegistries", () => {
  test("golden: containerd 2 drop-in (k0s >= 1.36.1) and the hosts directory", () => {
    const out = renderK0sRegistries(normalizeRegistries(ARGS));
    const dropIn = out.files.find((f) => f.path === "/etc/k0s/containerd.d/registries.toml")!;
    expectGolden("k0s/drop-in-containerd2.toml", dropIn.content);
    expect(TOML.parse(dropIn.content)).toEqual({
      version: 3,
      plugins: {
        "io.containerd.cri.v1.images": { registry: { config_path: "/etc/k0s/containerd.d/certs.d" } },
      },
    });
    // k0s >= 1.36.1 refuses a drop-in with a version-2 CRI table (pkg/component/worker/containerd/configurer.go).
    expect(dropIn.content).not.toContain("io.containerd.grpc.v1.cri");
    expect(out.files.map((f) => f.path)).toEqual([
      "/etc/k0s/containerd.d/certs.d/docker.io/hosts.toml",
      "/etc/k0s/containerd.d/certs.d/docker.io/mirror-docker-mirror.internal.acme.corp_5000.crt",
      "/etc/k0s/containerd.d/certs.d/quay.io/hosts.toml",
      "/etc/k0s/containerd.d/registries.toml",
    ]);
    expect(out.files.every((f) => f.path.startsWith("/etc/k0s/containerd.d/"))).toBe(true);
    // The drop-in is the only *.toml directly in the imports directory (k0s imports containerd.d/*.toml).
    expect(
      out.files.filter((f) => /^\/etc\/k0s\/containerd\.d\/[^/]+\.toml$/.test(f.path)).map((f) => f.path),
    ).toEqual(["/etc/k0s/containerd.d/registries.toml"]);
    for (const f of out.files.filter((x) => x.path.endsWith("hosts.toml"))) TOML.parse(f.content);
  });

  test("golden: containerd 1.7 drop-in (k0s 1.27-1.35), another hosts directory", () => {
    const out = renderK0sRegistries(normalizeRegistries(ARGS), {
      containerd: 1,
      certsDir: "/etc/k0s/certs.d",
    });
    const dropIn = out.files.find((f) => f.path.endsWith("registries.toml"))!;
    expectGolden("k0s/drop-in-containerd1.toml", dropIn.content);
    expect(TOML.parse(dropIn.content)).toEqual({
      version: 2,
      plugins: { "io.containerd.grpc.v1.cri": { registry: { config_path: "/etc/k0s/certs.d" } } },
    });
  });

  test("stable whatever the declaration order", () => {
    const reversed = Object.fromEntries(Object.entries(ARGS).reverse());
    expect(renderK0sRegistries(normalizeRegistries(reversed))).toEqual(
      renderK0sRegistries(normalizeRegistries(ARGS)),
    );
  });

  test("error: the hosts directory cannot be the drop-in directory itself", () => {
    expect(
      thrown(() => renderK0sRegistries(normalizeRegistries(ARGS), { certsDir: "/etc/k0s/containerd.d/" }))
        .message,
    ).toBe(
      "certsDir: must not be /etc/k0s/containerd.d itself: use a sub-directory such as /etc/k0s/containerd.d/certs.d",
    );
  });
});

describe("renderK0sImagesRepository", () => {
  test("golden: quay.io's namespace mirror becomes spec.images.repository", () => {
    const out = renderK0sImagesRepository(normalizeRegistries(ARGS));
    expectGolden("k0s/images-repository.yaml", out.content as string);
    expect(YAML.parse(out.content as string)).toEqual({
      spec: { images: { repository: "registry.example.com/quay" } },
    });
    expect(out.warnings).toEqual([
      {
        path: 'registries["quay.io"].mirrors[0]',
        message:
          "k0s spec.images.repository renames the images to registry.example.com/quay/…: only this mirror is used for them, with no fallback to quay.io and none to later mirrors",
      },
    ]);
  });

  test("no quay.io mirror: nothing", () => {
    expect(
      renderK0sImagesRepository(
        normalizeRegistries({ "docker.io": { mirrors: [{ endpoint: "https://m.example.com" }] } }),
      ),
    ).toEqual({
      warnings: [],
    });
  });
});

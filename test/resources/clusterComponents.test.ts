/**
 * `MicroK8sRegistryAddon` and `SideLoad` under `pulumi.runtime.setMocks`: the resources they register (fixed command
 * texts, the script on stdin, CopyToRemote with a file asset, dependencies), their outputs, and every argument they
 * refuse at construction, by property path.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as AddonModule from "../../components/resources/microk8sAddon";
import type * as SideLoadModule from "../../components/resources/sideLoad";
import type { ClusterNode } from "../../components";
import { installMocks, promiseOf, unwrap } from "../helpers/pulumiMocks";

const mocks = installMocks({
  stdout: (_args, script) => {
    const key = /^L_KEY='([^']*)'$/m.exec(script)?.[1];
    const refs = [...script.matchAll(/^(docker\.io\/\S+) /gm)].map((m) => m[1]);
    return key
      ? `log\nPULUMI_SIDELOAD ${JSON.stringify({ key, action: "imported", imported: true, sha256: "x", refs })}\n`
      : "";
  },
});
let Addon: typeof AddonModule;
let Side: typeof SideLoadModule;
beforeAll(async () => {
  Addon = await import("../../components/resources/microk8sAddon");
  Side = await import("../../components/resources/sideLoad");
});

const node = (
  name: string,
  profiles: ClusterNode["profiles"],
  extra: Partial<ClusterNode> = {},
): ClusterNode => ({
  name,
  connection: { host: "10.0.0.11", user: "root", privateKey: "k", hostKey: "ssh-ed25519 AAAA" },
  profiles,
  ...extra,
});
const MK = node("mk1", [{ kind: "microk8s" }]);

async function attempt(fn: () => unknown): Promise<Error | undefined> {
  try {
    fn();
  } catch (e) {
    await mocks.settle();
    return e as Error;
  }
  await mocks.settle();
  return undefined;
}

describe("MicroK8sRegistryAddon", () => {
  test("one remote.Command: fixed command texts, the script on stdin, no triggers, delete before replace", async () => {
    const a = new Addon.MicroK8sRegistryAddon("reg", {
      node: MK,
      size: "40Gi",
      storageClass: "fast",
      keepData: true,
    });
    expect(await promiseOf(a.endpoint)).toBe("10.0.0.11:32000");
    await mocks.settle();
    const c = mocks.one("reg-addon");
    expect(c.type).toBe("command:remote:Command");
    expect(c.inputs).toMatchObject({
      create: "/bin/sh -s -- apply",
      update: "/bin/sh -s -- apply",
      delete: "/bin/sh -s -- destroy",
      triggers: [],
      addPreviousOutputInEnv: false,
    });
    expect(c.deleteBeforeReplace).toBe(true);
    const script = unwrap<string>(c.inputs.stdin);
    for (const line of [
      "A_MICROK8S='/snap/bin/microk8s'",
      "A_SIZE='40Gi'",
      "A_CLASS='fast'",
      "A_KEEP=1",
      "A_TIMEOUT=300",
      "A_NAME='reg-addon'",
    ]) {
      expect(script).toContain(`\n${line}\n`);
    }
    // The whole script is POSIX sh that dash parses and shellcheck accepts.
    expect(spawnSync("dash", ["-n"], { input: script }).status).toBe(0);
    const sc = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" });
    expect(sc.stdout).toBe("");
    expect(mocks.registrations.find((r) => r.name === "reg")?.outputs).toEqual({
      endpoint: "10.0.0.11:32000",
    });
  });

  test("sudo and an IPv6 host", async () => {
    const n = node("mk6", [{ kind: "microk8s" }], {
      sudo: true,
      connection: { host: "fd00::11", user: "ubuntu" },
    });
    const a = new Addon.MicroK8sRegistryAddon("reg6", { node: n, size: "20Gi" });
    expect(await promiseOf(a.endpoint)).toBe("[fd00::11]:32000");
    await mocks.settle();
    expect(mocks.one("reg6-addon").inputs).toMatchObject({
      create: "sudo -n /bin/sh -s -- apply",
      delete: "sudo -n /bin/sh -s -- destroy",
    });
  });

  test.each([
    [
      { size: "19Gi" },
      /^size: "19Gi" is not allowed: MicroK8s' registry addon takes a whole number of Gi, at least 20/,
    ],
    [{ size: "020Gi" }, /^size: "020Gi" is not allowed/],
    [{ size: "40G" }, /^size: "40G" is not allowed/],
    [{ size: "1Ti" }, /^size: "1Ti" is not allowed/],
    [{ size: "40Gi", storageClass: "Fast_SSD" }, /^storageClass: "Fast_SSD" is not a StorageClass name/],
    [{ size: "40Gi", keepData: "yes" }, /^keepData: /],
    [{ size: "40Gi", sizes: "x" }, /^sizes: is not an argument of MicroK8sRegistryAddon/],
    [{ size: "40Gi", node: node("c1", [{ kind: "containerd" }]) }, /^node.profiles: has no microk8s profile/],
    [
      { size: "40Gi", node: { ...MK, connection: { host: "bad host!" } } },
      /node.connection.host: "bad host!" is not a host name/,
    ],
  ])("refused at construction: %j", async (args, message) => {
    const e = await attempt(
      () =>
        new Addon.MicroK8sRegistryAddon("bad", {
          node: MK,
          ...(args as object),
        } as AddonModule.MicroK8sRegistryAddonArgs),
    );
    expect(e).toBeInstanceOf(pulumi.ResourceError);
    expect(e!.message).toMatch(message);
  });

  test.each(["20Gi", "99Gi", "100Gi", "1000Gi"])("size %s is accepted (MicroK8s' rule)", async (size) => {
    expect(
      await attempt(() => new Addon.MicroK8sRegistryAddon(`ok-${size}`, { node: MK, size })),
    ).toBeUndefined();
  });
});

describe("SideLoad", () => {
  let dir: string;
  let oci: string;
  let dockerTar: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sideload-unit-"));
    const src = path.join(dir, "src");
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const digest = `sha256:${"1".repeat(64)}`;
    fs.writeFileSync(
      path.join(src, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { digest, size: 1, annotations: { "org.opencontainers.image.ref.name": "docker.io/rig/app:v1" } },
        ],
      }),
    );
    oci = path.join(dir, "app.tar");
    execFileSync("tar", ["-C", src, "-cf", oci, "oci-layout", "index.json"]);
    const src2 = path.join(dir, "src2");
    fs.mkdirSync(src2);
    fs.writeFileSync(
      path.join(src2, "manifest.json"),
      JSON.stringify([{ Config: `${"2".repeat(64)}.json`, RepoTags: ["rig/tools:v1"], Layers: [] }]),
    );
    dockerTar = path.join(dir, "tools.tar");
    execFileSync("tar", ["-C", src2, "-cf", dockerTar, "manifest.json"]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("per node and tarball: a CopyToRemote of a file asset, then an import that depends on it and on the previous one", async () => {
    const nodes = [
      node("a", [{ kind: "containerd" }, { kind: "kubelet" }]),
      node("b", [{ kind: "microk8s" }], { sudo: true }),
    ];
    const s = new Side.SideLoad("sl", {
      nodes,
      images: [{ path: oci, format: "oci-archive" }, { path: dockerTar }],
      owner: "team",
    });
    expect(await promiseOf(s.imported)).toEqual({
      a: ["docker.io/rig/app:v1", "docker.io/rig/tools:v1"],
      b: ["docker.io/rig/app:v1", "docker.io/rig/tools:v1"],
    });
    await mocks.settle();
    const copy = mocks.one("sl-a-app.tar-copy");
    expect(copy.type).toBe("command:remote:CopyToRemote");
    expect(copy.inputs.remotePath).toBe("/var/tmp/pulumi-registries/sideload/team/app.tar");
    const source = copy.inputs.source as pulumi.asset.FileAsset;
    expect(source).toBeInstanceOf(pulumi.asset.FileAsset);
    expect(await source.path).toBe(oci);
    const imp = mocks.one("sl-b-tools.tar-import");
    expect(imp.inputs).toMatchObject({
      create: "sudo -n /bin/sh -s -- apply",
      delete: "sudo -n /bin/sh -s -- destroy",
      triggers: [],
    });
    const urn = (n: string) => mocks.one(n).urn;
    expect(imp.dependencies.sort()).toEqual([urn("sl-b-app.tar-import"), urn("sl-b-tools.tar-copy")].sort());
    const script = unwrap<string>(imp.inputs.stdin);
    const sha = execFileSync("sha256sum", [dockerTar], { encoding: "utf8" }).slice(0, 64);
    expect(script).toContain(`\nL_SHA='${sha}'\n`);
    expect(script).toContain(
      "\nl_tool() { '/snap/microk8s/current/bin/ctr' '--address' '/var/snap/microk8s/common/run/containerd.sock' '-n' 'k8s.io' \"$@\"; }\n",
    );
    expect(script).toContain("\ndocker.io/rig/tools:v1 -\n"); // docker-archive: containerd synthesizes the digest
    expect(unwrap<string>(mocks.one("sl-a-app.tar-import").inputs.stdin)).toContain(
      `\ndocker.io/rig/app:v1 sha256:${"1".repeat(64)}\n`,
    );
    expect(unwrap<string>(mocks.one("sl-a-app.tar-import").inputs.stdin)).toContain(
      "\nl_tool() { 'ctr' '--address' '/run/containerd/containerd.sock' '-n' 'k8s.io' \"$@\"; }\n",
    );
    expect(spawnSync("dash", ["-n"], { input: script }).status).toBe(0);
    expect(spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" }).stdout).toBe("");
  });

  test.each([
    [[{ kind: "k3s" }], ["k3s", "ctr", "-n", "k8s.io"]],
    [
      [{ kind: "rke2", role: "agent" }],
      ["/var/lib/rancher/rke2/bin/ctr", "--address", "/run/k3s/containerd/containerd.sock", "-n", "k8s.io"],
    ],
    [[{ kind: "kubelet" }, { kind: "docker" }], ["/usr/bin/docker"]],
    [
      [{ kind: "containerd", ctr: "/opt/bin/ctr", socket: "/run/c.sock" }, { kind: "docker" }],
      ["/opt/bin/ctr", "--address", "/run/c.sock", "-n", "k8s.io"],
    ],
  ])("the import tool of %j", (profiles, argv) => {
    expect(Side.importTool(profiles as ClusterNode["profiles"]).argv).toEqual(argv);
  });

  test.each([
    [{ images: [] }, /^images: must list at least one image tarball/],
    [
      { images: [{ path: "/nonexistent/x.tar" }] },
      /^images\[0\]\.path: "\/nonexistent\/x.tar" cannot be read: ENOENT/,
    ],
    [{ images: "OCI" }, /images: must list at least one/],
    [{ owner: "Team A" }, /^owner: "Team A" must match/],
    [
      { nodes: [node("c", [{ kind: "crio" }])] },
      /^nodes\[0\]\.profiles: is a CRI-O node: side-loading into CRI-O's containers\/storage is not supported/,
    ],
    [
      { nodes: [node("k", [{ kind: "kubelet" }])] },
      /^nodes\[0\]\.profiles: has no profile that holds images/,
    ],
    [
      { nodes: [node("d", [{ kind: "docker" }])], format: "oci" },
      /^images\[0\]\.format: node "d" loads images with docker load, which needs a docker-archive/,
    ],
    [{ format: "docker" }, /^images\[0\]\.format: "docker-archive", but the tarball is an OCI image layout/],
    [{ twice: true }, /^images\[1\]\.path: .* has the file name of images\[0\] \(app.tar\)/],
    [{ extra: 1 }, /^extra: is not an argument of SideLoad/],
  ])("refused at construction: %j", async (o, message) => {
    const opts = o as Record<string, unknown>;
    const images =
      opts.images ??
      (opts.twice
        ? [
            { path: oci, format: "oci-archive" },
            { path: oci, format: "oci-archive" },
          ]
        : [{ path: oci, ...(opts.format === "docker" ? {} : { format: "oci-archive" }) }]);
    const args = {
      nodes: opts.nodes ?? [node("a", [{ kind: "containerd" }])],
      images,
      ...(opts.owner ? { owner: opts.owner } : {}),
      ...(opts.extra ? { extra: 1 } : {}),
    };
    const e = await attempt(
      () => new Side.SideLoad("bad", args as unknown as SideLoadModule.SideLoadComponentArgs),
    );
    expect(e).toBeInstanceOf(pulumi.ResourceError);
    expect(e!.message).toMatch(message);
  });
});

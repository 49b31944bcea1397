/**
 * Issue 11 on the rig: runtime versions and layouts, proven with the real consumers.
 *
 * - The real containerd 1.6 (Debian 12's 1.6.20) loads what the library makes of every 1.x file it knows: the
 *   `containerd config default` of 1.6.20 (Debian's and upstream's) and 1.7.29, and MicroK8s' templates of 1.22,
 *   1.23 and 1.36, and pulls through the result by digest (CRI, no credentials in the request).
 * - A node whose config.toml imports a drop-in that overrides our config_path is refused by the node script
 *   before anything is switched in (the drop-in named in the error), and applied once the drop-in stops doing so.
 * - MicroK8s' kubelet root: kubelet cannot run here, so the path is resolved the way kubelet resolves it, from
 *   `--root-dir` in a MicroK8s-shaped args file on the node, and the credentials found there are checked with
 *   skopeo `--authfile` against the rig's htpasswd registry, by digest.
 */
import * as fs from "fs";
import * as path from "path";
import { ClusterRegistries, RegistriesInput } from "../../components";
import { RegistriesArgs } from "../../components/model/types";
import {
  BlockEntry,
  buildNodeScript,
  ConfigPathEntry,
  parseSummary,
  planNode,
  RuntimeProfile,
} from "../../components/node";
import { normalizeRegistries } from "../../components/render";
import { declare, SimulatedStack } from "../helpers/commandHarness";
import { rigScratch, writeRendered, writeSecretFile } from "../helpers/consumers";
import { editOnTheNode } from "../helpers/nodeEdit";
import {
  criPull,
  criRemove,
  loadRig,
  nodeExec,
  nodeFile,
  nodeStat,
  Rig,
  RigNode,
  RunResult,
  sshRun,
  validateContainerdConfig,
} from "../helpers/rig";

const rig: Rig = loadRig();
const [n1, , n3] = rig.nodes;
const TLS = rig.registries.tls.host;
const PLAIN = rig.registries.plain.host;
const FIXTURES = path.join(__dirname, "..", "fixtures");
const fixture = (file: string) => fs.readFileSync(path.join(FIXTURES, file), "utf8");
/** A fixture without its provenance line (the first line, which the runtime would not have). */
const withoutProvenance = (text: string) => text.slice(text.indexOf("\n") + 1);

/** The TLS registry with the rig's CA and credentials: hosts.toml (CA) plus the CRI block (credentials). */
const TLS_DECL: RegistriesArgs = {
  [TLS]: { tls: { ca: rig.tls.caPem }, auth: { username: rig.auth.user, password: rig.auth.password } },
};

async function writeNodeFile(n: RigNode, file: string, content: string): Promise<void> {
  const r = await nodeExec(n, ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", file], {
    stdin: content,
  });
  if (r.code !== 0) throw new Error(r.stderr);
}

/** Files (not directories) in a node's overlay upper dirs, with their content: what the node has changed. */
function upperFiles(n: RigNode): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (prefix: string, dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(`${prefix}/${e.name}`, p);
      else out[`${prefix}/${e.name}`] = e.isFile() ? fs.readFileSync(p, "utf8") : "<special>";
    }
  };
  walk("/etc", n.upperEtc);
  walk("/var", n.upperVar);
  return out;
}

describe("the real containerd 1.6 loads every 1.x result and pulls through it", () => {
  let scratch: string;
  beforeAll(() => {
    scratch = rigScratch("versions");
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /** Plan for a profile, write its whole files under `root`, and edit `stock` as the node would. */
  function applied(profile: RuntimeProfile, stock: string, root: string): string {
    const plan = planNode(normalizeRegistries(TLS_DECL), {
      node: "n",
      owner: "registries",
      profiles: [profile],
    });
    const owned = plan.entries.filter((e) => e.kind === "config-path" || e.kind === "block");
    expect(owned).toHaveLength(1);
    writeRendered(
      root,
      plan.entries.flatMap((e) => (e.kind === "file" ? [{ ...e }] : [])),
    );
    return editOnTheNode(stock, owned[0] as ConfigPathEntry | BlockEntry);
  }

  test.each([
    ["config-default-1.6.20-debian.toml", "1.6.20"],
    ["config-default-1.6.20.toml", "1.6.20"],
    ["config-default-1.7.29.toml", "1.7.29"],
  ])("containerd %s (profile version %s)", async (file, version) => {
    const root = fs.mkdtempSync(path.join(scratch, "ctd-"));
    const config = writeSecretFile(
      path.join(root, "config.toml"),
      applied(
        { kind: "containerd", version, certsDir: `${root}/certs.d` },
        fixture(`containerd/${file}`),
        root,
      ),
    );
    expect(fs.existsSync(path.join(root, "certs.d", TLS, "hosts.toml"))).toBe(true);
    const report = await validateContainerdConfig(config, { image: `${TLS}/rig/hello:v1` });
    expect(report.dumpError).toBeUndefined();
    expect(report.cri).toBe("ok");
    // Keys the 1.6 binary does not know (1.7's additions, upstream's tracing plugin) are dropped; ours are not.
    expect(report.droppedKeys.filter((k) => k.includes(".registry."))).toEqual([]);
    expect(report.pull).toEqual({ ok: true, imageRef: rig.images.tls.configDigest });
  });

  test.each([
    ["containerd-template-1.22.toml", "1.22"],
    ["containerd-template-1.23.toml", "1.23"],
    ["containerd-template-current.toml", "1.36"],
  ])("MicroK8s %s (version %s)", async (file, version) => {
    const snap = fs.mkdtempSync(path.join(scratch, "snap-"));
    const template = writeSecretFile(
      path.join(snap, "args", "containerd-template.toml"),
      applied({ kind: "microk8s", version, snapData: snap }, fixture(`microk8s/${file}`), snap),
    );
    const report = await validateContainerdConfig(template, {
      image: `${TLS}/rig/hello:v1`,
      substitute: {
        SNAP_DATA: snap,
        SNAPSHOTTER: "overlayfs",
        RUNTIME: "runc",
        RUNTIME_TYPE: "io.containerd.runc.v2",
      },
    });
    expect(report.dumpError).toBeUndefined();
    expect(report.cri).toBe("ok");
    expect(report.droppedKeys.filter((k) => k.includes(".registry."))).toEqual([]);
    expect(report.pull).toEqual({ ok: true, imageRef: rig.images.tls.configDigest });
  });
});

describe("containerd imports: a drop-in that overrides config_path is refused on the node", () => {
  const CONFIG = "/etc/containerd/config.toml";
  const DROPIN = "/etc/containerd/conf.d/10-registry.toml";
  const restart = [rig.scripts.nodeContainerd, "restart"];
  const script = buildNodeScript(
    planNode(
      normalizeRegistries({
        "docker.io": { server: rig.deadServer, mirrors: [{ endpoint: `http://${PLAIN}` }] },
        ...TLS_DECL,
      }),
      {
        node: n1.name,
        owner: "versions",
        profiles: [{ kind: "containerd", restart, socket: n1.containerdSocket }],
      },
    ),
  );
  const pid = () => fs.readFileSync(n1.containerdPidFile, "utf8").trim();
  let stock: string;
  let before: Record<string, string>;

  beforeAll(() => {
    stock = nodeFile(n1, CONFIG)!;
    before = upperFiles(n1);
  });

  afterAll(async () => {
    // Back to the node's own config and its containerd on it, whatever happened above.
    await writeNodeFile(n1, CONFIG, stock);
    await nodeExec(n1, [
      "rm",
      "-rf",
      "/etc/containerd/conf.d",
      "/etc/containerd/certs.d",
      "/var/lib/pulumi-registries",
    ]);
    await nodeExec(n1, [rig.scripts.nodeContainerd, "restart"]);
  });

  const apply = (mode = "apply"): Promise<RunResult> => sshRun(n1, `sh -s -- ${mode}`, script);
  const importing = (pattern: string) =>
    stock.replace(/^version = 2\n/, `version = 2\nimports = ["${pattern}"]\n`);

  test("refused, naming the drop-in and its value; nothing is switched in or restarted", async () => {
    await writeNodeFile(n1, CONFIG, importing("/etc/containerd/conf.d/*.toml"));
    await writeNodeFile(
      n1,
      DROPIN,
      'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/srv/certs.d"\n',
    );
    const edited = nodeFile(n1, CONFIG);
    const was = pid();
    const r = await apply();
    expect(r.code).toBe(66);
    expect(r.stderr).toContain(
      `pulumi-registries[node1]: ${CONFIG} imports ${DROPIN}, which sets config_path to "/srv/certs.d": containerd runs with that, not "/etc/containerd/certs.d"; remove config_path from ${DROPIN}, or set the profile's certsDir to "/srv/certs.d" if that is the directory you mean`,
    );
    expect(r.stderr).toMatch(/refused by containerd .*nothing was changed/);
    expect(r.stderr + r.stdout).not.toContain(rig.auth.password);
    expect(nodeFile(n1, CONFIG)).toBe(edited);
    expect(nodeStat(n1, "/etc/containerd/certs.d")).toBeUndefined();
    expect(pid()).toBe(was);
  });

  test("a relative import is refused (containerd resolves it differently by version)", async () => {
    await writeNodeFile(n1, CONFIG, importing("conf.d/*.toml"));
    const r = await apply();
    expect(r.code).toBe(66);
    expect(r.stderr).toContain(
      `${CONFIG} imports the relative path "conf.d/*.toml", which containerd resolves against the daemon's working directory before 1.6.29 and 1.7.16 and against the importing file's directory later: use an absolute path`,
    );
  });

  test("once the drop-in leaves config_path alone, the edit is applied and pulls go through it", async () => {
    await writeNodeFile(n1, CONFIG, importing("/etc/containerd/conf.d/*.toml"));
    await writeNodeFile(n1, DROPIN, 'version = 2\n[debug]\n  level = "info"\n');
    const was = pid();
    const r = await apply();
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(parseSummary(r.stdout)).toMatchObject({ actions: ["restart:containerd"] });
    expect(pid()).not.toBe(was);
    await criRemove(n1.containerdSocket, "docker.io/library/hello:v1").catch(() => undefined);
    expect(await criPull(n1.containerdSocket, "docker.io/library/hello:v1")).toBe(
      rig.images.plain.configDigest,
    );
    await criRemove(n1.containerdSocket, `${TLS}/rig/hello:v1`).catch(() => undefined);
    expect(await criPull(n1.containerdSocket, `${TLS}/rig/hello:v1`)).toBe(rig.images.tls.configDigest);

    const destroyed = await apply("destroy");
    expect(destroyed.code).toBe(0);
    expect(nodeFile(n1, CONFIG)).toBe(importing("/etc/containerd/conf.d/*.toml"));
  });

  test("the node is given back", async () => {
    await writeNodeFile(n1, CONFIG, stock);
    await nodeExec(n1, ["rm", "-rf", "/etc/containerd/conf.d"]);
    expect(upperFiles(n1)).toEqual(before);
  });
});

describe("MicroK8s: kubelet's credentials where MicroK8s' kubelet looks for them", () => {
  const ARGS = "/var/snap/microk8s/current/args/kubelet";
  /** The snap environment MicroK8s' wrappers run kubelet with. */
  const SNAP_ENV: Record<string, string> = {
    SNAP: "/snap/microk8s/current",
    SNAP_DATA: "/var/snap/microk8s/current",
    SNAP_COMMON: "/var/snap/microk8s/common",
  };
  /** kubelet's root directory as its args file sets it (kubelet's own default otherwise), variables expanded. */
  const rootDirOf = (args: string): string => {
    const line = args.split("\n").find((l) => l.startsWith("--root-dir="));
    const value = line ? line.slice("--root-dir=".length) : "/var/lib/kubelet";
    return value.replace(/\$\{([A-Z_]+)\}/g, (_m, name: string) => SNAP_ENV[name]);
  };
  const ENV = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TMPDIR=/tmp"];
  const skopeoDigest = async (args: string[]): Promise<RunResult> =>
    nodeExec(
      n3,
      [
        ...ENV,
        "skopeo",
        "inspect",
        ...args,
        "--cert-dir",
        rig.tls.skopeoCertDir,
        "--no-tags",
        "--format",
        "{{.Digest}}",
        `docker://${TLS}/rig/hello:v1`,
      ],
      { timeoutMs: 60_000 },
    );

  const registries: RegistriesInput = TLS_DECL;
  const stack = new SimulatedStack();
  let before: Record<string, string>;

  beforeAll(async () => {
    before = upperFiles(n3);
    await writeNodeFile(n3, ARGS, withoutProvenance(fixture("microk8s/kubelet-args-current")));
  });

  afterAll(async () => {
    await nodeExec(n3, ["rm", "-rf", "/var/snap/microk8s/current/args/kubelet", "/var/lib/containers"]);
  });

  test("the args files of MicroK8s 1.22 and 1.36 give kubelet the same root", () => {
    for (const f of ["kubelet-args-1.22", "kubelet-args-current"]) {
      expect(rootDirOf(withoutProvenance(fixture(`microk8s/${f}`)))).toBe(
        "/var/snap/microk8s/common/var/lib/kubelet",
      );
    }
  });

  test("apply [microk8s, kubelet]: config.json lands in the root dir the node's args file names", async () => {
    const commands = await declare(
      () =>
        new ClusterRegistries("mk8s", {
          registries,
          nodes: [
            {
              name: "node3",
              connection: {
                host: n3.ip,
                port: n3.port,
                user: "root",
                privateKey: rig.ssh.privateKey,
                hostKey: n3.hostKey,
              },
              // Credentials as a hosts.toml header: no template edit, so no MicroK8s restart is involved.
              profiles: [{ kind: "microk8s", credentials: "hosts" }, { kind: "kubelet" }],
            },
          ],
        }),
    );
    const result = await stack.up(commands);
    for (const [name, r] of result) {
      const run = r as RunResult;
      expect({ name, code: run.code, stderr: run.stderr }).toEqual({ name, code: 0, stderr: "" });
    }

    const root = rootDirOf(nodeFile(n3, ARGS)!);
    expect(root).toBe("/var/snap/microk8s/common/var/lib/kubelet");
    expect(nodeStat(n3, `${root}/config.json`)).toMatchObject({ mode: "600", uid: 0 });
    // Not where a kubelet with the default root would look (on this node /var/lib/kubelet is no symlink).
    expect(nodeStat(n3, "/var/lib/kubelet/config.json")).toBeUndefined();

    const good = await skopeoDigest(["--authfile", `${root}/config.json`]);
    expect({ code: good.code, digest: good.stdout.trim() }).toEqual({
      code: 0,
      digest: rig.images.tls.digest,
    });
    // Control: the same request without those credentials is refused by the registry.
    const none = await skopeoDigest(["--authfile", `${root}/absent.json`]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/unauthorized|authentication required/);
  });

  test("destroy takes config.json back out; the node is as before", async () => {
    const result = await stack.destroy();
    for (const r of result.values()) expect((r as RunResult).code).toBe(0);
    expect(nodeStat(n3, "/var/snap/microk8s/common/var/lib/kubelet/config.json")).toBeUndefined();
    await nodeExec(n3, ["rm", "-rf", ARGS, "/var/lib/containers"]);
    expect(upperFiles(n3)).toEqual(before);
  });
});

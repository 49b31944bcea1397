/**
 * `SideLoad`: image tarballs put on nodes and imported into each node's own container runtime, once per tarball
 * content.
 *
 * @module
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ImageArchiveFormat, SideLoadArgs } from "../model/cluster";
import { Problems, show } from "../model/errors";
import { sideLoad } from "../model/normalizeClusterParts";
import { OWNER_RE } from "../node/plan";
import { PROFILES, RuntimeProfile, setting } from "../node/profiles";
import { shQuote } from "../node/script";
import { SshTransport } from "../transport/ssh";
import { checkNodes, checkSettings, ClusterNode } from "./node";
import { ArchiveImage, ImageArchive, ImageArchiveError, readImageArchive, sha256File } from "./imageArchive";
import { throwProblems, warnWithoutHostKey } from "./problems";
import { componentScript, shSettings } from "./scripts";

/** Arguments of `SideLoad`. */
export interface SideLoadComponentArgs {
  /** The nodes that get every image (at least one); names must be unique. */
  nodes: ClusterNode[];
  /**
   * The tarballs, imported in this order. Each is keyed by its file name (which names its child resources and its
   * files on the node): file names must be unique.
   */
  images: SideLoadArgs[];
  /**
   * Who owns the side-loads on the nodes: names the state directory `/var/lib/pulumi-registries/sideload/<owner>`
   * and the staging directory `/var/tmp/pulumi-registries/sideload/<owner>`. `^[a-z0-9][a-z0-9._-]{0,62}$`.
   * Defaults to `registries`.
   */
  owner?: string;
}

/** How a node imports an image tarball. */
export interface ImportTool {
  /** `ctr` (containerd's `images import`, namespace `k8s.io`) or `docker` (`docker load`). */
  readonly kind: "ctr" | "docker";
  /** The command prefix, e.g. `["ctr", "--address", "/run/containerd/containerd.sock", "-n", "k8s.io"]`. */
  readonly argv: readonly string[];
  /** The profile it comes from. */
  readonly profile: string;
}

/** Profile kinds that hold images, in the order a node's profiles are searched. */
const IMPORTING = ["microk8s", "containerd", "k3s", "rke2", "docker", "crio"];

/**
 * The tool that imports images on a node: the first of its profiles that runs containers (a `kubelet` profile only
 * writes credentials). MicroK8s and containerd: the profile's `ctr` on its `socket` (for MicroK8s that is what
 * `microk8s ctr` runs: the snap's ctr, its socket, namespace k8s.io; per node, unlike `microk8s images import`,
 * which pushes to every node of the cluster); k3s: `k3s ctr`; RKE2: its bundled ctr on its socket; Docker:
 * `/usr/bin/docker load`. CRI-O is refused: its image store is containers/storage, which no import tool of it fills.
 *
 * @throws {Error} with the reason when the node has no profile that can import.
 */
export function importTool(profiles: readonly RuntimeProfile[]): ImportTool {
  const p = profiles.find((x) => IMPORTING.includes(x.kind));
  switch (p?.kind) {
    case "microk8s":
    case "containerd": {
      const def = PROFILES[p.kind];
      return {
        kind: "ctr",
        argv: [setting(def, p, "ctr"), "--address", setting(def, p, "socket"), "-n", "k8s.io"],
        profile: p.kind,
      };
    }
    case "k3s":
      return { kind: "ctr", argv: ["k3s", "ctr", "-n", "k8s.io"], profile: p.kind };
    case "rke2":
      return {
        kind: "ctr",
        argv: [
          "/var/lib/rancher/rke2/bin/ctr",
          "--address",
          "/run/k3s/containerd/containerd.sock",
          "-n",
          "k8s.io",
        ],
        profile: p.kind,
      };
    case "docker":
      return { kind: "docker", argv: ["/usr/bin/docker"], profile: p.kind };
    case "crio":
      throw new Error(
        "is a CRI-O node: side-loading into CRI-O's containers/storage is not supported (load the image with podman on the node, or pull it from a registry)",
      );
    default:
      throw new Error(`has no profile that holds images (microk8s, containerd, k3s, rke2 or docker)`);
  }
}

/** The key of a tarball: its file name, with anything but letters, digits, `.`, `_` and `-` made `-`. */
export function sideLoadKey(file: string): string {
  const key = path
    .basename(file)
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[.-]+/, "");
  return key === "" ? "image" : key.slice(0, 100);
}

/** What the node's script printed about one tarball (its `PULUMI_SIDELOAD` line). */
export interface SideLoadSummary {
  readonly key: string;
  readonly action: string;
  readonly imported: boolean;
  readonly sha256: string;
  readonly refs: string[];
}

/** The summary line of a side-load run, or undefined when there is none. */
export function parseSideLoadSummary(stdout: string | undefined): SideLoadSummary | undefined {
  const line = (stdout ?? "").split("\n").find((l) => l.startsWith("PULUMI_SIDELOAD "));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice("PULUMI_SIDELOAD ".length)) as SideLoadSummary;
  } catch {
    return undefined;
  }
}

/** The script that imports one tarball on one node (see `sh/sideLoad.sh`). */
export function sideLoadScript(o: {
  owner: string;
  key: string;
  staged: string;
  sha256: string;
  tool: ImportTool;
  images: readonly ArchiveImage[];
  name: string;
  copyName: string;
  lockWaitSeconds: number;
}): string {
  const expect = o.images.map((i) => {
    const digest = (o.tool.kind === "ctr" ? i.targetDigest : i.configDigest) ?? "-";
    return `${i.ref} ${digest}`;
  });
  const header =
    shSettings({
      L_OWNER: o.owner,
      L_KEY: o.key,
      L_STAGED: o.staged,
      L_SHA: o.sha256,
      L_KIND: o.tool.kind,
      L_NAME: o.name,
      L_COPY: o.copyName,
      S_LOCK_WAIT: o.lockWaitSeconds,
    }) +
    `l_tool() { ${o.tool.argv.map(shQuote).join(" ")} "$@"; }\n` +
    `l_expect() {\n  cat <<'L_EOF'\n${expect.join("\n")}\nL_EOF\n}\n`;
  return componentScript("sideLoad", header);
}

/** What {@link checkSideLoad} found valid: the nodes' import tools and the tarballs read. */
export interface CheckedSideLoad {
  readonly owner: string;
  readonly settings: ReturnType<typeof checkSettings>;
  readonly nodes: ClusterNode[];
  readonly tools: ReadonlyMap<string, ImportTool>;
  readonly archives: readonly { key: string; file: string; archive: ImageArchive }[];
}

/**
 * Check SideLoad's arguments (and read each tarball's index) into `problems`, at the paths of SideLoad's own
 * arguments (`nodes[i]`, `images[i]`): a parent maps them to its own. Reads each tarball's headers, not its layers.
 */
export function checkSideLoad(problems: Problems, args: SideLoadComponentArgs): CheckedSideLoad {
  for (const key of Object.keys(args ?? {})) {
    if (!["nodes", "images", "owner"].includes(key)) {
      problems.add(key, "is not an argument of SideLoad (known: nodes, images, owner)");
    }
  }
  const owner = args.owner ?? "registries";
  if (typeof owner !== "string" || !OWNER_RE.test(owner)) {
    problems.add("owner", `${show(owner)} must match ${OWNER_RE} (it names directories on the node)`);
  }
  // A bad owner is reported once, here (not again for every node).
  const settings = checkSettings(problems, { owner: OWNER_RE.test(String(owner)) ? owner : undefined });
  const tools = new Map<string, ImportTool>();
  const nodes = checkNodes(problems, args.nodes, settings, (n, at) => {
    if (Array.isArray(n?.profiles)) {
      try {
        tools.set(n.name, importTool(n.profiles));
      } catch (e) {
        problems.add(`${at}.profiles`, (e as Error).message);
      }
    }
  });

  const images = Array.isArray(args.images) ? args.images : [];
  if (images.length === 0) problems.add("images", "must list at least one image tarball");
  const keys = new Map<string, number>();
  const archives: { key: string; file: string; archive: ImageArchive }[] = [];
  images.forEach((image, i) => {
    const p = `images[${i}]`;
    const normalized = sideLoad(problems, p, image);
    if (!normalized) return;
    const key = sideLoadKey(normalized.path);
    const same = keys.get(key);
    if (same !== undefined) {
      return problems.add(
        `${p}.path`,
        `${show(normalized.path)} has the file name of images[${same}] (${key}): file names key the side-loads on the nodes, so they must be unique`,
      );
    }
    keys.set(key, i);
    let archive: ImageArchive;
    try {
      archive = readImageArchive(normalized.path);
    } catch (e) {
      if (!(e instanceof ImageArchiveError)) throw e;
      return problems.add(`${p}.path`, `${show(normalized.path)} ${e.message}`);
    }
    if (
      normalized.format !== archive.format &&
      !(normalized.format === "docker-archive" && archive.hasDockerManifest)
    ) {
      return problems.add(
        `${p}.format`,
        archive.format === ImageArchiveFormat.OciArchive
          ? `${show(normalized.format)}, but the tarball is an OCI image layout (oci-layout, index.json): set format: "oci-archive"`
          : `${show(normalized.format)}, but the tarball is a docker-archive (manifest.json, no oci-layout): set format: "docker-archive"`,
      );
    }
    for (const [node, tool] of tools) {
      if (tool.kind === "docker" && archive.docker.length === 0) {
        problems.add(
          `${p}.format`,
          `node ${show(node)} loads images with docker load, which needs a docker-archive (manifest.json): write it with skopeo copy … docker-archive:image.tar:<name>`,
        );
      }
    }
    archives.push({ key, file: normalized.path, archive });
  });
  return { owner, settings, nodes, tools, archives };
}

/** Internal: a parent that already ran {@link checkSideLoad} hands its result under this key. */
export const CHECKED = Symbol.for("registry-setup:side-load-checked");

/**
 * Image tarballs side-loaded onto nodes: per node and tarball, a `remote.CopyToRemote` puts the file in the node's
 * staging directory (over SFTP, as the connection user: a tarball never travels on a command's stdin, which Pulumi
 * stores), then a `remote.Command` imports it with the node's own tool (see `importTool`), only when the
 * tarball's SHA-256 is not the one recorded on the node for it. The node checks the staged file's SHA-256 before
 * importing (a copy can be left partial) and that every image is there afterwards.
 *
 * Names: `${name}-${node}-${key}-copy` and `${name}-${node}-${key}-import`, `key` being the tarball's file name.
 *
 * Destroy (or a tarball removed from `images`): the staged file and the node's record go; the imported images stay
 * in the runtime, because a workload may run them and removing an image is not ours to decide (kubelet's image
 * garbage collection removes unused ones). A changed tarball is imported over the old one; images it no longer
 * names stay too.
 */
export class SideLoad extends pulumi.ComponentResource {
  /**
   * Per node, the image references of every tarball as the node's last import run reported them (imported then,
   * or found already imported with the same tarball).
   */
  public readonly imported: pulumi.Output<Record<string, string[]>>;

  /**
   * @param name the component's name; prefixes every child's name.
   * @param args the nodes, the tarballs and the owner.
   * @param opts resource options.
   */
  constructor(name: string, args: SideLoadComponentArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token never changes once released: a new token is a new resource type (everything replaced).
    super("registry-setup:index:SideLoad", name, {}, opts);
    const problems = new Problems();
    const inherited = (args as unknown as Record<symbol, CheckedSideLoad | undefined>)[CHECKED];
    const { owner, settings, nodes, tools, archives } = inherited ?? checkSideLoad(problems, args);
    throwProblems(problems, this);

    const hashes = new Map(archives.map((a) => [a.key, pulumi.output(sha256File(a.file))]));
    const byNode: pulumi.Output<[string, string[]]>[] = [];
    for (const node of nodes) {
      warnWithoutHostKey(node, this);
      const tool = tools.get(node.name)!;
      const transport = new SshTransport(node.connection);
      let previous: pulumi.Resource | undefined;
      const reports: pulumi.Output<SideLoadSummary | undefined>[] = [];
      for (const { key, file, archive } of archives) {
        const base = `${name}-${node.name}-${key}`;
        const staged = `/var/tmp/pulumi-registries/sideload/${owner}/${key}`;
        // Child names must never change once released: a new name is a new resource.
        const copy = transport.copy(
          { name: `${base}-copy`, source: file, remotePath: staged },
          { parent: this, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) },
        );
        const script = hashes.get(key)!.apply((sha256) =>
          sideLoadScript({
            owner,
            key,
            staged,
            sha256,
            tool,
            images: tool.kind === "ctr" ? archive.containerd : archive.docker,
            name: `${base}-import`,
            copyName: `${base}-copy`,
            lockWaitSeconds: settings.lockWaitSeconds,
          }),
        );
        // Imports on one node run in declaration order; nodes run in parallel.
        const delivered = transport.deliver(
          { name: `${base}-import`, script, sudo: node.sudo ?? false, replaceOn: [] },
          { parent: this, dependsOn: previous ? [copy, previous] : [copy] },
        );
        previous = delivered.resource;
        reports.push(delivered.stdout.apply(parseSideLoadSummary));
      }
      byNode.push(
        pulumi
          .all(reports)
          .apply((rs) => [node.name, [...new Set(rs.flatMap((r) => r?.refs ?? []))]] as [string, string[]]),
      );
    }
    this.imported = pulumi.all(byNode).apply((list) => Object.fromEntries(list));
    this.registerOutputs({ imported: this.imported });
  }
}

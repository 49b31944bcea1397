/**
 * The crio profile proven in place: the library's node script (planNode + buildNodeScript, over real SSH)
 * writes its drop-in into node3's /etc/containers/registries.conf.d/, next to the distribution's own
 * /etc/containers/registries.conf and registries.conf.d/shortnames.conf (Debian 12's containers-image and
 * containers-common packages), and its CA into /etc/containers/certs.d. skopeo and podman then run ON the node
 * with their default system paths (no --registries-conf, no --cert-dir) and must pull through what was written;
 * each pull is proven by the digest of the image the rig served. The kubelet profile writes the credentials
 * file that CRI-O is commonly pointed at (`global_auth_file`), which registries.conf cannot hold.
 *
 * CRI-O itself is not packaged for Debian 12: its reload is a named stand-in (test/rig/bin/node-crio-reload),
 * which loads the registries configuration with podman (the same containers/image code CRI-O uses).
 */
import * as fs from "fs";
import * as path from "path";
import { buildNodeScript, nodeCommand, parseSummary, planNode } from "../../components/node";
import { normalizeRegistries, RegistriesArgs } from "../../components/render";
import { loadRig, nodeExec, nodeFile, nodeStat, Rig, RunResult, sshRun, upperFiles } from "../helpers/rig";

const rig: Rig = loadRig();
const n3 = rig.nodes[2];
const PLAIN = rig.registries.plain.host;
const TLS = rig.registries.tls.host;
const DROP_IN = "/etc/containers/registries.conf.d/50-pulumi-registries.conf";
const AUTH_FILE = "/var/lib/kubelet/config.json";
// What the distribution ships (read through the node's overlay: the lower layer is this machine's /etc).
const DISTRIBUTION = [
  "/etc/containers/registries.conf",
  "/etc/containers/registries.conf.d/shortnames.conf",
  "/etc/containers/policy.json",
];

const REGISTRIES: RegistriesArgs = {
  // A fake upstream name, mirrored under a namespace of the plain registry; its server is a dead loopback port.
  "registry.example.test": {
    server: rig.deadServer,
    mirrors: [{ endpoint: `http://${PLAIN}/v2/ns`, overridePath: true }],
  },
  "docker.io": { server: rig.deadServer, mirrors: [{ endpoint: `http://${PLAIN}` }] },
  [TLS]: { tls: { ca: rig.tls.caPem }, auth: { username: rig.auth.user, password: rig.auth.password } },
};

const SCRIPT = buildNodeScript(
  planNode(normalizeRegistries(REGISTRIES), {
    node: n3.name,
    owner: "crio-rig",
    profiles: [{ kind: "crio", reload: [rig.scripts.nodeCrioReload] }, { kind: "kubelet" }],
  }),
);

// A clean root environment, as on a node; TMPDIR on the node's private tmpfs instead of /var/tmp (the overlay).
const ENV = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "TMPDIR=/tmp"];

/** skopeo on node3, default system paths. */
const skopeo = (args: string[]): Promise<RunResult> =>
  nodeExec(n3, [...ENV, "skopeo", ...args], { timeoutMs: 60_000 });
/** podman on node3: default system configuration, node-local storage (test/rig/bin/node-podman). */
const podman = (args: string[]): Promise<RunResult> =>
  nodeExec(n3, [...ENV, rig.scripts.nodePodman, ...args], { timeoutMs: 90_000 });

/** The manifest digest skopeo resolves for a reference (no tag listing: that would ignore mirrors). */
async function inspect(ref: string, authfile = false): Promise<string> {
  const auth = authfile ? ["--authfile", AUTH_FILE] : [];
  const r = await skopeo(["inspect", ...auth, "--no-tags", "--format", "{{.Digest}}", `docker://${ref}`]);
  if (r.code !== 0) throw new Error(r.stderr.trim());
  return r.stdout.trim();
}

/** `podman pull` into the node-local storage; resolves to the pulled image's digest and removes it again. */
async function podmanPull(ref: string, authfile = false): Promise<string> {
  const auth = authfile ? ["--authfile", AUTH_FILE] : [];
  const r = await podman(["pull", "--quiet", ...auth, ref]);
  if (r.code !== 0) throw new Error(r.stderr.trim());
  try {
    const i = await podman(["image", "inspect", "--format", "{{.Digest}}", ref]);
    if (i.code !== 0) throw new Error(i.stderr.trim());
    return i.stdout.trim();
  } finally {
    await podman(["rmi", "--force", ref]);
  }
}

const reloads = () => (nodeFile(n3, "/run/rig-crio-reloads") ?? "").split("\n").filter(Boolean).length;

// Paths podman/skopeo would write on a host: none of them may appear on this machine.
const HOST_PATHS = [
  "/var/lib/containers",
  "/run/containers",
  "/run/libpod",
  "/etc/containers/certs.d",
  DROP_IN,
  "/etc/cni/net.d/cni.lock",
  "/root/.config/containers",
  "/root/.local/share/containers",
];
const hostHas = () => HOST_PATHS.filter((p) => fs.existsSync(p));

describe("the crio profile in place: skopeo and podman on node3 with their default paths", () => {
  let before: Record<string, string>;
  let hostBefore: string[];
  const distribution: Record<string, string | undefined> = {};

  beforeAll(async () => {
    // Another file's leftover state on node3 (e.g. the log a refused apply keeps) is not this file's to judge:
    // what this destroy must remove is its own state. Say what was there, then start without it.
    const left = await nodeExec(n3, ["sh", "-c", "find /var/lib/pulumi-registries 2>/dev/null | head -20"]);
    if (left.stdout.trim() !== "") console.log(`node3 state root left by earlier files:\n${left.stdout}`);
    await nodeExec(n3, ["rm", "-rf", "/var/lib/pulumi-registries"]);
    hostBefore = hostHas();
    before = upperFiles(n3);
    for (const f of DISTRIBUTION) distribution[f] = nodeFile(n3, f);
  });

  afterAll(async () => {
    // What skopeo and podman leave on the node: skopeo's blob-info cache under /var/lib/containers (the node's
    // /var overlay; nothing of it exists on the machine, so removing it leaves no whiteout), podman's storage.
    await nodeExec(n3, ["rm", "-rf", "/var/lib/containers", "/run/rig-crio-reloads", "/tmp/crio-oci"]);
    fs.rmSync(path.join(n3.dir, "podman"), { recursive: true, force: true });
  });

  test("the node has the distribution's registries.conf and no route to the fake upstream", async () => {
    // Debian 12 ships registries.conf with every setting commented out, and an aliases drop-in.
    expect(distribution["/etc/containers/registries.conf"]).toMatch(
      /^# For more information on this configuration file/,
    );
    expect(distribution["/etc/containers/registries.conf.d/shortnames.conf"]).toContain("[aliases]");
    expect(distribution["/etc/containers/policy.json"]).toContain("insecureAcceptAnything");
    expect(nodeStat(n3, "/etc/containers/certs.d")).toBeUndefined();
    await expect(inspect("registry.example.test/rig/hello:v1")).rejects.toThrow(
      /lookup registry\.example\.test .*network is unreachable/,
    );
    await expect(inspect(`${TLS}/rig/hello:v1`, true)).rejects.toThrow(
      "x509: certificate signed by unknown authority",
    );
  });

  test("apply writes the drop-in, the CA and the auth file, and reloads CRI-O (stand-in) once", async () => {
    const r = await sshRun(n3, nodeCommand("apply"), SCRIPT, { timeoutMs: 90_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(parseSummary(r.stdout)).toMatchObject({
      actions: ["reload:crio"],
      changed: [`/etc/containers/certs.d/${TLS}/ca.crt`, DROP_IN, AUTH_FILE],
    });
    expect(reloads()).toBe(1);
    expect(nodeStat(n3, DROP_IN)).toMatchObject({ mode: "644", uid: 0 });
    expect(nodeStat(n3, `/etc/containers/certs.d/${TLS}/ca.crt`)).toMatchObject({ mode: "644", uid: 0 });
    expect(nodeStat(n3, AUTH_FILE)).toMatchObject({ mode: "600", uid: 0 });
    expect(nodeFile(n3, DROP_IN)).not.toContain(rig.auth.password);
    // The distribution's files were not touched (not even copied up into the overlay).
    for (const f of DISTRIBUTION) expect(nodeFile(n3, f)).toBe(distribution[f]);
    const added = Object.keys(upperFiles(n3)).filter((f) => !(f in before));
    expect(added.filter((f) => !f.startsWith("/var/lib/pulumi-registries/"))).toEqual([
      `/etc/containers/certs.d/${TLS}/ca.crt`,
      DROP_IN,
      AUTH_FILE,
    ]);
  });

  test("skopeo on the node pulls through the drop-in, the CA in certs.d and the auth file (by digest)", async () => {
    expect(await inspect("registry.example.test/rig/hello:v1")).toBe(rig.images.ns.digest);
    expect(await inspect("docker.io/library/hello:v1")).toBe(rig.images.plain.digest);
    expect(await inspect(`${TLS}/rig/hello:v1`, true)).toBe(rig.images.tls.digest);
    // The CA is what makes TLS work; the credentials come only from the auth file.
    await expect(inspect(`${TLS}/rig/hello:v1`)).rejects.toThrow("unauthorized: authentication required");
    // A real pull of the blobs, not only the manifest.
    const copy = await skopeo([
      "copy",
      "--quiet",
      "docker://registry.example.test/rig/hello:v1",
      "oci:/tmp/crio-oci:v1",
    ]);
    expect({ code: copy.code, stderr: copy.stderr }).toEqual({ code: 0, stderr: "" });
    const index = JSON.parse(nodeFile(n3, "/tmp/crio-oci/index.json")!) as {
      manifests: { digest: string }[];
    };
    expect(index.manifests.map((m) => m.digest)).toEqual([rig.images.ns.digest]);
  });

  test("podman on the node (no daemon) pulls through the same files (by digest)", async () => {
    const i = await podman(["info", "--format", "{{json .Registries}}"]);
    expect(i.code).toBe(0);
    expect(JSON.parse(i.stdout)).toMatchObject({
      "registry.example.test": {
        Location: "127.0.0.1:1",
        Mirrors: [{ Location: `${PLAIN}/ns`, Insecure: true }],
      },
      "docker.io": { Location: "127.0.0.1:1", Mirrors: [{ Location: PLAIN, Insecure: true }] },
    });
    expect(await podmanPull("registry.example.test/rig/hello:v1")).toBe(rig.images.ns.digest);
    expect(await podmanPull("docker.io/library/hello:v1")).toBe(rig.images.plain.digest);
    expect(await podmanPull(`${TLS}/rig/hello:v1`, true)).toBe(rig.images.tls.digest);
  });

  test("destroy removes what it wrote: the fake upstream is unreachable again", async () => {
    const r = await sshRun(n3, nodeCommand("destroy"), SCRIPT, { timeoutMs: 90_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(parseSummary(r.stdout)).toMatchObject({ actions: ["reload:crio"] });
    expect(reloads()).toBe(2);
    for (const f of [DROP_IN, "/etc/containers/certs.d", AUTH_FILE, "/var/lib/pulumi-registries"]) {
      expect(nodeStat(n3, f)).toBeUndefined();
    }
    for (const f of DISTRIBUTION) expect(nodeFile(n3, f)).toBe(distribution[f]);
    await expect(inspect("registry.example.test/rig/hello:v1")).rejects.toThrow(/network is unreachable/);
  });

  test("skopeo and podman leave nothing behind on the node or on the host", async () => {
    // skopeo's blob-info cache is the only thing they wrote to the node's /var.
    expect(fs.existsSync(path.join(n3.upperVar, "lib/containers/cache/blob-info-cache-v1.boltdb"))).toBe(
      true,
    );
    await nodeExec(n3, ["rm", "-rf", "/var/lib/containers", "/tmp/crio-oci"]);
    const after = upperFiles(n3);
    expect(after).toEqual(before);
    expect(hostHas()).toEqual(hostBefore);
  });
});

/**
 * Issue 3, proven on real nodes: the commands ClusterRegistries declares run over real OpenSSH on three node
 * namespaces the way @pulumi/command runs them (create, update with new inputs, delete with the stored old
 * stdin), and what they write is consumed by each node's real containerd.
 */
import * as fs from "fs";
import * as path from "path";
import { ClusterRegistries, ClusterRegistriesArgs, RegistriesInput } from "../../components";
import { ApplySummary, mergeSummaries, parseSummary } from "../../components/node";
import { declare, SimulatedStack } from "../helpers/commandHarness";
import {
  criPull,
  criRemove,
  loadRig,
  nodeExec,
  nodeFile,
  nodeStat,
  Rig,
  RigNode,
  run,
  sshRun,
  upperFiles,
} from "../helpers/rig";

const rig: Rig = loadRig();
// The registry password is the canary (global setup starts the rig with CANARY_PASSWORD from test/helpers).
const CANARY_PASSWORD = rig.auth.password;
const [n1, n2, n3] = rig.nodes;
const PLAIN = rig.registries.plain.host;
const TLS = rig.registries.tls.host;
const FIXTURES = path.join(__dirname, "..", "fixtures", "containerd");
const MK8S = "/var/snap/microk8s/current/args";

// What the nodes had before the library touched them (MicroK8s ships a docker.io hosts.toml of its own).
const HAND_WRITTEN: [RigNode, string, string][] = [
  [
    n2,
    "/etc/docker/daemon.json",
    '{\n  "log-driver": "journald",\n  "insecure-registries": ["legacy.example:5000"]\n}\n',
  ],
  [
    n3,
    `${MK8S}/containerd-template.toml`,
    fs.readFileSync(path.join(FIXTURES, "microk8s-containerd-template.toml"), "utf8"),
  ],
  [
    n3,
    `${MK8S}/certs.d/docker.io/hosts.toml`,
    'server = "https://docker.io"\n\n[host."https://registry-1.docker.io"]\n  capabilities = ["pull", "resolve"]\n',
  ],
];

function registries(
  dockerMirror: string | { endpoint: string; overridePath: true },
  withK8s = true,
): RegistriesInput {
  return {
    "docker.io": {
      server: rig.deadServer,
      mirrors: [typeof dockerMirror === "string" ? { endpoint: dockerMirror } : dockerMirror],
    },
    [TLS]: { tls: { ca: rig.tls.caPem }, auth: { username: rig.auth.user, password: rig.auth.password } },
    ...(withK8s
      ? {
          "registry.k8s.io": {
            server: rig.deadServer,
            mirrors: [{ endpoint: `http://${PLAIN}/v2/ns`, overridePath: true as const }],
          },
        }
      : {}),
  };
}

function cluster(regs: RegistriesInput): ClusterRegistriesArgs {
  const restart = [rig.scripts.nodeContainerd, "restart"];
  const connection = (n: RigNode) => ({
    host: n.ip,
    port: n.port,
    user: "root",
    privateKey: rig.ssh.privateKey,
    hostKey: n.hostKey,
  });
  return {
    registries: regs,
    nodes: [
      {
        name: "node1",
        connection: connection(n1),
        profiles: [{ kind: "containerd", restart, socket: n1.containerdSocket }, { kind: "kubelet" }],
      },
      {
        name: "node2",
        connection: connection(n2),
        // No Docker engine runs on the rig: its reload is a no-op here; the merged daemon.json is checked as a file.
        profiles: [
          { kind: "containerd", restart, credentials: "hosts", socket: n2.containerdSocket },
          { kind: "docker", reload: ["true"] },
        ],
      },
      {
        name: "node3",
        connection: connection(n3),
        profiles: [
          {
            kind: "microk8s",
            restart,
            containerdBinary: "containerd",
            ctr: "ctr",
            socket: n3.containerdSocket,
          },
        ],
      },
    ],
  };
}

async function declared(regs: RegistriesInput) {
  return declare(() => new ClusterRegistries("lab", cluster(regs)));
}

type Results = Map<string, unknown>;
/** A node's summary from the runs of its parts (`lab-<node>-files`, `lab-<node>-services`). */
function summaryOf(result: Results, node: string): ApplySummary | undefined {
  return mergeSummaries(
    ["files", "services"].map((part) => {
      const r = result.get(`lab-${node}-${part}`);
      return r && typeof r === "object" ? parseSummary((r as { stdout: string }).stdout) : undefined;
    }),
  );
}
const containerdPid = (n: RigNode) => fs.readFileSync(n.containerdPidFile, "utf8").trim();

async function writeNodeFile(n: RigNode, file: string, content: string): Promise<void> {
  const r = await nodeExec(n, ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", file], {
    stdin: content,
  });
  if (r.code !== 0) throw new Error(r.stderr);
}

/** Pull through a node's own containerd over CRI, as kubelet does (no credentials in the request). */
async function nodePull(n: RigNode, ref: string): Promise<string> {
  await criRemove(n.containerdSocket, ref).catch(() => undefined);
  return criPull(n.containerdSocket, ref);
}

/** Pull with ctr inside a node's namespaces through a hosts directory on that node. */
async function nodeCtrPull(n: RigNode, hostsDir: string, ref: string): Promise<string> {
  const ctr = ["ctr", "--address", rig.containerd.socket, "-n", "nodetest"];
  const pull = await nodeExec(n, [...ctr, "images", "pull", "--hosts-dir", hostsDir, ref]);
  if (pull.code !== 0) throw new Error(pull.stderr);
  const ls = await nodeExec(n, [...ctr, "images", "ls"]);
  await nodeExec(n, [...ctr, "images", "rm", ref]);
  const line = ls.stdout.split("\n").find((l) => l.startsWith(`${ref} `));
  return /sha256:[0-9a-f]{64}/.exec(line ?? "")![0];
}

/** Every command line running on the machine while `fn` runs (nodes share the PID namespace). */
async function sampleArgv<T>(fn: () => Promise<T>): Promise<{ result: T; argv: Set<string> }> {
  const argv = new Set<string>();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const ps = await run("ps", ["-eo", "args"]);
      ps.stdout.split("\n").forEach((l) => argv.add(l));
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  try {
    return { result: await fn(), argv };
  } finally {
    done = true;
    await sampler;
  }
}

describe("ClusterRegistries on three real nodes", () => {
  const stack = new SimulatedStack();
  let before: Record<string, Record<string, string>>;
  const outputs: string[] = [];

  beforeAll(async () => {
    for (const [n, file, content] of HAND_WRITTEN) await writeNodeFile(n, file, content);
    before = Object.fromEntries(rig.nodes.map((n) => [n.name, upperFiles(n)]));
  });

  test("apply: one session per delivery, restarts rolled, real pulls through what was written", async () => {
    const pids = rig.nodes.map(containerdPid);
    const commands = await declared(registries(`http://${PLAIN}`));
    for (const c of commands.values()) {
      for (const text of [c.create, c.update, c.delete]) expect(text).not.toContain(CANARY_PASSWORD);
    }
    // Files parts never wait; services parts roll one node at a time (maxUnavailable 1).
    expect(Object.fromEntries([...commands.values()].map((c) => [c.name, c.dependsOn]))).toEqual({
      "lab-node1-files": [],
      "lab-node1-services": [],
      "lab-node2-files": [],
      "lab-node2-services": ["lab-node1-services"],
      "lab-node3-files": [],
      "lab-node3-services": ["lab-node2-services"],
    });
    const { result, argv } = await sampleArgv(() => stack.up(commands));
    for (const line of argv) expect(line).not.toContain(CANARY_PASSWORD);
    for (const [name, r] of result) {
      expect(r).not.toBe("unchanged");
      const run = r as { code: number; stdout: string; stderr: string };
      expect({ name, code: run.code, stderr: run.stderr }).toEqual({ name, code: 0, stderr: "" });
      outputs.push(run.stdout, run.stderr);
      expect(stack.commands.get(name)!.sessions).toBe(1);
    }
    expect(summaryOf(result, "node1")).toMatchObject({
      node: "node1",
      actions: ["restart:containerd"],
      // Each profile names the node's socket: every health check ran (and passed).
      unchecked: [],
      drift: [],
    });
    expect(summaryOf(result, "node2")).toMatchObject({
      actions: ["reload:docker", "restart:containerd"],
      unchecked: [],
    });
    expect(summaryOf(result, "node3")).toMatchObject({
      actions: ["restart:microk8s_containerd"],
      unchecked: [],
    });
    rig.nodes.forEach((n, i) => expect(containerdPid(n)).not.toBe(pids[i]));

    // node1: config_path enabled, credentials in the CRI block; kubelet credentials file 0600.
    expect(await nodePull(n1, "docker.io/library/hello:v1")).toBe(rig.images.plain.configDigest);
    expect(await nodePull(n1, `${TLS}/rig/hello:v1`)).toBe(rig.images.tls.configDigest);
    expect(await nodePull(n1, "registry.k8s.io/rig/hello:v1")).toBe(rig.images.ns.configDigest);
    expect(nodeStat(n1, "/var/lib/kubelet/config.json")).toMatchObject({ mode: "600", uid: 0 });
    expect(nodeFile(n1, "/etc/containerd/config.toml")).toContain('config_path = "/etc/containerd/certs.d"');
    // node2: credentials as a Basic header in hosts.toml (0600); daemon.json merged, hand-written keys kept.
    expect(nodeStat(n2, `/etc/containerd/certs.d/${TLS}/hosts.toml`)).toMatchObject({ mode: "600" });
    expect(await nodePull(n2, `${TLS}/rig/hello:v1`)).toBe(rig.images.tls.configDigest);
    expect(JSON.parse(nodeFile(n2, "/etc/docker/daemon.json")!)).toEqual({
      "log-driver": "journald",
      "insecure-registries": ["legacy.example:5000", PLAIN, "127.0.0.1:1"],
      "registry-mirrors": [`http://${PLAIN}`, "http://127.0.0.1:1"],
    });
    // node3: MicroK8s paths; its own docker.io hosts.toml replaced (and kept for destroy).
    expect(await nodeCtrPull(n3, `${MK8S}/certs.d`, "docker.io/library/hello:v1")).toBe(
      rig.images.plain.digest,
    );
    expect(nodeFile(n3, `${MK8S}/containerd-template.toml`)).toContain(`registry.configs."${TLS}".auth`);
  });

  test("a second identical apply opens no session and restarts nothing", async () => {
    const pids = rig.nodes.map(containerdPid);
    const result = await stack.up(await declared(registries(`http://${PLAIN}`)));
    expect(new Set(result.values())).toEqual(new Set(["unchanged"]));
    for (const sim of stack.commands.values()) expect(sim.sessions).toBe(1);
    // Even when the same scripts run again (a forced re-run), nothing changes and nothing restarts.
    const again = new Map<string, unknown>();
    for (const part of ["files", "services"]) {
      const state = stack.commands.get(`lab-node1-${part}`)!.state!;
      again.set(`lab-node1-${part}`, await sshRun(n1, state.update!, state.stdin));
    }
    expect(summaryOf(again, "node1")).toMatchObject({ changed: [], removed: [], actions: [], unchanged: 6 });
    expect(rig.nodes.map(containerdPid)).toEqual(pids);
  });

  test("a hosts.toml-only change restarts nothing and takes effect at once", async () => {
    const pids = rig.nodes.map(containerdPid);
    const result = await stack.up(
      await declared(registries({ endpoint: `http://${PLAIN}/v2/alt`, overridePath: true })),
    );
    // Only the files parts ran, plus node2's Docker part (its mirror list changed: a reload, never a restart).
    expect(
      [...result]
        .filter(([, r]) => r !== "unchanged")
        .map(([n]) => n)
        .sort(),
    ).toEqual(["lab-node1-files", "lab-node2-files", "lab-node2-services", "lab-node3-files"]);
    for (const r of result.values()) if (r !== "unchanged") outputs.push((r as { stdout: string }).stdout);
    expect(summaryOf(result, "node2")!.actions).toEqual(["reload:docker"]);
    expect(summaryOf(result, "node3")!.actions).toEqual([]);
    expect(summaryOf(result, "node1")!.changed).toEqual(["/etc/containerd/certs.d/docker.io/hosts.toml"]);
    expect(rig.nodes.map(containerdPid)).toEqual(pids);
    expect(await nodePull(n1, "docker.io/library/hello:v1")).toBe(rig.images.alt.configDigest);
  });

  test("removing a registry removes its files; a hand edit is reported as drift and put back", async () => {
    const hosts = "/etc/containerd/certs.d/docker.io/hosts.toml";
    const declaredContent = nodeFile(n1, hosts)!;
    await writeNodeFile(n1, hosts, `${declaredContent}# edited by hand\n`);
    const result = await stack.up(
      await declared(registries({ endpoint: `http://${PLAIN}/v2/alt`, overridePath: true }, false)),
    );
    const s1 = summaryOf(result, "node1")!;
    expect(s1.drift).toEqual([hosts]);
    expect(s1.removed).toEqual(["/etc/containerd/certs.d/registry.k8s.io/hosts.toml"]);
    expect(nodeFile(n1, hosts)).toBe(declaredContent);
    for (const n of [n1, n2]) expect(nodeStat(n, "/etc/containerd/certs.d/registry.k8s.io")).toBeUndefined();
    expect(nodeStat(n3, `${MK8S}/certs.d/registry.k8s.io`)).toBeUndefined();
    for (const r of result.values()) if (r !== "unchanged") outputs.push((r as { stdout: string }).stdout);
  });

  test("destroy gives every node back byte for byte, with the stored old stdin", async () => {
    const result = await stack.destroy();
    for (const [name, r] of result) {
      const run = r as { code: number; stdout: string; stderr: string };
      expect({ name, code: run.code, stderr: run.stderr }).toEqual({ name, code: 0, stderr: "" });
      outputs.push(run.stdout);
    }
    for (const n of rig.nodes) expect(upperFiles(n)).toEqual(before[n.name]);
    for (const [n, file, content] of HAND_WRITTEN) expect(nodeFile(n, file)).toBe(content);
    for (const n of rig.nodes) expect(nodeStat(n, "/var/lib/pulumi-registries")).toBeUndefined();
  });

  test("the canary password never appeared in any command text, node argv or output", () => {
    for (const o of outputs) expect(o).not.toContain(CANARY_PASSWORD);
    for (const sim of stack.commands.values())
      for (const r of sim.runs) expect(r.stdout + r.stderr).not.toContain(CANARY_PASSWORD);
  });
});

/**
 * Issue 10 on real nodes: the containers NodeClassRegistries declares, run exactly as their Pods run them (the Pod
 * template's command and environment, the payload mounted where the Pod mounts it, `hostPID`), by a STAND-IN for
 * kubelet (test/helpers/podStandIn.ts: the rig has no Kubernetes), against two rig nodes' real containerd:
 * apply, a no-op, a mirror edit, a credential change (with containerd's restart) serialised with a concurrent SSH
 * apply on the same node by the node's lock, drift reported by the checker's readiness probe, and the give-back
 * program (the real bundled text, run as its local.Command runs it, against a STAND-IN kubectl whose DaemonSet
 * controller runs the destroy Pods here) with a node that is down until it returns. Every step is proven by a
 * real pull through the node's CRI or by comparing the node's files byte for byte.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { NodeClassRegistriesArgs, RegistriesInput, RuntimeProfile } from "../../components";
import { DAEMONSET_SCRIPT } from "../../components/kubectl/daemonSetScript.bundle";
import { MODE_ANNOTATION } from "../../components/kubernetes";
import { ApplySummary, buildNodeScript, nodeCommand, parseSummary, planNode } from "../../components/node";
import { normalizeRegistries } from "../../components/render";
import type * as ClassModule from "../../components/resources/nodeClassRegistries";
import { runContainer, startContainer, ContainerRun } from "../helpers/podStandIn";
import { installMocks, isWireSecret, promiseOf, Registration, unwrap } from "../helpers/pulumiMocks";
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
} from "../helpers/rig";

const mocks = installMocks();
let NodeClassRegistries: typeof ClassModule.NodeClassRegistries;

const rig: Rig = loadRig();
const [n1, n2] = rig.nodes;
const PLAIN = rig.registries.plain.host;
const TLS = rig.registries.tls.host;
const RIGHT = rig.auth.password; // the canary (global setup)
const WRONG = "not-the-Pa55word-9c1d";
const RESTART = [rig.scripts.nodeContainerd, "restart"];
const PROFILES: RuntimeProfile[] = [{ kind: "containerd", restart: RESTART }, { kind: "kubelet" }];
const HOSTS_DOCKER = "/etc/containerd/certs.d/docker.io/hosts.toml";
const STANDIN_KUBECTL = path.join(__dirname, "..", "standins", "daemonset");

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Role = "files" | "services" | "check";

function registries(mirror: "plain" | "alt", password: string): RegistriesInput {
  return {
    "docker.io": {
      server: rig.deadServer,
      mirrors: [
        mirror === "plain"
          ? { endpoint: `http://${PLAIN}` }
          : { endpoint: `http://${PLAIN}/v2/alt`, overridePath: true as const },
      ],
    },
    [TLS]: { tls: { ca: rig.tls.caPem }, auth: { username: rig.auth.user, password } },
  };
}

/** What the component declared: the payload objects' content, the DaemonSets, the give-back commands. */
interface Declared {
  objects: Record<string, Record<string, string>>;
  daemonSets: Record<Role, Obj>;
  giveBack: Record<
    "files" | "services",
    { delete: string; stdin: string; environment: Record<string, string> }
  >;
}

function deep(v: unknown): unknown {
  if (isWireSecret(v)) return deep(unwrap(v));
  if (Array.isArray(v)) return v.map(deep);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
}

let seq = 0;
async function declared(regs: RegistriesInput, profiles = PROFILES): Promise<Declared> {
  const name = `ds${++seq}`;
  const args: NodeClassRegistriesArgs = {
    registries: regs,
    classes: [{ name: "rig", nodeSelector: { "registry-setup.test/rig": "true" }, profiles }],
    driftCheckSeconds: 1,
    giveBackTimeoutSeconds: 5,
  };
  const c = new NodeClassRegistries(name, args);
  await promiseOf(c.files);
  await mocks.settle();
  const regsOf = mocks.named(`${name}-`).filter((r) => r.custom);
  const get = (suffix: string): Registration => regsOf.find((r) => r.name === `${name}-${suffix}`)!;
  const objects: Declared["objects"] = {};
  for (const part of ["files", "services"]) {
    const r = get(`rig-${part}-payload`);
    const o = deep(r.inputs) as Obj;
    objects[o.metadata.name] =
      r.type === "kubernetes:core/v1:Secret"
        ? Object.fromEntries(
            Object.entries(o.data as Record<string, string>).map(([k, v]) => [
              k,
              Buffer.from(v, "base64").toString(),
            ]),
          )
        : (o.data as Record<string, string>);
  }
  const ds = (role: Role) => deep(get(`rig-${role}`).inputs) as Obj;
  const cmd = (part: "files" | "services") =>
    deep(get(`rig-${part}-give-back`).inputs) as Declared["giveBack"]["files"];
  return {
    objects,
    daemonSets: { files: ds("files"), services: ds("services"), check: ds("check") },
    giveBack: { files: cmd("files"), services: cmd("services") },
  };
}

const sshdPid = (n: RigNode) => fs.readFileSync(n.sshdPidFile, "utf8").trim();
const containerdPid = (n: RigNode) => fs.readFileSync(n.containerdPidFile, "utf8").trim();

/** The template a DaemonSet's Pods get, in the mode its annotation says (what the give-back patch changes). */
function template(ds: Obj, mode?: "destroy"): Obj {
  const t = structuredClone(ds.spec.template) as Obj;
  if (mode) t.metadata.annotations[MODE_ANNOTATION] = mode;
  return t;
}

const outputs: string[] = [];
const argvSeen = new Set<string>();

/** Every command line running on the machine while `fn` runs (the rig's nodes share the PID namespace). */
async function sampleArgv<T>(fn: () => Promise<T>): Promise<T> {
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const ps = await run("ps", ["-eo", "args"]);
      ps.stdout.split("\n").forEach((l) => argvSeen.add(l));
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  try {
    return await fn();
  } finally {
    done = true;
    await sampler;
  }
}

/** Run a part's apply container on a node, as its Pod would. */
async function applyContainer(
  n: RigNode,
  d: Declared,
  part: "files" | "services",
  mode?: "destroy",
): Promise<ContainerRun> {
  const r = await runContainer({
    node: n,
    template: template(d.daemonSets[part], mode),
    container: "apply",
    objects: d.objects,
    env: { P_TARGET_PID: sshdPid(n) },
  });
  outputs.push(r.stdout, r.stderr, r.terminationMessage);
  return r;
}

/** Run a part's apply container on a node, as its Pod would; fails the test unless it exits 0. */
async function applyPod(
  n: RigNode,
  d: Declared,
  part: "files" | "services",
  mode?: "destroy",
): Promise<ApplySummary> {
  const r = await applyContainer(n, d, part, mode);
  expect({ node: n.name, part, code: r.code, stderr: r.stderr }).toEqual({
    node: n.name,
    part,
    code: 0,
    stderr: "",
  });
  // The summary goes to the log and, as kubelet keeps it, to the termination message.
  expect(r.terminationMessage).toBe(`${r.stdout.trim().split("\n").at(-1)}\n`);
  return parseSummary(r.terminationMessage)!;
}

async function nodePull(n: RigNode, ref: string): Promise<string> {
  await criRemove(n.containerdSocket, ref).catch(() => undefined);
  return criPull(n.containerdSocket, ref);
}

/** Files (not directories) in a node's overlay upper dirs, with their content: what the node has changed. */
function upperFiles(n: RigNode): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (prefix: string, dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(`${prefix}/${e.name}`, p);
      else
        out[`${prefix}/${e.name}`] = e.isFile() ? fs.readFileSync(p, "utf8") : "<whiteout or special file>";
    }
  };
  walk("/etc", n.upperEtc);
  walk("/var", n.upperVar);
  return out;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * STAND-IN for the DaemonSet controller and the kubelets of a class's nodes (no Kubernetes here): it reads the
 * DaemonSets from the stand-in kubectl's state; when one's generation changes (the give-back patch), it runs the
 * new Pod's apply container on every node that is up (a `files` DaemonSet on all at once, `services` one node at a
 * time, its maxUnavailable of 1), and writes the status and the Pods the way the API server would show them. A node
 * that is down keeps its old Pod, not Ready.
 */
class ClusterStandIn {
  readonly up = new Map<string, boolean>([
    [n1.name, true],
    [n2.name, true],
  ]);
  private readonly done = new Map<string, { generation: number; nodes: Set<string> }>();
  private running = false;
  private loop?: Promise<void>;
  readonly runs: ContainerRun[] = [];

  constructor(
    private readonly stateFile: string,
    private readonly d: Declared,
  ) {
    const daemonSets: Record<string, Obj> = {};
    const status: Record<string, Obj> = {};
    const pods: Record<string, Obj[]> = {};
    for (const part of ["files", "services"] as const) {
      const ds = structuredClone(d.daemonSets[part]);
      ds.metadata.generation = 1;
      daemonSets[`${ds.metadata.namespace}/${ds.metadata.name}`] = ds;
      this.done.set(ds.metadata.name, { generation: 1, nodes: new Set([n1.name, n2.name]) });
    }
    fs.writeFileSync(stateFile, JSON.stringify({ daemonSets }));
    this.write(daemonSets, status, pods);
  }

  private write(
    daemonSets: Record<string, Obj>,
    status: Record<string, Obj>,
    pods: Record<string, Obj[]>,
  ): void {
    for (const ds of Object.values(daemonSets)) {
      const name = ds.metadata.name as string;
      const d = this.done.get(name)!;
      const mode = ds.spec.template.metadata.annotations[MODE_ANNOTATION];
      status[name] = {
        observedGeneration: d.generation,
        desiredNumberScheduled: 2,
        currentNumberScheduled: 2,
        updatedNumberScheduled: d.nodes.size,
        numberAvailable: d.nodes.size,
        numberReady: d.nodes.size,
      };
      pods[name] = [n1, n2].map((n, i) => {
        const updated = d.nodes.has(n.name);
        return {
          metadata: { name: `${name}-${i}`, annotations: { [MODE_ANNOTATION]: updated ? mode : "apply" } },
          spec: { nodeName: n.name },
          status: {
            phase: "Running",
            conditions: [{ type: "Ready", status: updated && this.up.get(n.name) ? "True" : "False" }],
          },
        };
      });
    }
    fs.writeFileSync(`${this.stateFile}.cluster.json.tmp`, JSON.stringify({ status, pods }));
    fs.renameSync(`${this.stateFile}.cluster.json.tmp`, `${this.stateFile}.cluster.json`);
  }

  private async tick(): Promise<void> {
    const state = JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as { daemonSets: Record<string, Obj> };
    const work: Promise<void>[] = [];
    for (const ds of Object.values(state.daemonSets)) {
      const name = ds.metadata.name as string;
      const d = this.done.get(name)!;
      if (ds.metadata.generation !== d.generation)
        this.done.set(name, { generation: ds.metadata.generation, nodes: new Set() });
      const todo = [n1, n2].filter((n) => this.up.get(n.name) && !this.done.get(name)!.nodes.has(n.name));
      const part = ds.metadata.labels["app.kubernetes.io/component"] as "files" | "services";
      const runOn = async (n: RigNode) => {
        const r = await runContainer({
          node: n,
          template: ds.spec.template,
          container: "apply",
          objects: this.d.objects,
          env: { P_TARGET_PID: sshdPid(n) },
        });
        this.runs.push(r);
        outputs.push(r.stdout, r.stderr, r.terminationMessage);
        if (r.code === 0) this.done.get(name)!.nodes.add(n.name);
      };
      work.push(
        part === "files"
          ? Promise.all(todo.map(runOn)).then(() => undefined)
          : (async () => {
              for (const n of todo) await runOn(n);
            })(),
      );
    }
    await Promise.all(work);
    this.write(state.daemonSets, {}, {});
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.tick();
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Whether every DaemonSet's current Pod ran on the node. */
  givenBack(n: RigNode): boolean {
    return [...this.done.values()].every((d) => d.nodes.has(n.name));
  }
}

/** Run a give-back command as @pulumi/command's local.Command runs its `delete`: `/bin/sh -c`, stdin, env. */
function giveBack(c: Declared["giveBack"]["files"], stateFile: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn("/bin/sh", ["-c", c.delete], {
      env: {
        ...process.env,
        ...c.environment,
        PATH: `${STANDIN_KUBECTL}:${process.env.PATH}`,
        STANDIN_KUBECTL_STATE: stateFile,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("close", (code) => {
      outputs.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(c.stdin);
  });
}

describe("NodeClassRegistries' Pods on two real nodes (kubelet stand-in)", () => {
  let before: Record<string, Record<string, string>>;
  let last: Declared;
  const SSH_TRACE = "/run/ds-lock-trace";
  const sshSide = () =>
    buildNodeScript(
      // A Docker Hub mirror: daemon.json gets registry-mirrors and insecure-registries, and docker a reload.
      planNode(normalizeRegistries({ "docker.io": { mirrors: [{ endpoint: `http://${PLAIN}` }] } }), {
        node: n1.name,
        owner: "ssh-side",
        profiles: [
          {
            kind: "docker",
            // Holds the node's lock for 1 s while it "reloads", and says when it started and ended.
            reload: [
              "sh",
              "-c",
              `echo "start $(date +%s.%N)" >>${SSH_TRACE}; sleep 1; echo "end $(date +%s.%N)" >>${SSH_TRACE}`,
            ],
          },
        ],
      }),
    );

  beforeAll(async () => {
    ({ NodeClassRegistries } = await import("../../components/resources/nodeClassRegistries"));
    // The profile's default socket: on a real node containerd listens there; a rig node's lives elsewhere.
    for (const n of [n1, n2]) {
      const r = await nodeExec(n, [
        "sh",
        "-c",
        `mkdir -p /run/containerd && ln -sfn "$1" /run/containerd/containerd.sock`,
        "sh",
        n.containerdSocket,
      ]);
      expect(r.code).toBe(0);
    }
    before = Object.fromEntries([n1, n2].map((n) => [n.name, upperFiles(n)]));
  });

  let givenBack = false;
  afterAll(async () => {
    // A test that failed halfway must not leave the nodes changed for the rig's other test files.
    if (!givenBack && last) {
      await sshRun(n1, nodeCommand("destroy"), sshSide(), { timeoutMs: 60_000 });
      for (const n of [n1, n2]) {
        for (const part of ["files", "services"] as const) await applyContainer(n, last, part, "destroy");
      }
    }
    for (const n of [n1, n2]) await nodeExec(n, ["rm", "-rf", "/run/containerd", SSH_TRACE]);
  });

  test("apply: both parts' Pods at once on each node; real pulls through what they wrote", async () => {
    const pids = [n1, n2].map(containerdPid);
    const d = (last = await declared(registries("plain", WRONG)));
    // The payloads: the files part holds kubelet's credentials (a Secret), so does the services part (the CRI block).
    expect(Object.keys(d.objects).sort()).toEqual(["registries-rig-files", "registries-rig-services"]);
    const summaries = await Promise.all(
      [n1, n2].flatMap((n) => (["files", "services"] as const).map((part) => applyPod(n, d, part))),
    );
    expect(summaries.map((s) => [s.node, s.part, s.actions])).toEqual([
      [n1.name, "files", []],
      [n1.name, "services", ["restart:containerd"]],
      [n2.name, "files", []],
      [n2.name, "services", ["restart:containerd"]],
    ]);
    expect(summaries[0].changed).toEqual([
      "/etc/containerd/certs.d/10.123.0.1:5443/ca.crt",
      "/etc/containerd/certs.d/10.123.0.1:5443/hosts.toml",
      HOSTS_DOCKER,
      "/var/lib/kubelet/config.json",
    ]);
    expect([n1, n2].map(containerdPid)).not.toEqual(pids);
    expect(nodeFile(n1, "/etc/containerd/config.toml")).toContain('config_path = "/etc/containerd/certs.d"');
    expect(await nodePull(n1, "docker.io/library/hello:v1")).toBe(rig.images.plain.configDigest);
    expect(await nodePull(n2, "docker.io/library/hello:v1")).toBe(rig.images.plain.configDigest);
    // The CA is in place (no x509 error); the credentials in the CRI block are the wrong ones.
    await expect(nodePull(n1, `${TLS}/rig/hello:v1`)).rejects.toThrow(/401 Unauthorized/);
  });

  test("no-op: the same declaration declares the same objects; a Pod that runs again changes nothing", async () => {
    const d = await declared(registries("plain", WRONG));
    expect(d.daemonSets).toEqual(last.daemonSets);
    expect(d.objects).toEqual(last.objects);
    const pid = containerdPid(n1);
    const files = upperFiles(n1);
    for (const part of ["files", "services"] as const) {
      expect(await applyPod(n1, d, part)).toMatchObject({ changed: [], removed: [], actions: [], drift: [] });
    }
    expect(containerdPid(n1)).toBe(pid);
    expect(upperFiles(n1)).toEqual(files);
  });

  test("a mirror edit rolls only the files DaemonSet; no restart; the next pull takes the new mirror", async () => {
    const d = await declared(registries("alt", WRONG));
    expect(d.daemonSets.services).toEqual(last.daemonSets.services);
    expect(d.daemonSets.files.spec.template).not.toEqual(last.daemonSets.files.spec.template);
    last = d;
    const pids = [n1, n2].map(containerdPid);
    const s = await Promise.all([n1, n2].map((n) => applyPod(n, d, "files")));
    for (const x of s) expect(x).toMatchObject({ changed: [HOSTS_DOCKER], actions: [] });
    expect([n1, n2].map(containerdPid)).toEqual(pids);
    expect(await nodePull(n1, "docker.io/library/hello:v1")).toBe(rig.images.alt.configDigest);
  });

  test("a credential change restarts containerd, after a concurrent SSH apply on the same node let go of the lock", async () => {
    const d = (last = await declared(registries("alt", RIGHT)));
    await nodeExec(n1, ["rm", "-f", SSH_TRACE]);
    const ssh = sshRun(n1, nodeCommand("apply"), sshSide(), { timeoutMs: 60_000 });
    const sshStart = await until(
      "the SSH apply to hold the lock",
      async () => /^start (\S+)$/m.exec(nodeFile(n1, SSH_TRACE) ?? "")?.[1],
    );
    const podStart = Date.now() / 1000;
    const services = await sampleArgv(() => applyPod(n1, d, "services"));
    const sshRun1 = await ssh;
    outputs.push(sshRun1.stdout, sshRun1.stderr);
    expect({ code: sshRun1.code, stderr: sshRun1.stderr }).toEqual({ code: 0, stderr: "" });
    expect(parseSummary(sshRun1.stdout)).toMatchObject({ owner: "ssh-side", actions: ["reload:docker"] });
    const sshEnd = Number(/^end (\S+)$/m.exec(nodeFile(n1, SSH_TRACE)!)![1]);
    const restartedAt = fs.statSync(n1.containerdPidFile).mtimeMs / 1000;
    // The Pod started while the SSH apply held the node's lock, and restarted containerd only after it let go.
    expect(podStart).toBeGreaterThan(Number(sshStart));
    expect(podStart).toBeLessThan(sshEnd);
    expect(restartedAt).toBeGreaterThan(sshEnd);
    expect(services).toMatchObject({
      changed: ["/etc/containerd/config.toml"],
      actions: ["restart:containerd"],
    });
    expect(await applyPod(n1, d, "files")).toMatchObject({ changed: ["/var/lib/kubelet/config.json"] });
    expect(await nodePull(n1, `${TLS}/rig/hello:v1`)).toBe(rig.images.tls.configDigest);
    // node2 next (the services DaemonSet's maxUnavailable of 1).
    for (const part of ["services", "files"] as const) await applyPod(n2, d, part);
    expect(await nodePull(n2, `${TLS}/rig/hello:v1`)).toBe(rig.images.tls.configDigest);
  });

  test("drift: the checker's readiness probe fails with the report while a managed file is edited by hand", async () => {
    const checker = startContainer({
      node: n1,
      template: template(last.daemonSets.check),
      container: "check",
      objects: last.objects,
      env: { P_TARGET_PID: sshdPid(n1) },
    });
    const probe = last.daemonSets.check.spec.template.spec.containers[0].readinessProbe.exec
      .command as string[];
    try {
      const ready = await until("the checker to report the node converged", async () => {
        const r = await checker.exec(probe);
        return r.code === 0 ? r : undefined;
      });
      expect(
        ready.stdout
          .trim()
          .split("\n")
          .map((l) => parseSummary(l)!.mode),
      ).toEqual(["check", "check"]);
      const declaredHosts = nodeFile(n1, HOSTS_DOCKER)!;
      const edit = await nodeExec(n1, ["sh", "-c", `echo '# edited by hand' >>${HOSTS_DOCKER}`]);
      expect(edit.code).toBe(0);
      const failing = await until("the probe to fail", async () => {
        const r = await checker.exec(probe);
        return r.code !== 0 ? r : undefined;
      });
      // What kubelet records in the "Readiness probe failed: …" event: the check's summary, with the drift.
      const lines = failing.stdout
        .trim()
        .split("\n")
        .map((l) => parseSummary(l)!);
      expect(lines.map((x) => [x.part, x.mode, x.drift])).toEqual([
        ["files", "check", [HOSTS_DOCKER]],
        ["services", "check", []],
      ]);
      // `kubectl rollout restart`: the files Pod runs again, puts the declared file back and reports the drift.
      expect(await applyPod(n1, last, "files")).toMatchObject({
        drift: [HOSTS_DOCKER],
        changed: [HOSTS_DOCKER],
      });
      expect(nodeFile(n1, HOSTS_DOCKER)).toBe(declaredHosts);
      await until("the probe to pass again", async () =>
        (await checker.exec(probe)).code === 0 ? true : undefined,
      );
    } finally {
      const stopped = await checker.stop();
      outputs.push(stopped.stdout, stopped.stderr);
      expect(stopped.code).toBe(0); // TERM: it stops at once
      expect(stopped.stdout).toContain('"drift":["/etc/containerd/certs.d/docker.io/hosts.toml"]');
    }
  });

  test("a failed apply exits non-zero (the Pod is not Ready: the rollout stops there); the node keeps its files", async () => {
    const failingRestart = [
      "sh",
      "-c",
      "echo 'containerd.service: start request repeated too quickly' >&2; exit 1",
    ];
    const d = await declared(registries("alt", WRONG), [
      { kind: "containerd", restart: failingRestart },
      { kind: "kubelet" },
    ]);
    const config = nodeFile(n1, "/etc/containerd/config.toml");
    const pid = containerdPid(n1);
    const r = await applyContainer(n1, d, "services");
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("a service action failed; restoring the previous files");
    expect(r.stderr).toContain("start request repeated too quickly");
    // No message: kubelet shows the end of the log instead (FallbackToLogsOnError), where the error is.
    expect(r.terminationMessage).toBe("");
    expect(parseSummary(r.stdout)).toMatchObject({ rolledBack: true });
    expect(nodeFile(n1, "/etc/containerd/config.toml")).toBe(config);
    expect(containerdPid(n1)).toBe(pid);
    expect(await nodePull(n1, `${TLS}/rig/hello:v1`)).toBe(rig.images.tls.configDigest);
  });

  test("give-back: every node up is given back; a node that is down is named, and given back when it returns", async () => {
    const ssh = await sshRun(n1, nodeCommand("destroy"), sshSide(), { timeoutMs: 60_000 });
    expect(ssh.code).toBe(0);
    for (const part of ["files", "services"] as const) {
      expect(last.giveBack[part]).toMatchObject({ delete: "node - give-back", stdin: DAEMONSET_SCRIPT });
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-giveback-"));
    const state = path.join(dir, "state.json");
    const cluster = new ClusterStandIn(state, last);
    cluster.up.set(n2.name, false);
    cluster.start();
    try {
      const first = await Promise.all([
        giveBack(last.giveBack.files, state),
        giveBack(last.giveBack.services, state),
      ]);
      for (const r of first) {
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(`${n2.name} (still the apply Pod`);
        expect(r.stderr).not.toContain(`${n1.name} (`);
        expect(r.stderr).toContain("run pulumi destroy again");
      }
      expect(cluster.givenBack(n1)).toBe(true);
      // node1 is back as it was; node2 still has everything.
      expect(upperFiles(n1)).toEqual(before[n1.name]);
      expect(nodeStat(n1, "/var/lib/pulumi-registries")).toBeUndefined();
      expect(nodeStat(n2, HOSTS_DOCKER)).toBeDefined();
      await expect(nodePull(n1, "docker.io/library/hello:v1")).rejects.toThrow(
        /registry-1\.docker\.io|network is unreachable/,
      );

      cluster.up.set(n2.name, true); // the node returns: its Pods are replaced by destroy Pods
      await until(
        "node2's destroy Pods",
        async () => (nodeStat(n2, "/var/lib/pulumi-registries") ? undefined : true),
        30_000,
      );
      const second = await Promise.all([
        giveBack(last.giveBack.files, state),
        giveBack(last.giveBack.services, state),
      ]);
      for (const r of second) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(fs.readFileSync(state, "utf8")).daemonSets).toEqual({});
      expect(upperFiles(n2)).toEqual(before[n2.name]);
      givenBack = true;
      expect(cluster.runs.map((r) => parseSummary(r.stdout)!.mode)).toEqual([
        "destroy",
        "destroy",
        "destroy",
        "destroy",
      ]);
    } finally {
      await cluster.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("no credential ever appeared in a log, a termination message, a probe's output or a command line", () => {
    expect(outputs.length).toBeGreaterThan(20);
    expect(argvSeen.size).toBeGreaterThan(10);
    for (const o of [...outputs, ...argvSeen]) {
      expect(o).not.toContain(RIGHT);
      expect(o).not.toContain(WRONG);
    }
  });
});

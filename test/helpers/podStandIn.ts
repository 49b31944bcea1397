/**
 * STAND-IN for kubelet and a container runtime — NOT kubelet. The rig has no Kubernetes, so a DaemonSet's container
 * is run here the way kubelet would run it on a node, from the Pod template the component declares:
 *
 * - the container's root: a BusyBox root file system (Debian's `busybox` and the libraries it links, with a link for
 *   every applet: the layout of the `busybox` image), read-only when `readOnlyRootFilesystem` says so;
 * - `hostPID: true`: the container's /proc is a procfs of the machine's PID namespace, the one the rig's nodes share;
 * - its volumes where its `volumeMounts` put them: a Secret's or ConfigMap's keys as files with the volume's
 *   `defaultMode` (content from the payload objects the component declared), `emptyDir` as a tmpfs;
 * - `/dev` with null, zero, random, urandom, and `/dev/termination-log` (read back as the termination message);
 * - its `command`, and its `env` resolved as kubelet resolves it (`fieldRef` to `spec.nodeName` and to the Pod's
 *   annotations), plus the image's PATH;
 * - privileged (all capabilities, no seccomp): the containers run here are the privileged ones.
 *
 * The container gets its own mount namespace (`unshare -m`) and `chroot`s into that root; it shares the machine's
 * network namespace, as the agent never uses the network itself (what it runs does, inside the node's). The one
 * difference the rig forces: its nodes have no PID namespace of their own, so the node's "PID 1" is its sshd, given
 * to the agent as `P_TARGET_PID` (a real Pod leaves it unset: PID 1).
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { rigDir, RigNode, run, RunResult } from "./rig";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a container run produced. */
export interface ContainerRun extends RunResult {
  /** `/dev/termination-log` after the container stopped (what kubelet puts in the container's status). */
  terminationMessage: string;
  /** Wall time of the run. */
  ms: number;
}

/** Which container of which Pod template to run, on which node. */
export interface ContainerSpec {
  node: RigNode;
  /** The DaemonSet's `spec.template`. */
  template: Obj;
  /** The container's name (an init container or a container). */
  container: string;
  /** The payload objects' content, by object name: the text under each key. */
  objects: Record<string, Record<string, string>>;
  /** Extra environment (after the container's own). */
  env?: Record<string, string>;
}

/** The BusyBox image's PATH. */
const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

let root: string | undefined;

/** The BusyBox root file system (built once per rig). */
export function busyboxRoot(): string {
  if (root && fs.existsSync(path.join(root, "bin", "sh"))) return root;
  root = path.join(rigDir(), "pod-rootfs");
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, "bin"), { recursive: true });
  const busybox = "/usr/bin/busybox";
  fs.copyFileSync(busybox, path.join(root, "bin", "busybox"));
  fs.chmodSync(path.join(root, "bin", "busybox"), 0o755);
  // Debian's busybox is dynamically linked (the image's is static): its libraries go where the loader looks.
  const ldd = spawnSync("ldd", [busybox], { encoding: "utf8" }).stdout;
  for (const m of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) {
    const lib = m[1];
    fs.mkdirSync(path.join(root, path.dirname(lib)), { recursive: true });
    fs.copyFileSync(lib, path.join(root, lib));
  }
  const applets = spawnSync(busybox, ["--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  for (const a of applets) {
    if (a !== "busybox") fs.symlinkSync("busybox", path.join(root, "bin", a));
  }
  for (const d of ["proc", "dev", "tmp", "run", "etc"]) fs.mkdirSync(path.join(root, d), { recursive: true });
  return root;
}

function findContainer(template: Obj, name: string): Obj {
  const spec = template.spec as Obj;
  const c = [...((spec.initContainers as Obj[]) ?? []), ...((spec.containers as Obj[]) ?? [])].find(
    (x) => x.name === name,
  );
  if (!c) throw new Error(`no container ${name} in the Pod template`);
  return c;
}

function resolveEnv(spec: ContainerSpec, c: Obj): Record<string, string> {
  const env: Record<string, string> = { PATH: IMAGE_PATH };
  for (const e of (c.env as Obj[]) ?? []) {
    if (typeof e.value === "string") env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) {
      const field = e.valueFrom.fieldRef.fieldPath as string;
      const ann = /^metadata\.annotations\['(.+)'\]$/.exec(field);
      if (field === "spec.nodeName") env[e.name] = spec.node.name;
      else if (ann) env[e.name] = (spec.template.metadata?.annotations ?? {})[ann[1]] ?? "";
      else throw new Error(`stand-in: fieldRef ${field} is not supported`);
    } else throw new Error(`stand-in: env ${e.name} has a source this stand-in does not know`);
  }
  return { ...env, ...spec.env };
}

interface Prepared {
  work: string;
  argv: string[];
  env: Record<string, string>;
}

function prepare(spec: ContainerSpec): Prepared {
  const c = findContainer(spec.template, spec.container);
  if (c.securityContext?.privileged !== true)
    throw new Error("stand-in: only privileged containers run here");
  const work = path.join(rigDir(), "pods", crypto.randomBytes(6).toString("hex"));
  fs.mkdirSync(path.join(work, "root"), { recursive: true });
  fs.writeFileSync(path.join(work, "termination-log"), "");
  const mounts: string[] = [];
  const volumes = new Map(((spec.template.spec.volumes as Obj[]) ?? []).map((v) => [v.name as string, v]));
  for (const m of (c.volumeMounts as Obj[]) ?? []) {
    const v = volumes.get(m.name);
    if (!v) throw new Error(`stand-in: no volume ${m.name}`);
    const src = path.join(work, "volumes", m.name);
    fs.mkdirSync(src, { recursive: true });
    const source = v.secret ?? v.configMap;
    if (source) {
      const objectName = (v.secret?.secretName ?? v.configMap?.name) as string;
      const data = spec.objects[objectName];
      if (!data) throw new Error(`stand-in: the payload object ${objectName} was not given`);
      for (const item of (source.items as Obj[]) ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
        const file = path.join(src, item.path);
        fs.writeFileSync(file, data[item.key]);
        fs.chmodSync(file, (item.mode ?? source.defaultMode ?? 0o644) as number);
      }
      mounts.push(`bind\t${src}\t${m.mountPath}\t1`);
    } else if (v.emptyDir) {
      mounts.push(`tmpfs\t-\t${m.mountPath}\t0`);
    } else throw new Error(`stand-in: volume ${m.name} has a kind this stand-in does not know`);
  }
  fs.writeFileSync(path.join(work, "mounts"), mounts.map((l) => `${l}\n`).join(""));
  const readOnly = c.securityContext?.readOnlyRootFilesystem === true ? "1" : "0";
  const setup = `set -eu
W=$1 R=$2 RO=$3
shift 3
mount -t tmpfs -o mode=755 pod-root "$W/root"
for d in bin lib lib64 usr; do
  [ -d "$R/$d" ] || continue
  mkdir -p "$W/root/$d"; mount --bind "$R/$d" "$W/root/$d"; mount -o remount,bind,ro "$W/root/$d"
done
mkdir -p "$W/root/proc" "$W/root/dev" "$W/root/tmp" "$W/root/run" "$W/root/etc"
mount -t proc proc "$W/root/proc"
mount -t tmpfs -o mode=755 pod-dev "$W/root/dev"
for n in null zero random urandom; do touch "$W/root/dev/$n"; mount --bind "/dev/$n" "$W/root/dev/$n"; done
touch "$W/root/dev/termination-log"; mount --bind "$W/termination-log" "$W/root/dev/termination-log"
while IFS=$(printf '\\t') read -r kind src dst ro; do
  mkdir -p "$W/root$dst"
  if [ "$kind" = tmpfs ]; then mount -t tmpfs pod-empty "$W/root$dst"; else mount --bind "$src" "$W/root$dst"; fi
  [ "$ro" = 1 ] && mount -o remount,bind,ro "$W/root$dst"
done <"$W/mounts"
[ "$RO" = 0 ] || mount -o remount,ro "$W/root"
exec "$@"
`;
  const env = resolveEnv(spec, c);
  const argv = [
    "unshare",
    "-m",
    "--propagation",
    "private",
    "--",
    "sh",
    "-c",
    setup,
    "pod-setup",
    work,
    busyboxRoot(),
    readOnly,
    "/usr/bin/env",
    "-i",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    "/usr/sbin/chroot",
    path.join(work, "root"),
    ...(c.command as string[]),
    ...((c.args as string[]) ?? []),
  ];
  return { work, argv, env };
}

function finish(p: Prepared, r: RunResult, t0: number): ContainerRun {
  const terminationMessage = fs.readFileSync(path.join(p.work, "termination-log"), "utf8");
  fs.rmSync(p.work, { recursive: true, force: true });
  return { ...r, terminationMessage, ms: Date.now() - t0 };
}

/** Run a container to its end (an init container). */
export async function runContainer(spec: ContainerSpec, timeoutMs = 90_000): Promise<ContainerRun> {
  const p = prepare(spec);
  const t0 = Date.now();
  const r = await run(p.argv[0], p.argv.slice(1), { timeoutMs, env: { PATH: process.env.PATH } });
  return finish(p, r, t0);
}

/** A long-running container (the drift checker). */
export interface RunningContainer {
  /** The container's main process (in the machine's PID namespace). */
  readonly pid: number;
  /** Run a command in the container, as kubelet runs an exec probe (its mount namespace and root). */
  exec(command: string[]): Promise<RunResult>;
  /** Stop it as kubelet does (SIGTERM), and wait for its end. */
  stop(): Promise<ContainerRun>;
}

/** Start a container and leave it running. */
export function startContainer(spec: ContainerSpec): RunningContainer {
  const p = prepare(spec);
  const t0 = Date.now();
  const child: ChildProcess = spawn(p.argv[0], p.argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const ended = new Promise<RunResult>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    pid: child.pid!,
    exec: (command) => run("nsenter", ["-t", String(child.pid), "-m", "-r", "-w", "--", ...command]),
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const r = await ended;
      clearTimeout(timer);
      return finish(p, r, t0);
    },
  };
}

/**
 * Typed access to the real-consumer test rig (test/rig/rig.sh): its description (rig.json), SSH into the
 * nodes, pulls through real containerd (ctr and CRI), skopeo, and a containerd config validator.
 *
 * Every client runs inside the rig's network namespaces (no route anywhere), so a config under test can never
 * fall back to a real upstream registry.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as TOML from "@iarna/toml";

/** A registry of the rig, as seen from the nodes (`host`, `url`) and from inside `regrig` (`local…`). */
export interface RigRegistry {
  /** `10.123.0.1:<port>`: how nodes (and the rig netns) reach it. */
  host: string;
  /** `127.0.0.1:<port>`: only inside the `regrig` netns. */
  local: string;
  /** `http(s)://10.123.0.1:<port>`. */
  url: string;
  /** `http(s)://127.0.0.1:<port>`. */
  localUrl: string;
  /** Whether it requires htpasswd (Basic) credentials. */
  auth: boolean;
  /** For the pull-through cache: its upstream. */
  upstream?: string;
}

/** A seeded test image ("payload"); its digest proves which registry (and path) served a pull. */
export interface RigImage {
  /** Key of {@link Rig.registries} it was pushed to. */
  registry: "plain" | "tls";
  /** Repositories it was pushed to, e.g. `ns/library/hello`. */
  repositories: string[];
  tag: string;
  /** Full references at the registry's node-facing address, e.g. `10.123.0.1:5000/ns/rig/hello:v1`. */
  refs: string[];
  /** Manifest digest (what `ctr images ls` and CRI `repoDigests` show). */
  digest: string;
  /** Config digest (what CRI `PullImage` returns as `imageRef`). */
  configDigest: string;
  layerDigest: string;
  /** Content of hello.txt in the layer. */
  text: string;
  /** Local OCI layout of the image. */
  ociLayout: string;
}

/** One sshd "node": own netns, hostname, overlay /etc and /var, private /run and /tmp, own containerd. */
export interface RigNode {
  /** `n1`…`n3`. */
  id: string;
  /** Hostname inside the node: `node1`…`node3`. */
  name: string;
  /** `regrig-n1`…. */
  netns: string;
  /** `10.123.0.11`…. */
  ip: string;
  port: number;
  user: string;
  /** Pinned host key, `ssh-ed25519 AAAA…` (no comment). */
  hostKey: string;
  /** `$RIG_DIR/nodes/<id>`. */
  dir: string;
  /** Overlay upper dir of the node's /etc: what the node wrote there. */
  upperEtc: string;
  /** Overlay upper dir of the node's /var. */
  upperVar: string;
  /** The node containerd's gRPC socket (reachable from the host: a path). */
  containerdSocket: string;
  /** `/etc/containerd/config.toml`, as seen inside the node. */
  containerdConfig: string;
  /** The same file in the overlay upper dir (the rig writes a stock one without `config_path`). */
  containerdConfigUpper: string;
  containerdPidFile: string;
  containerdLog: string;
  /** PID file of the node's dockerd, when a test started one (`scripts.nodeDockerd start`). */
  dockerdPidFile: string;
  dockerdLog: string;
  sshdPidFile: string;
  sshdLog: string;
}

/** Parsed `$RIG_DIR/rig.json`, written by `rig.sh start`. */
export interface Rig {
  version: 1;
  dir: string;
  repo: string;
  startedAt: string;
  startSeconds: number;
  netns: { registry: string; nodes: string[] };
  bridge: { name: string; ip: string; cidr: string };
  /** A dead loopback URL to use as `server` in every hosts.toml a test writes. */
  deadServer: string;
  registries: { plain: RigRegistry; tls: RigRegistry; proxy: RigRegistry };
  images: { plain: RigImage; ns: RigImage; tls: RigImage; alt: RigImage };
  tls: {
    caCert: string;
    caPem: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    /** Directory with `ca.crt`, for `skopeo --cert-dir`. */
    skopeoCertDir: string;
  };
  auth: { user: string; password: string; htpasswd: string; basic: string };
  ssh: {
    user: string;
    config: string;
    knownHosts: string;
    privateKeyPath: string;
    privateKey: string;
    publicKey: string;
  };
  nodes: RigNode[];
  /** The central containerd (in `regrig`), CRI `config_path` = `hostsDir`. */
  containerd: { socket: string; config: string; hostsDir: string; log: string };
  scripts: {
    rig: string;
    nodeContainerd: string;
    /** Docker engine control inside a node (the `systemctl start|stop|reload|restart docker` stand-in). */
    nodeDockerd: string;
    /** podman inside a node: default system config paths, node-local storage. */
    nodePodman: string;
    /** The `systemctl reload crio` stand-in (CRI-O is not packaged for Debian 12). */
    nodeCrioReload: string;
    skopeo: string;
    cri: string;
  };
  logs: string;
}

/** Output of a finished process. */
export interface RunResult {
  /** Exit code; null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options for {@link run}. */
export interface RunOptions {
  /** Written to stdin, then stdin is closed. Defaults to nothing. */
  stdin?: string;
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Kill (SIGKILL) after this many ms. Defaults to 60 000. */
  timeoutMs?: number;
}

const REPO = path.resolve(__dirname, "..", "..");

/** The rig's scratch directory: `$RIG_DIR`, else `<repo>/.rig`. */
export function rigDir(): string {
  return path.resolve(process.env.RIG_DIR ?? path.join(REPO, ".rig"));
}

let cached: { file: string; mtimeMs: number; rig: Rig } | undefined;

/** Reads `rig.json`; throws with a hint when the rig is not up. */
export function loadRig(): Rig {
  const file = path.join(rigDir(), "rig.json");
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new Error(
      `${file} not found: the rig is not up (run test/rig/rig.sh start, or jest --selectProjects rig)`,
    );
  }
  if (!cached || cached.file !== file || cached.mtimeMs !== stat.mtimeMs) {
    cached = { file, mtimeMs: stat.mtimeMs, rig: JSON.parse(fs.readFileSync(file, "utf8")) as Rig };
  }
  return cached.rig;
}

/** Runs a command (no shell) and collects its output. Never rejects for a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...opts.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    // A process that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
  });
}

/** Like {@link run}, but rejects (with the command's stderr) unless it exits 0; resolves to stdout. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.code ?? r.signal}):\n${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** Finds a node by id (`n1`), hostname (`node1`) or IP, or returns the node given. */
export function rigNode(node: RigNode | string): RigNode {
  if (typeof node !== "string") return node;
  const found = loadRig().nodes.find((n) => n.id === node || n.name === node || n.ip === node);
  if (!found) throw new Error(`no rig node "${node}"`);
  return found;
}

/**
 * Runs `command` on a node over real SSH, as root, with `stdin` on its standard input.
 *
 * The ssh client runs inside the `regrig` netns with the rig's ssh_config (pinned host keys). `command` is
 * passed as one argument, exactly as given: the node's login shell interprets it (e.g. `sh -s -- apply`).
 */
export function sshRun(
  node: RigNode | string,
  command: string,
  stdin = "",
  opts: { timeoutMs?: number; sshOptions?: string[] } = {},
): Promise<RunResult> {
  const rig = loadRig();
  const n = rigNode(node);
  return run(
    "ip",
    [
      "netns",
      "exec",
      rig.netns.registry,
      "ssh",
      "-F",
      rig.ssh.config,
      ...(opts.sshOptions ?? []),
      "-p",
      String(n.port),
      `${n.user}@${n.ip}`,
      "--",
      command,
    ],
    { stdin, timeoutMs: opts.timeoutMs },
  );
}

function sshdPid(n: RigNode): string {
  const pid = fs.readFileSync(n.sshdPidFile, "utf8").trim();
  if (!/^\d+$/.test(pid)) throw new Error(`bad PID in ${n.sshdPidFile}`);
  return pid;
}

/**
 * Runs `argv` inside a node's namespaces (mount, UTS, network) without SSH: `nsenter` into the node's sshd.
 * Faster than {@link sshRun} for inspecting a node; use sshRun for what the library itself does.
 */
export function nodeExec(node: RigNode | string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const n = rigNode(node);
  return run("nsenter", ["-t", sshdPid(n), "-m", "-u", "-n", "--", ...argv], opts);
}

/** A node's file as the node sees it (overlay /etc, /var), or undefined if it does not exist there. */
export function nodeFile(node: RigNode | string, file: string): string | undefined {
  const n = rigNode(node);
  const r = spawnSync("nsenter", ["-t", sshdPid(n), "-m", "--", "cat", "--", file], { encoding: "utf8" });
  if (r.status === 0) return r.stdout;
  if (/No such file or directory/.test(r.stderr)) return undefined;
  throw new Error(`reading ${file} on ${n.name} failed: ${r.stderr.trim()}`);
}

/** Mode (octal string, e.g. "600"), owner, group and type of a node's path, or undefined if absent. */
export function nodeStat(
  node: RigNode | string,
  file: string,
): { mode: string; uid: number; gid: number; size: number; type: string } | undefined {
  const n = rigNode(node);
  const r = spawnSync("nsenter", ["-t", sshdPid(n), "-m", "--", "stat", "-c", "%a %u %g %s %F", "--", file], {
    encoding: "utf8",
  });
  if (r.status !== 0) {
    if (/No such file or directory/.test(r.stderr)) return undefined;
    throw new Error(`stat ${file} on ${n.name} failed: ${r.stderr.trim()}`);
  }
  const [mode, uid, gid, size, ...type] = r.stdout.trim().split(" ");
  return { mode, uid: Number(uid), gid: Number(gid), size: Number(size), type: type.join(" ") };
}

/**
 * Where a node path under /etc or /var lives in the node's overlay upper dir (what the node changed).
 * The file exists there only if the node wrote it; a deletion shows up as a 0/0 character device (whiteout).
 */
export function nodeUpperPath(node: RigNode | string, file: string): string {
  const n = rigNode(node);
  const m = /^\/(etc|var)(\/.*)?$/.exec(path.posix.normalize(file));
  if (!m) throw new Error(`${file} is not under /etc or /var (the overlaid trees of a node)`);
  return path.join(m[1] === "etc" ? n.upperEtc : n.upperVar, m[2] ?? "");
}

/** Files (not directories) in a node's overlay upper dirs, with their content: everything the node has changed. */
export function upperFiles(node: RigNode | string): Record<string, string> {
  const n = rigNode(node);
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

/** Runs `node-containerd ACTION` inside a node (as a node script would, but without SSH). */
export function nodeContainerd(
  node: RigNode | string,
  action: "start" | "stop" | "restart" | "status",
): Promise<RunResult> {
  return nodeExec(node, [loadRig().scripts.nodeContainerd, action], { timeoutMs: 30_000 });
}

/**
 * Runs `node-dockerd ACTION` inside a node: the `systemctl … docker` stand-in for Debian's dockerd 20.10, which
 * only the tests that need it start (it talks to the node's own containerd).
 */
export function nodeDockerd(
  node: RigNode | string,
  action: "start" | "stop" | "reload" | "restart" | "status",
): Promise<RunResult> {
  return nodeExec(node, [loadRig().scripts.nodeDockerd, action], { timeoutMs: 60_000 });
}

/** Restarts a node's containerd (re-reading its /etc/containerd/config.toml); rejects with the log tail if it fails. */
export async function restartNodeContainerd(node: RigNode | string): Promise<void> {
  const r = await nodeContainerd(node, "restart");
  if (r.code !== 0) {
    throw new Error(
      `node-containerd restart on ${rigNode(node).name} failed (${r.code}):\n${r.stderr.trim()}`,
    );
  }
}

/** Options for {@link ctrPull}. */
export interface CtrPullOptions {
  /** `--hosts-dir`: a directory of `<host>/hosts.toml` (absolute). */
  hostsDir: string;
  /** Fully qualified image reference, e.g. `docker.io/library/hello:v1`. */
  ref: string;
  /** Network namespace the ctr client (which does the registry traffic) runs in. Defaults to `regrig`. */
  netns?: string;
  /** `--plain-http`. Defaults to false. */
  plainHttp?: boolean;
  /** `--user user:pass`. */
  user?: string;
  /** containerd socket. Defaults to the central containerd. */
  socket?: string;
  /** containerd namespace. Defaults to `rigtest`. */
  namespace?: string;
}

/**
 * Pulls an image with `ctr images pull --hosts-dir` (client-side resolution, as containerd's CRI does with
 * `config_path`) and returns the manifest digest; the image is removed again (with its content) so the next
 * pull has to go to a registry. Rejects with ctr's stderr on failure.
 */
export async function ctrPull(opts: CtrPullOptions): Promise<string> {
  const rig = loadRig();
  const ctr = [
    "netns",
    "exec",
    opts.netns ?? rig.netns.registry,
    "ctr",
    "--address",
    opts.socket ?? rig.containerd.socket,
    "-n",
    opts.namespace ?? "rigtest",
  ];
  const pullArgs = ["images", "pull", "--hosts-dir", opts.hostsDir];
  if (opts.plainHttp) pullArgs.push("--plain-http");
  if (opts.user) pullArgs.push("--user", opts.user);
  const pull = await run("ip", [...ctr, ...pullArgs, opts.ref], { timeoutMs: 60_000 });
  if (pull.code !== 0) {
    throw new Error(`ctr pull ${opts.ref} failed (${pull.code}):\n${pull.stderr.trim()}`);
  }
  try {
    const ls = await runOk("ip", [...ctr, "images", "ls"]);
    const row = ls
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .find((cols) => cols[0] === opts.ref);
    if (!row || !/^sha256:[0-9a-f]{64}$/.test(row[2] ?? "")) {
      throw new Error(`ctr images ls has no digest for ${opts.ref}:\n${ls}`);
    }
    return row[2];
  } finally {
    await run("ip", [...ctr, "images", "rm", "--sync", opts.ref]);
  }
}

/** An image as CRI `ImageStatus` reports it. */
export interface CriImage {
  /** Config digest. */
  id: string;
  repoTags: string[];
  /** `<repo>@<manifest digest>`. */
  repoDigests: string[];
  size: number;
}

async function cri(socket: string, args: string[], auth?: string): Promise<unknown> {
  const rig = loadRig();
  const r = await run(process.execPath, [rig.scripts.cri, "--socket", socket, ...args], {
    env: auth === undefined ? {} : { CRI_AUTH: auth },
    timeoutMs: 90_000,
  });
  if (r.code !== 0) throw new Error(r.stderr.trim() || `cri.js ${args.join(" ")} failed (${r.code})`);
  return JSON.parse(r.stdout);
}

/**
 * Pulls an image through containerd's CRI plugin (what kubelet does; the pull runs in the daemon's netns and
 * uses its `config_path`/registry config) and returns the image ref (config digest). `auth` is what kubelet
 * passes from an imagePullSecret. Rejects with the gRPC error text.
 */
export async function criPull(
  socket: string,
  ref: string,
  auth?: string | { username: string; password: string },
): Promise<string> {
  const userpass = typeof auth === "object" ? `${auth.username}:${auth.password}` : auth;
  const out = (await cri(socket, ["pull", ref], userpass)) as { imageRef: string };
  return out.imageRef;
}

/** CRI `ImageStatus` of a reference, or null when the runtime does not have it. */
export async function criStatus(socket: string, ref: string): Promise<CriImage | null> {
  const out = (await cri(socket, ["status", ref])) as { image: CriImage | null };
  return out.image;
}

/** CRI `RemoveImage`. */
export async function criRemove(socket: string, ref: string): Promise<void> {
  await cri(socket, ["rmi", ref]);
}

/** The manifest digest in a CRI image's repoDigests (`repo@sha256:…`), if any. */
export function criManifestDigest(image: CriImage | null): string | undefined {
  return image?.repoDigests.map((d) => d.slice(d.indexOf("@") + 1)).find((d) => d.startsWith("sha256:"));
}

/**
 * Runs skopeo inside `regrig` in a private mount namespace (its blob-info cache and temp files stay in the rig).
 * Use `inspect --no-tags`: tag listing ignores mirrors and would contact the prefix host.
 */
export function skopeo(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const rig = loadRig();
  return run(rig.scripts.skopeo, args, { ...opts, env: { RIG_DIR: rig.dir, ...opts.env } });
}

/** A plain HTTP(S) request made from inside a rig netns (registries are unreachable from the host netns). */
export async function rigHttp(
  url: string,
  opts: {
    netns?: string;
    ca?: string;
    auth?: string;
    method?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const rig = loadRig();
  const script = `
    const u = new URL(process.argv[1]);
    const o = JSON.parse(process.argv[2]);
    const mod = require(u.protocol === "https:" ? "https" : "http");
    const headers = { ...(o.headers || {}) };
    if (o.auth) headers.Authorization = "Basic " + Buffer.from(o.auth).toString("base64");
    const req = mod.request(u, { method: o.method || "GET", headers, ca: o.ca ? require("fs").readFileSync(o.ca) : undefined }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => process.stdout.write(JSON.stringify({ status: res.statusCode, headers: res.headers, body })));
    });
    req.setTimeout(10000, () => req.destroy(new Error("timeout")));
    req.on("error", (e) => { process.stderr.write(String(e.message)); process.exit(1); });
    req.end();`;
  const out = await runOk("ip", [
    "netns",
    "exec",
    opts.netns ?? rig.netns.registry,
    process.execPath,
    "-e",
    script,
    url,
    JSON.stringify({ ca: opts.ca, auth: opts.auth, method: opts.method, headers: opts.headers }),
  ]);
  return JSON.parse(out);
}

/** Options for {@link validateContainerdConfig}. */
export interface ValidateContainerdOptions {
  /** If given (fully qualified ref), also pull it through the throw-away containerd's CRI plugin. */
  image?: string;
  /** `user:pass` for that pull (CRI `AuthConfig`). */
  auth?: string;
  /**
   * Replaces `${NAME}` in the file before loading, e.g. MicroK8s' containerd-template.toml placeholders
   * (`SNAP_DATA`, `RUNTIME`, `SNAPSHOTTER`, `RUNTIME_TYPE`, …).
   */
  substitute?: Record<string, string>;
  /** Netns the daemon runs in (where its CRI pulls go). Defaults to `regrig`, else a fresh empty one. */
  netns?: string;
}

/** What {@link validateContainerdConfig} found. */
export interface ContainerdConfigReport {
  /** Parses, CRI plugin loads, and (if asked) the pull worked. */
  ok: boolean;
  /** `containerd config dump` error (syntax or type): the daemon was not started. */
  dumpError?: string;
  /** Status of the `io.containerd.grpc.v1.cri` plugin in `ctr plugins ls`. */
  cri?: "ok" | "error" | "skip" | "missing";
  /** The logged reason the CRI plugin failed to load. */
  criError?: string;
  /** Keys in the file that containerd silently dropped (unknown or misplaced), as dotted paths. */
  droppedKeys: string[];
  /** Warning/error lines the daemon logged (minus the ones every rig containerd logs). */
  warnings: string[];
  /** Result of the optional CRI pull. */
  pull?: { ok: boolean; imageRef?: string; error?: string };
  /** The full daemon log. */
  log: string;
}

type TomlTable = { [key: string]: unknown };

const isTable = (v: unknown): v is TomlTable =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

function leafKeys(t: TomlTable, prefix: string[] = []): string[][] {
  return Object.entries(t).flatMap(([k, v]) =>
    isTable(v) && Object.keys(v).length > 0 ? leafKeys(v, [...prefix, k]) : [[...prefix, k]],
  );
}

function hasPath(t: TomlTable, p: string[]): boolean {
  let cur: unknown = t;
  for (const k of p) {
    if (!isTable(cur) || !(k in cur)) return false;
    cur = cur[k];
  }
  return true;
}

function table(t: TomlTable, ...p: string[]): TomlTable {
  let cur = t;
  for (const k of p) {
    if (!isTable(cur[k])) cur[k] = {};
    cur = cur[k] as TomlTable;
  }
  return cur;
}

const HARMLESS_LOG = [
  /devmapper not configured/,
  /failed to load cni during init/,
  /PullImage .* failed/, // reported through `pull`
];

async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

/**
 * Proves a containerd config file (e.g. a rendered MicroK8s `containerd-template.toml`) really loads in
 * containerd 1.6, beyond TOML syntax (RIG.md §5.3):
 *
 * 1. `containerd config dump` (syntax and value types; unknown keys are dropped silently, so they are
 *    reported as `droppedKeys`);
 * 2. a throw-away containerd started from the dumped config with root/state/sockets/opt/cni moved into a temp
 *    dir under the rig, inside a netns: the CRI plugin must load (`mirrors` + `config_path` fails only here);
 * 3. optionally a real CRI pull through it.
 */
export async function validateContainerdConfig(
  file: string,
  opts: ValidateContainerdOptions = {},
): Promise<ContainerdConfigReport> {
  const base = path.join(rigDir(), "validate");
  fs.mkdirSync(base, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(base, "cfg-"));
  let text = fs.readFileSync(file, "utf8");
  for (const [k, v] of Object.entries(opts.substitute ?? {})) text = text.split("${" + k + "}").join(v);
  const input = path.join(tmp, "input.toml");
  fs.writeFileSync(input, text);
  const report: ContainerdConfigReport = { ok: false, droppedKeys: [], warnings: [], log: "" };
  try {
    const dump = await run("containerd", ["--config", input, "config", "dump"], { timeoutMs: 20_000 });
    if (dump.code !== 0) {
      report.dumpError = dump.stderr.trim();
      return report;
    }
    const dumped = TOML.parse(dump.stdout) as TomlTable;
    const parsedInput = TOML.parse(text) as TomlTable;
    const v1 = parsedInput.version === undefined || parsedInput.version === 1;
    const dumpedPlugins = isTable(dumped.plugins) ? Object.keys(dumped.plugins) : [];
    for (const key of leafKeys(parsedInput)) {
      let p = key;
      // Version 1 names plugins by short id (plugins.cri); the dump uses the full one.
      if (v1 && p[0] === "plugins" && p.length > 1) {
        const full = dumpedPlugins.find((id) => id.endsWith(`.${p[1]}`));
        if (full) p = ["plugins", full, ...p.slice(2)];
      }
      if (p[0] === "imports") continue;
      if (!hasPath(dumped, p)) report.droppedKeys.push(key.join("."));
    }

    // The dumped config, with everything the daemon writes moved under tmp.
    const d = path.join(tmp, "c");
    delete dumped.imports;
    dumped.root = path.join(d, "root");
    dumped.state = path.join(d, "state");
    table(dumped, "grpc").address = path.join(d, "containerd.sock");
    table(dumped, "grpc").tcp_address = "";
    table(dumped, "ttrpc").address = path.join(d, "containerd.sock.ttrpc");
    table(dumped, "debug").address = path.join(d, "debug.sock");
    table(dumped, "metrics").address = "";
    table(dumped, "plugins", "io.containerd.internal.v1.opt").path = path.join(d, "opt");
    const criCfg = table(dumped, "plugins", "io.containerd.grpc.v1.cri");
    criCfg.stream_server_address = "127.0.0.1";
    criCfg.stream_server_port = "0";
    table(criCfg, "cni").conf_dir = path.join(d, "cni", "net.d");
    fs.mkdirSync(path.join(d, "cni", "net.d"), { recursive: true });
    const runCfg = path.join(tmp, "run.toml");
    fs.writeFileSync(runCfg, TOML.stringify(dumped as TOML.JsonMap));

    const rigNetns = "regrig";
    const netns = opts.netns ?? (fs.existsSync(`/run/netns/${rigNetns}`) ? rigNetns : undefined);
    const cmd = netns
      ? ["ip", "netns", "exec", netns, "containerd", "--config", runCfg]
      : ["unshare", "-m", "-n", "--propagation", "private", "containerd", "--config", runCfg];
    const logFile = path.join(tmp, "containerd.log");
    const logFd = fs.openSync(logFile, "w");
    const daemon = spawn(cmd[0], cmd.slice(1), { stdio: ["ignore", logFd, logFd], detached: true });
    fs.closeSync(logFd);
    let exited = false;
    daemon.on("exit", () => (exited = true));
    const sock = path.join(d, "containerd.sock");
    try {
      const up = await waitFor(async () => {
        if (exited) return true;
        if (!fs.existsSync(sock)) return false;
        return (await run("ctr", ["--address", sock, "--timeout", "2s", "version"])).code === 0;
      }, 10_000);
      if (!up || exited) {
        report.cri = "missing";
        report.criError = exited
          ? "containerd exited during start-up"
          : "containerd did not answer within 10 s";
      } else {
        const plugins = await runOk("ctr", ["--address", sock, "plugins", "ls"]);
        const row = plugins
          .split("\n")
          .map((l) => l.trim().split(/\s+/))
          .find((c) => c[0] === "io.containerd.grpc.v1" && c[1] === "cri");
        report.cri = (row?.[row.length - 1] as ContainerdConfigReport["cri"]) ?? "missing";
        if (opts.image && report.cri === "ok") {
          try {
            report.pull = { ok: true, imageRef: await criPull(sock, opts.image, opts.auth) };
          } catch (e) {
            report.pull = { ok: false, error: (e as Error).message };
          }
        }
      }
    } finally {
      if (!exited && daemon.pid) {
        process.kill(daemon.pid, "SIGTERM");
        if (!(await waitFor(() => exited, 10_000))) process.kill(daemon.pid, "SIGKILL");
        await waitFor(() => exited, 2_000);
      }
    }
    report.log = fs.readFileSync(logFile, "utf8");
    const lines = report.log.split("\n").filter((l) => /level=(warning|error|fatal)/.test(l));
    const criLine = lines.find((l) => /failed to load plugin io\.containerd\.grpc\.v1\.cri/.test(l));
    if (criLine && !report.criError)
      report.criError = /error="((?:[^"\\]|\\.)*)"/.exec(criLine)?.[1] ?? criLine;
    report.warnings = lines.filter((l) => !HARMLESS_LOG.some((re) => re.test(l)));
    report.ok = report.cri === "ok" && (opts.image === undefined || report.pull?.ok === true);
    return report;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The docker profile on a real Docker engine: Debian 12's dockerd 20.10 runs inside node2 (its netns, overlay
 * /etc and /var, private /run), started only for this file by test/rig/bin/node-dockerd, with its data and exec
 * roots under the rig and the node's own containerd. The library's node script (planNode + buildNodeScript)
 * runs over real SSH; dockerd, reloaded with SIGHUP as `systemctl reload docker` does, must show and use what
 * was merged into its daemon.json, and every pull is proven by the digest of the image that the rig served
 * (Docker Hub is unreachable from the node: nothing else could have served it).
 */
import * as fs from "fs";
import { buildNodeScript, nodeCommand, parseSummary, planNode } from "../../components/node";
import {
  dockerDaemonEntries,
  mergeDaemonJsonText,
  normalizeRegistries,
  RegistriesArgs,
} from "../../components/render";
import {
  loadRig,
  nodeDockerd,
  nodeExec,
  nodeFile,
  nodeStat,
  Rig,
  RunResult,
  sshRun,
  upperFiles,
} from "../helpers/rig";

const rig: Rig = loadRig();
const n2 = rig.nodes[1];
const PLAIN = rig.registries.plain.host;
const TLS = rig.registries.tls.host;
const DAEMON_JSON = "/etc/docker/daemon.json";
// The docker CLI's own config (a `docker login` writes it) lives on the node's private /run, never in ~/.docker.
const CLI_CONFIG = "/run/rig-docker-cli";
// What the node had before the library touched it: other keys, and an insecure registry of its own.
const ORIGINAL =
  '{\n  "labels": ["rig.node=node2"],\n  "max-concurrent-downloads": 2,\n  "insecure-registries": ["legacy.example:5000"]\n}\n';

const REGISTRIES: RegistriesArgs = {
  "docker.io": { server: rig.deadServer, mirrors: [{ endpoint: `http://${PLAIN}` }] },
  [PLAIN]: { plainHttp: true },
  [TLS]: { tls: { ca: rig.tls.caPem }, auth: { username: rig.auth.user, password: rig.auth.password } },
};

function script(regs: RegistriesArgs, owner: string, profile: Record<string, unknown> = {}): string {
  const plan = planNode(normalizeRegistries(regs), {
    node: n2.name,
    owner,
    profiles: [{ kind: "docker", reload: [rig.scripts.nodeDockerd, "reload"], ...profile }],
  });
  return buildNodeScript(plan);
}

/** The Debian docker CLI (not a newer one that may come first on PATH) on node2, with a clean environment. */
function docker(args: string[], stdin?: string): Promise<RunResult> {
  return nodeExec(
    n2,
    [
      "env",
      "-i",
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=/root",
      `DOCKER_CONFIG=${CLI_CONFIG}`,
      "/usr/bin/docker",
      ...args,
    ],
    { stdin, timeoutMs: 60_000 },
  );
}

/** `docker info`'s registry sections (one entry per line below the title) and the daemon labels. */
async function info(): Promise<{ insecure: string[]; mirrors: string[]; labels: string[] }> {
  const r = await docker(["info"]);
  if (r.code !== 0) throw new Error(`docker info failed (${r.code}): ${r.stderr}`);
  const lines = r.stdout.split("\n");
  const section = (title: string): string[] => {
    const i = lines.findIndex((l) => l === ` ${title}:`);
    const out: string[] = [];
    for (let j = i + 1; i >= 0 && j < lines.length && /^ {2}\S/.test(lines[j]); j++)
      out.push(lines[j].trim());
    return out;
  };
  return {
    insecure: section("Insecure Registries"),
    mirrors: section("Registry Mirrors"),
    labels: section("Labels"),
  };
}

/** `docker pull REF`; resolves to the image's RepoDigests and removes it again (the next pull is a full one). */
async function pull(ref: string): Promise<string[]> {
  const r = await docker(["pull", ref]);
  if (r.code !== 0) throw new Error(r.stderr.trim());
  try {
    const inspect = await docker(["inspect", "--format", "{{json .RepoDigests}}", ref]);
    return JSON.parse(inspect.stdout) as string[];
  } finally {
    await docker(["rmi", "--force", ref]);
  }
}

const pidOf = () => fs.readFileSync(n2.dockerdPidFile, "utf8").trim();
const logSize = () => fs.statSync(n2.dockerdLog).size;
const logSince = (offset: number) => fs.readFileSync(n2.dockerdLog, "utf8").slice(offset);

// Paths a Docker engine (or its CLI) would write on a host: none of them may appear on this machine.
const HOST_PATHS = ["/var/lib/docker", "/root/.docker", "/run/containerd/containerd.sock"];
const hostHas = () => [
  ...HOST_PATHS.filter((p) => fs.existsSync(p)),
  ...fs
    .readdirSync("/run")
    .filter((n) => n.startsWith("docker"))
    .map((n) => `/run/${n}`),
  // The hierarchies node-dockerd mounts again in the node are the machine's: dockerd must create no cgroup.
  ...fs
    .readdirSync("/sys/fs/cgroup")
    .map((c) => `/sys/fs/cgroup/${c}/docker`)
    .filter((p) => fs.existsSync(p)),
  // The docker-registry package owns /etc/docker/registry; nothing else may appear there.
  ...(fs.existsSync("/etc/docker") ? fs.readdirSync("/etc/docker").map((n) => `/etc/docker/${n}`) : []),
];

describe("the docker profile on a real dockerd 20.10 (node2)", () => {
  const state = { script: "", pid: "" };
  let hostBefore: string[];
  let before: Record<string, string>;

  beforeAll(async () => {
    hostBefore = hostHas();
    const w = await nodeExec(n2, ["sh", "-c", 'mkdir -p /etc/docker && cat > "$1"', "sh", DAEMON_JSON], {
      stdin: ORIGINAL,
    });
    expect(w.code).toBe(0);
    const start = await nodeDockerd(n2, "start");
    expect({ code: start.code, stderr: start.stderr }).toEqual({ code: 0, stderr: "" });
    state.pid = pidOf();
    // dockerd 20.10 writes its identity key to /etc/docker/key.json on first start: part of the node as it was.
    before = upperFiles(n2);
    expect(Object.keys(before)).toContain("/etc/docker/key.json");
  });

  afterAll(async () => {
    await nodeDockerd(n2, "stop");
    await nodeExec(n2, ["rm", "-rf", DAEMON_JSON, "/etc/docker/key.json", CLI_CONFIG]);
  });

  test("before: no insecure entry for the plain registry, no Docker Hub mirror, no CA for the TLS one", async () => {
    const i = await info();
    expect(i.insecure).toEqual(["legacy.example:5000", "127.0.0.0/8"]);
    expect(i.mirrors).toEqual([]);
    await expect(pull(`${PLAIN}/rig/hello:v1`)).rejects.toThrow(
      `Get "https://${PLAIN}/v2/": http: server gave HTTP response to HTTPS client`,
    );
    // Without a mirror dockerd goes to Docker Hub, which the node cannot reach.
    await expect(pull("hello:v1")).rejects.toThrow(/registry-1\.docker\.io.*network is unreachable/);
    const login = await docker(["login", "-u", rig.auth.user, "--password-stdin", TLS], rig.auth.password);
    expect(login.code).not.toBe(0);
    expect(login.stderr).toContain("x509: certificate signed by unknown authority");
  });

  test("apply merges our entries into the node's daemon.json; a SIGHUP reload makes dockerd show them", async () => {
    state.script = script(REGISTRIES, "docker-rig");
    const offset = logSize();
    const r = await sshRun(n2, nodeCommand("apply"), state.script, { timeoutMs: 90_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(parseSummary(r.stdout)).toMatchObject({
      actions: ["reload:docker"],
      changed: [`/etc/docker/certs.d/${TLS}/ca.crt`, DAEMON_JSON],
    });
    // A reload, not a restart: same process, which logged the SIGHUP and the reloaded configuration.
    expect(pidOf()).toBe(state.pid);
    expect(logSince(offset)).toContain(
      'msg="Got signal to reload configuration, reloading from: /etc/docker/daemon.json"',
    );
    // Every other byte of the node's file kept: exactly what the library's merge (its TS twin) computes.
    const entries = dockerDaemonEntries(normalizeRegistries(REGISTRIES));
    expect(nodeFile(n2, DAEMON_JSON)).toBe(mergeDaemonJsonText(ORIGINAL, entries).content);
    expect(JSON.parse(nodeFile(n2, DAEMON_JSON)!)).toEqual({
      labels: ["rig.node=node2"],
      "max-concurrent-downloads": 2,
      "insecure-registries": ["legacy.example:5000", PLAIN, "127.0.0.1:1"],
      "registry-mirrors": [`http://${PLAIN}`, "http://127.0.0.1:1"],
    });
    const i = await info();
    expect(i.insecure).toEqual(expect.arrayContaining([PLAIN, "legacy.example:5000", "127.0.0.0/8"]));
    expect(i.mirrors).toEqual([`http://${PLAIN}/`, "http://127.0.0.1:1/"]);
    expect(i.labels).toEqual(["rig.node=node2"]);
  });

  test("docker pull goes through the rig's registries (proven by digest)", async () => {
    // Plain HTTP by IP: needs the insecure-registries entry.
    expect(await pull(`${PLAIN}/rig/hello:v1`)).toEqual([`${PLAIN}/rig/hello@${rig.images.plain.digest}`]);
    // Docker Hub through the mirror: served by :5000 (Docker Hub is unreachable from the node).
    expect(await pull("hello:v1")).toEqual([`hello@${rig.images.plain.digest}`]);
    // HTTPS with the private CA the library put in /etc/docker/certs.d (credentials: docker login, as the
    // plan's warning says; daemon.json cannot hold them).
    expect(nodeStat(n2, `/etc/docker/certs.d/${TLS}/ca.crt`)).toMatchObject({ mode: "644", uid: 0 });
    const login = await docker(["login", "-u", rig.auth.user, "--password-stdin", TLS], rig.auth.password);
    expect({ code: login.code, out: login.stdout.trim() }).toEqual({ code: 0, out: "Login Succeeded" });
    try {
      expect(await pull(`${TLS}/rig/hello:v1`)).toEqual([`${TLS}/rig/hello@${rig.images.tls.digest}`]);
    } finally {
      await docker(["logout", TLS]);
    }
  });

  test("a second apply of the same declaration changes nothing and does not reload", async () => {
    const offset = logSize();
    const r = await sshRun(n2, nodeCommand("apply"), state.script, { timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(parseSummary(r.stdout)).toMatchObject({ changed: [], actions: [] });
    expect(logSince(offset)).not.toContain("Got signal to reload configuration");
  });

  test("dockerd 20.10 has no --validate: the check falls back to a strict JSON syntax check", async () => {
    // Debian 12's dockerd refuses the flag itself (before 23.0 it did not exist)…
    const v = await nodeExec(n2, ["dockerd", "--validate", "--config-file", DAEMON_JSON]);
    expect(v.code).not.toBe(0);
    expect(v.stderr).toContain("unknown flag: --validate");
    // …so every apply above passed the check on its syntax alone (on main it was refused: exit 66). A file
    // whose nested value is not JSON (a trailing comma that the merge, which only edits the two top-level
    // lists, carries over) is refused, and nothing is changed or reloaded. A separate file and owner keep the
    // daemon's own file out of it.
    const broken = '{\n  "log-opts": {"max-size": "10m",},\n  "labels": ["x"]\n}\n';
    const file = "/etc/docker/broken.json";
    await nodeExec(n2, ["sh", "-c", 'cat > "$1"', "sh", file], { stdin: broken });
    try {
      const offset = logSize();
      // Its own certs dir too: a whole file belongs to one owner (a second owner declaring it is refused).
      const other = script(REGISTRIES, "docker-check", {
        daemonJson: file,
        certsDir: "/etc/docker/certs-check.d",
        reload: ["true"],
      });
      const r = await sshRun(n2, nodeCommand("apply"), other);
      expect(r.code).toBe(66);
      expect(r.stderr).toContain(`the new ${file} was refused by dockerd`);
      expect(nodeFile(n2, file)).toBe(broken);
      expect(logSince(offset)).not.toContain("Got signal to reload configuration");
    } finally {
      await nodeExec(n2, [
        "rm",
        "-rf",
        file,
        "/etc/docker/certs-check.d",
        "/var/lib/pulumi-registries/docker-check",
      ]);
    }
  });

  test("destroy gives daemon.json back byte for byte, and dockerd restarts on it", async () => {
    const r = await sshRun(n2, nodeCommand("destroy"), state.script, { timeoutMs: 90_000 });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(parseSummary(r.stdout)).toMatchObject({ actions: ["reload:docker"] });
    expect(nodeFile(n2, DAEMON_JSON)).toBe(ORIGINAL);
    expect(nodeStat(n2, "/etc/docker/certs.d")).toBeUndefined();
    expect(nodeStat(n2, "/var/lib/pulumi-registries")).toBeUndefined();
    expect(upperFiles(n2)).toEqual(before);
    const restart = await nodeDockerd(n2, "restart");
    expect({ code: restart.code, stderr: restart.stderr }).toEqual({ code: 0, stderr: "" });
    expect(pidOf()).not.toBe(state.pid);
    const i = await info();
    expect(i).toEqual({
      insecure: ["legacy.example:5000", "127.0.0.0/8"],
      mirrors: [],
      labels: ["rig.node=node2"],
    });
    await expect(pull(`${PLAIN}/rig/hello:v1`)).rejects.toThrow(
      "http: server gave HTTP response to HTTPS client",
    );
  });

  test("stopped by its PID, dockerd leaves nothing on the host", async () => {
    const pid = pidOf();
    const stop = await nodeDockerd(n2, "stop");
    expect(stop.code).toBe(0);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    expect(fs.existsSync(n2.dockerdPidFile)).toBe(false);
    expect(hostHas()).toEqual(hostBefore);
  });
});

/**
 * The cluster side's outputs, consumed by the real programs that read them in production:
 *
 * - a pull Secret built by `pullSecretObjects` (two registries merged in one `.dockerconfigjson`), decoded as the
 *   kubelet would, and handed to skopeo as `--authfile` against the rig's htpasswd registry: the right password
 *   gives the TLS image's digest, a wrong one is refused;
 * - the rendered distribution configs run by the real registry binary (Debian's `docker-registry`, distribution
 *   2.8.2): a hosted registry with htpasswd (what the probes ask), and a pull-through cache of an upstream this
 *   test starts and seeds, pulled through by a node's containerd, then pulled again with the upstream stopped.
 *
 * Every server runs inside the rig's netns `regrig` with its own scratch directory, port and PID file, and is
 * stopped by PID. The node's hosts.toml gives the cache as the only mirror and a dead loopback port as server,
 * and the image name's registry (`upstream.example.test`) can never resolve: nothing can leave the rig.
 *
 * zot is not packaged for Debian: its config has goldens and parse checks only (test/render/zotConfig.test.ts).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { pullSecretObjects } from "../../components/kubernetes/pullSecrets";
import { ClusterArgs, DistributionServer } from "../../components/model/cluster";
import { normalizeCluster } from "../../components/model/normalizeCluster";
import { normalizeRegistries } from "../../components/model/normalize";
import { renderDistributionConfig } from "../../components/render/distributionConfig";
import { renderHostsDirectories } from "../../components/render/hostsToml";
import { rigScratch, skopeoDigest, writeSecretFile } from "../helpers/consumers";
import { loadRig, nodeExec, Rig, RigNode, rigHttp, run, runOk, skopeo } from "../helpers/rig";

/** Ports inside `regrig` for the servers this file starts (the rig's own are 5000, 5001, 5443). */
const PORTS = { hosted: 5611, upstream: 5612, cache: 5613 };
const UPSTREAM_NAME = "upstream.example.test";
const REPO = "cachetest/hello";
const CTR_NAMESPACE = "cluster-consumers";

let rig: Rig;
let scratch: string;

/** A registry process started by this file. */
interface ResolvedServer {
  name: string;
  child: ChildProcess;
  pidFile: string;
  log: string;
  exited: boolean;
}
const servers: ResolvedServer[] = [];

beforeAll(() => {
  rig = loadRig();
  scratch = rigScratch("cluster-consumers");
});

afterAll(async () => {
  for (const s of servers) await stop(s);
  if (rig) {
    const n = rig.nodes[0];
    await nodeExec(n, ["rm", "-rf", "/tmp/cluster-consumers-hosts"]);
    await nodeExec(n, ["ctr", "--address", n.containerdSocket, "namespaces", "rm", CTR_NAMESPACE]);
  }
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

async function status(url: string, auth?: string): Promise<number | string> {
  try {
    return (await rigHttp(url, auth ? { auth } : {})).status;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Starts `docker-registry serve <config>` in `regrig` (ip netns exec execs without forking, so the child's PID
 * is the registry's), records its PID file, and waits until `/` answers on `port`.
 */
async function start(name: string, config: string, port: number): Promise<ResolvedServer> {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  const cfg = path.join(dir, "config.yml");
  fs.writeFileSync(cfg, config);
  const log = path.join(dir, "registry.log");
  // The port must be free: a leftover server would answer in place of the one under test.
  expect(await status(`http://127.0.0.1:${port}/`)).toMatch(/ECONNREFUSED/);
  const fd = fs.openSync(log, "w");
  const child = spawn("ip", ["netns", "exec", rig.netns.registry, "docker-registry", "serve", cfg], {
    stdio: ["ignore", fd, fd],
  });
  fs.closeSync(fd);
  const server: ResolvedServer = { name, child, pidFile: path.join(dir, "registry.pid"), log, exited: false };
  child.on("exit", () => (server.exited = true));
  fs.writeFileSync(server.pidFile, `${child.pid}\n`);
  servers.push(server);
  const up = await waitFor(
    async () => server.exited || (await status(`http://127.0.0.1:${port}/`)) === 200,
    10_000,
  );
  if (!up || server.exited) {
    throw new Error(`${name} did not start:\n${fs.readFileSync(log, "utf8").slice(-2000)}`);
  }
  return server;
}

/** SIGTERM to the PID in the server's PID file, SIGKILL after 10 s; removes the PID file. */
async function stop(s: ResolvedServer): Promise<void> {
  if (!fs.existsSync(s.pidFile)) return;
  const pid = Number(fs.readFileSync(s.pidFile, "utf8").trim());
  if (!s.exited && pid === s.child.pid) {
    process.kill(pid, "SIGTERM");
    if (!(await waitFor(async () => s.exited, 10_000))) process.kill(pid, "SIGKILL");
    await waitFor(async () => s.exited, 2_000);
  }
  fs.rmSync(s.pidFile);
}

function distribution(
  args: ClusterArgs,
  pick: (c: ReturnType<typeof normalizeCluster>) => DistributionServer,
) {
  return pick(normalizeCluster(args));
}

describe("pull Secret (.dockerconfigjson) with skopeo", () => {
  test("the decoded Secret of two merged registries authenticates against the htpasswd registry; a wrong password is refused", async () => {
    const host = rig.registries.tls.host;
    const ref = `${host}/rig/hello:v1`;
    const secretFor = (password: string) => {
      const registries = normalizeRegistries({
        [host]: { tls: { ca: rig.tls.caPem }, auth: { username: rig.auth.user, password } },
        "other.example.test": { auth: { username: "someone", password: "else" } },
      });
      const cluster = normalizeCluster({ pullSecrets: { namespaces: ["team-a"] } }, { registries });
      const [secret] = pullSecretObjects(cluster.pullSecrets!, registries);
      expect(secret).toMatchObject({ kind: "Secret", type: "kubernetes.io/dockerconfigjson" });
      // What the kubelet (and `kubectl get secret -o jsonpath`) decodes from the Secret's data.
      const json = Buffer.from(
        (secret.data as Record<string, string>)[".dockerconfigjson"],
        "base64",
      ).toString("utf8");
      expect(Object.keys(JSON.parse(json).auths)).toEqual([host, "other.example.test"]);
      // --authfile must be a regular file: skopeo reads it more than once (RIG.md §6).
      return writeSecretFile(
        path.join(scratch, `auth-${password === rig.auth.password ? "good" : "bad"}.json`),
        json,
      );
    };
    const args = (file: string) => ["--authfile", file, "--cert-dir", rig.tls.skopeoCertDir];

    const good = await skopeoDigest(ref, { args: args(secretFor(rig.auth.password)) });
    expect(good).toMatchObject({ ok: true, digest: rig.images.tls.digest });

    const bad = await skopeoDigest(ref, { args: args(secretFor("wrong-password")) });
    expect(bad.ok).toBe(false);
    expect(bad.stderr).toMatch(/unauthorized: authentication required/);
  });
});

describe("the rendered distribution configs run by the real registry binary (docker-registry 2.8.2)", () => {
  test("hosted registry with htpasswd: / answers 200 (the probes' path), /v2/ 401 without and 200 with credentials", async () => {
    const server = distribution(
      { registry: { auth: { secretName: "unused", realm: "rig" } } },
      (c) => c.registry!,
    );
    const { content } = renderDistributionConfig(server, {
      rootDirectory: path.join(scratch, "hosted", "data"),
      addr: `0.0.0.0:${PORTS.hosted}`,
      htpasswdPath: path.join(rig.dir, "auth", "htpasswd"),
    });
    const s = await start("hosted", content, PORTS.hosted);
    const base = `http://127.0.0.1:${PORTS.hosted}`;
    expect(await status(`${base}/`)).toBe(200);
    expect(await status(`${base}/v2/`)).toBe(401);
    expect(await status(`${base}/v2/`, `${rig.auth.user}:${rig.auth.password}`)).toBe(200);
    await stop(s);
  });

  test("pull-through cache: a node's containerd pulls through it, then again from the cache with the upstream stopped", async () => {
    const n1: RigNode = rig.nodes[0];
    const ref = `${UPSTREAM_NAME}/${REPO}:v1`;
    // An image made for this run alone: if a node's content store already held its blobs (the rig's images are
    // pulled by other files, and containerd shares content across namespaces), containerd would fetch nothing but
    // the tag and the cache would store nothing.
    const layout = path.join(scratch, "cache-image");
    const [digest] = (
      await runOk(path.join(rig.repo, "test", "rig", "bin", "make-oci.sh"), [
        layout,
        "v1",
        `pulled through the cache, run ${process.pid}-${Date.now()}`,
      ])
    )
      .trim()
      .split(" ");
    const image = { ociLayout: layout, digest };

    // The upstream: the rendered hosted config, seeded from the image's OCI layout.
    const upstreamServer = distribution({ registry: {} }, (c) => c.registry!);
    const upstream = await start(
      "upstream",
      renderDistributionConfig(upstreamServer, {
        rootDirectory: path.join(scratch, "upstream", "data"),
        addr: `0.0.0.0:${PORTS.upstream}`,
      }).content,
      PORTS.upstream,
    );
    const seed = await skopeo([
      "copy",
      "-q",
      "--dest-tls-verify=false",
      `oci:${image.ociLayout}:v1`,
      `docker://127.0.0.1:${PORTS.upstream}/${REPO}:v1`,
    ]);
    expect({ code: seed.code, stderr: seed.stderr }).toEqual({ code: 0, stderr: "" });

    // The cache, declared like any cache; an image that does not name its version gets proxy.ttl rendered,
    // which 2.8.2 must accept (and ignore: it has no such setting).
    const cacheServer = distribution(
      {
        caches: {
          [UPSTREAM_NAME]: {
            remoteUrl: `http://127.0.0.1:${PORTS.upstream}`,
            image: `rig.example.test/registry@sha256:${"0".repeat(64)}`,
            ttl: "1h",
            service: { type: "ClusterIP" },
          },
        },
      },
      (c) => c.caches[0],
    );
    const rendered = renderDistributionConfig(cacheServer, {
      rootDirectory: path.join(scratch, "cache", "data"),
      addr: `0.0.0.0:${PORTS.cache}`,
    });
    expect(rendered.content).toContain(`remoteurl: "http://127.0.0.1:${PORTS.upstream}"`);
    expect(rendered.content).toContain('ttl: "1h"');
    // Started after the upstream: the proxy pings it at start-up and exits when it cannot (RIG.md §3).
    const cache = await start("cache", rendered.content, PORTS.cache);

    // On node1: a hosts.toml rendered by the library makes the cache the only mirror of the upstream's name.
    const hostsDir = "/tmp/cluster-consumers-hosts";
    const { files } = renderHostsDirectories(
      normalizeRegistries({
        [UPSTREAM_NAME]: {
          server: rig.deadServer,
          mirrors: [{ endpoint: `http://${rig.bridge.ip}:${PORTS.cache}` }],
        },
      }),
      { certsDir: hostsDir },
    );
    for (const f of files) {
      const w = await nodeExec(n1, ["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", f.path], {
        stdin: f.content,
      });
      expect(w.code).toBe(0);
    }
    const ctr = ["ctr", "--address", n1.containerdSocket, "-n", CTR_NAMESPACE];
    const nodePull = async (): Promise<string> => {
      const pull = await nodeExec(n1, [...ctr, "images", "pull", "--hosts-dir", hostsDir, ref], {
        timeoutMs: 60_000,
      });
      if (pull.code !== 0) throw new Error(`pull on ${n1.name} failed:\n${pull.stderr}`);
      const ls = await nodeExec(n1, [...ctr, "images", "ls"]);
      // Removed with its content (--sync), so the next pull has to fetch everything again.
      await nodeExec(n1, [...ctr, "images", "rm", "--sync", ref]);
      const row = ls.stdout.split("\n").find((l) => l.startsWith(`${ref} `));
      return /sha256:[0-9a-f]{64}/.exec(row ?? "")?.[0] ?? `no digest in:\n${ls.stdout}`;
    };

    // First pull: through the cache, which fetches from the upstream.
    expect(await nodePull()).toBe(image.digest);
    // The cache stores what it served as the transfer ends, which may be a moment after the client has it.
    const cached = async () =>
      JSON.stringify(JSON.parse((await rigHttp(`http://127.0.0.1:${PORTS.cache}/v2/_catalog`)).body)) ===
      JSON.stringify({ repositories: [REPO] });
    if (!(await waitFor(cached, 10_000))) {
      const body = (await rigHttp(`http://127.0.0.1:${PORTS.cache}/v2/_catalog`)).body;
      throw new Error(
        `catalog: ${body}\n--- cache log ---\n${fs.readFileSync(cache.log, "utf8").slice(-6000)}`,
      );
    }

    // Upstream stopped (by PID): the second pull can only be served from the cache's storage.
    await stop(upstream);
    expect(await status(`http://127.0.0.1:${PORTS.upstream}/`)).toMatch(/ECONNREFUSED/);
    expect(await nodePull()).toBe(image.digest);

    await stop(cache);
    const cacheLog = fs.readFileSync(cache.log, "utf8");
    expect(cacheLog).not.toMatch(/panic/);
  });
});

test("no server started here is left running", async () => {
  for (const s of servers) await stop(s);
  for (const s of servers) {
    expect({ name: s.name, exited: s.exited, pidFile: fs.existsSync(s.pidFile) }).toEqual({
      name: s.name,
      exited: true,
      pidFile: false,
    });
  }
  const ps = await run("ps", ["-eo", "args"]);
  expect(ps.stdout).not.toContain(scratch);
});

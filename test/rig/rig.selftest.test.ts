/**
 * Proves the rig itself: registries, seeded digests, ctr and CRI pulls through hosts.toml, SSH nodes with
 * their overlay /etc and /var, node containerds and their restart script, and the config validator.
 * Everything here runs against the real daemons started by globalSetup (test/rig/rig.sh).
 */
import * as fs from "fs";
import * as path from "path";
import {
  criManifestDigest,
  criPull,
  criRemove,
  criStatus,
  ctrPull,
  loadRig,
  nodeFile,
  nodeStat,
  nodeUpperPath,
  rigHttp,
  type Rig,
  skopeo,
  sshRun,
  validateContainerdConfig,
} from "../helpers/rig";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

let rig: Rig;
let scratch: string;

beforeAll(() => {
  rig = loadRig();
  scratch = fs.mkdtempSync(path.join(rig.dir, "selftest-"));
});

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Writes `<dir>/<host>/hosts.toml` and returns dir. */
function hostsToml(dir: string, host: string, toml: string): string {
  fs.mkdirSync(path.join(dir, host), { recursive: true });
  fs.writeFileSync(path.join(dir, host, "hosts.toml"), toml);
  return dir;
}

describe("registries", () => {
  test("plain answers 200, TLS 401 without and 200 with credentials, proxy 200", async () => {
    const [plain, tlsAnon, tlsAuth, proxy] = await Promise.all([
      rigHttp(`${rig.registries.plain.url}/v2/`),
      rigHttp(`${rig.registries.tls.url}/v2/`, { ca: rig.tls.caCert }),
      rigHttp(`${rig.registries.tls.url}/v2/`, {
        ca: rig.tls.caCert,
        auth: `${rig.auth.user}:${rig.auth.password}`,
      }),
      rigHttp(`${rig.registries.proxy.localUrl}/v2/`),
    ]);
    expect(plain.status).toBe(200);
    expect(tlsAnon.status).toBe(401);
    expect(tlsAnon.headers["www-authenticate"]).toContain('realm="rig-realm"');
    expect(tlsAuth.status).toBe(200);
    expect(proxy.status).toBe(200);
  });

  test("a wrong password is refused", async () => {
    const r = await rigHttp(`${rig.registries.tls.url}/v2/`, {
      ca: rig.tls.caCert,
      auth: `${rig.auth.user}:wrong`,
    });
    expect(r.status).toBe(401);
  });

  test("every seeded image has its recorded digest, and the four payloads differ", async () => {
    const checks = Object.values(rig.images).flatMap((img) =>
      img.repositories.map(async (repo) => {
        const reg = rig.registries[img.registry];
        const r = await rigHttp(`${reg.url}/v2/${repo}/manifests/${img.tag}`, {
          method: "HEAD",
          headers: { Accept: OCI_MANIFEST },
          ca: rig.tls.caCert,
          auth: reg.auth ? `${rig.auth.user}:${rig.auth.password}` : undefined,
        });
        return {
          ref: `${reg.host}/${repo}`,
          status: r.status,
          digest: r.headers["docker-content-digest"],
          want: img.digest,
        };
      }),
    );
    const results = await Promise.all(checks);
    expect(results).toHaveLength(8);
    expect(results.map(({ ref, status, digest }) => ({ ref, status, digest }))).toEqual(
      results.map(({ ref, want }) => ({ ref, status: 200, digest: want })),
    );
    expect(new Set(Object.values(rig.images).map((i) => i.digest)).size).toBe(4);
  });

  test("the pull-through proxy serves the plain payload from its upstream", async () => {
    const r = await rigHttp(`${rig.registries.proxy.url}/v2/library/hello/manifests/v1`, {
      headers: { Accept: OCI_MANIFEST },
    });
    expect(r.status).toBe(200);
    expect(r.headers["docker-content-digest"]).toBe(rig.images.plain.digest);
  });

  test("skopeo reads the TLS registry with an authfile and the rig CA", async () => {
    const authfile = path.join(scratch, "auth.json");
    fs.writeFileSync(
      authfile,
      JSON.stringify({ auths: { [rig.registries.tls.host]: { auth: rig.auth.basic } } }),
    );
    const r = await skopeo([
      "inspect",
      "--no-tags",
      "--format",
      "{{.Digest}}",
      "--authfile",
      authfile,
      "--cert-dir",
      rig.tls.skopeoCertDir,
      `docker://${rig.registries.tls.host}/rig/hello:v1`,
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(rig.images.tls.digest);
  });
});

describe("central containerd", () => {
  test("ctr pulls docker.io through a hand-written hosts.toml mirror (server on a dead port)", async () => {
    const dir = hostsToml(
      path.join(scratch, "ctr-hosts"),
      "docker.io",
      [
        'server = "http://127.0.0.1:1"',
        "",
        '[host."http://10.123.0.1:5000"]',
        '  capabilities = ["pull", "resolve"]',
        "",
      ].join("\n"),
    );
    expect(await ctrPull({ hostsDir: dir, ref: "docker.io/library/hello:v1" })).toBe(rig.images.plain.digest);
  });

  test("ctr: namespaced endpoint (override_path) and TLS with ca + Authorization header", async () => {
    const dir = path.join(scratch, "ctr-hosts2");
    hostsToml(
      dir,
      "registry.example.test",
      [
        `server = "${rig.deadServer}"`,
        `[host."${rig.registries.plain.url}/v2/ns"]`,
        '  capabilities = ["pull", "resolve"]',
        "  override_path = true",
      ].join("\n"),
    );
    hostsToml(
      dir,
      "secure.example.test",
      [
        `server = "${rig.deadServer}"`,
        `[host."${rig.registries.tls.url}"]`,
        '  capabilities = ["pull", "resolve"]',
        `  ca = "${rig.tls.caCert}"`,
        `  [host."${rig.registries.tls.url}".header]`,
        `    Authorization = "Basic ${rig.auth.basic}"`,
      ].join("\n"),
    );
    expect(await ctrPull({ hostsDir: dir, ref: "registry.example.test/rig/hello:v1" })).toBe(
      rig.images.ns.digest,
    );
    expect(await ctrPull({ hostsDir: dir, ref: "secure.example.test/rig/hello:v1" })).toBe(
      rig.images.tls.digest,
    );
  });

  test("a failing pull reports the error; a dead mirror and a dead server never leave the rig", async () => {
    const dir = hostsToml(
      path.join(scratch, "ctr-hosts3"),
      "none.example.test",
      [
        `server = "${rig.deadServer}"`,
        '[host."http://127.0.0.1:2"]',
        '  capabilities = ["pull", "resolve"]',
      ].join("\n"),
    );
    const err = ctrPull({ hostsDir: dir, ref: "none.example.test/rig/hello:v1" });
    await expect(err).rejects.toThrow(/dial tcp 127\.0\.0\.1:2: connect: connection refused/);
    await expect(err).rejects.toThrow(/dial tcp 127\.0\.0\.1:1: connect: connection refused/);
  });

  test("containerd 1.6 ignores a hosts.toml without a [host] table and goes to https://<name>", async () => {
    // A `server`-only file logs `failed to decode hosts.toml" error="invalid \`host\` tree"` and falls back
    // to the upstream name, which fails here only because the rig has no route out.
    const dir = hostsToml(
      path.join(scratch, "ctr-hosts4"),
      "serveronly.example.test",
      `server = "${rig.registries.plain.url}"\n`,
    );
    const err = ctrPull({ hostsDir: dir, ref: "serveronly.example.test/rig/hello:v1" });
    await expect(err).rejects.toThrow(/invalid `host` tree/);
    await expect(err).rejects.toThrow(/https:\/\/serveronly\.example\.test\/v2\/.*network is unreachable/);
  });

  test("CRI pull through config_path, with auth, and hot reload of an edited hosts.toml", async () => {
    const sock = rig.containerd.socket;
    const plainHost = "rigself.example.test";
    const tlsHost = "rigself-tls.example.test";
    const mirror = (endpoint: string, extra: string[] = []) =>
      [
        `server = "${rig.deadServer}"`,
        `[host."${endpoint}"]`,
        '  capabilities = ["pull", "resolve"]',
        ...extra,
      ].join("\n");
    try {
      hostsToml(rig.containerd.hostsDir, plainHost, mirror(rig.registries.plain.url));
      hostsToml(
        rig.containerd.hostsDir,
        tlsHost,
        mirror(rig.registries.tls.url, [`  ca = "${rig.tls.caCert}"`]),
      );

      const ref = `${plainHost}/rig/hello:v1`;
      expect(await criPull(sock, ref)).toBe(rig.images.plain.configDigest);
      expect(criManifestDigest(await criStatus(sock, ref))).toBe(rig.images.plain.digest);
      await criRemove(sock, ref);
      expect(await criStatus(sock, ref)).toBeNull();

      const tlsRef = `${tlsHost}/library/hello:v1`;
      await expect(criPull(sock, tlsRef)).rejects.toThrow(/401 Unauthorized/);
      expect(await criPull(sock, tlsRef, { username: rig.auth.user, password: rig.auth.password })).toBe(
        rig.images.tls.configDigest,
      );
      await criRemove(sock, tlsRef);

      // containerd's CRI reads config_path files on every pull: the edit takes effect without a restart.
      hostsToml(
        rig.containerd.hostsDir,
        plainHost,
        mirror(`${rig.registries.plain.url}/v2/alt`, ["  override_path = true"]),
      );
      expect(await criPull(sock, ref)).toBe(rig.images.alt.configDigest);
      await criRemove(sock, ref);
    } finally {
      for (const h of [plainHost, tlsHost])
        fs.rmSync(path.join(rig.containerd.hostsDir, h), { recursive: true, force: true });
    }
  });
});

describe("ssh nodes", () => {
  test("each node answers over ssh with its own hostname and address", async () => {
    const rs = await Promise.all(
      rig.nodes.map((n) => sshRun(n, "hostname; cat /etc/hostname; ip -4 -o addr show eth0")),
    );
    rs.forEach((r, i) => {
      expect(r.code).toBe(0);
      const [hostname, etcHostname, addr] = r.stdout.trim().split("\n");
      expect(hostname).toBe(`node${i + 1}`);
      expect(etcHostname).toBe(`node${i + 1}`);
      expect(addr).toContain(`${rig.nodes[i].ip}/24`);
    });
  });

  test("the pinned host key is the one the node presents; another key is refused", async () => {
    const ok = await sshRun(rig.nodes[0], "true");
    expect(ok.code).toBe(0);
    const wrongKnownHosts = path.join(scratch, "known_hosts_wrong");
    fs.writeFileSync(wrongKnownHosts, `${rig.nodes[0].ip} ${rig.nodes[1].hostKey}\n`);
    const bad = await sshRun(rig.nodes[0], "true", "", {
      sshOptions: ["-o", `UserKnownHostsFile=${wrongKnownHosts}`],
    });
    expect(bad.code).toBe(255);
    expect(bad.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  test("a file a node writes under /etc and /var lands in its overlay upper dir, not on the host", async () => {
    const n = rig.nodes[1];
    const file = "/etc/containerd/certs.d/rig-selftest.example.test/hosts.toml";
    const varFile = "/var/lib/kubelet/config.json";
    const script = `set -e; mkdir -p ${path.dirname(file)} /var/lib/kubelet
printf 'server = "${rig.deadServer}"\\n' > ${file}
umask 077; echo '{"auths":{}}' > ${varFile}`;
    try {
      const r = await sshRun(n, script);
      expect(r).toMatchObject({ code: 0, stderr: "" });
      expect(fs.readFileSync(nodeUpperPath(n, file), "utf8")).toBe(`server = "${rig.deadServer}"\n`);
      expect(fs.existsSync(nodeUpperPath(n, varFile))).toBe(true);
      expect(nodeFile(n, file)).toBe(`server = "${rig.deadServer}"\n`);
      expect(nodeStat(n, varFile)).toMatchObject({ mode: "600", uid: 0, type: "regular file" });
      // The other nodes and the host do not see it.
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.existsSync(varFile)).toBe(false);
      expect(nodeFile(rig.nodes[0], file)).toBeUndefined();
    } finally {
      await sshRun(n, "rm -rf /etc/containerd/certs.d /var/lib/kubelet");
    }
  });

  test("dash `sh -s` runs a script with a quoted here-doc payload; exit status and stderr come back", async () => {
    const payload = 'line with $dollar, `backticks` and "quotes"\nsecond line\n';
    const script = `set -eu
cat > /tmp/payload <<'RIG_PAYLOAD_EOF'
${payload}RIG_PAYLOAD_EOF
wc -l < /tmp/payload
cat /tmp/payload
echo "to stderr" >&2
readlink /proc/$$/exe
exit 7
`;
    const r = await sshRun(rig.nodes[2], "sh -s -- apply", script);
    expect(r.code).toBe(7);
    expect(r.stderr).toBe("to stderr\n");
    expect(r.stdout).toBe(`2\n${payload}/usr/bin/dash\n`);
    // The node's /tmp is private: the host does not see the payload file.
    expect(fs.existsSync("/tmp/payload")).toBe(false);
  });
});

describe("node containerd", () => {
  test("each node's containerd answers on its socket and has CRI loaded", async () => {
    const rs = await Promise.all(rig.nodes.map((n) => sshRun(n, `${rig.scripts.nodeContainerd} status`)));
    rs.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`containerd on node${i + 1} running`);
      expect(fs.statSync(rig.nodes[i].containerdSocket).isSocket()).toBe(true);
    });
    expect(nodeFile(rig.nodes[0], "/etc/containerd/config.toml")).toMatch(/config_path = ""/);
  });

  test("node-containerd restart over ssh picks up config_path; CRI on the node pulls through certs.d", async () => {
    const n = rig.nodes[2];
    const stock = fs.readFileSync(n.containerdConfigUpper, "utf8");
    const pidBefore = fs.readFileSync(n.containerdPidFile, "utf8").trim();
    const withConfigPath = stock.replace('config_path = ""', 'config_path = "/etc/containerd/certs.d"');
    const host = "node-selftest.example.test";
    const script = `set -e
mkdir -p /etc/containerd/certs.d/${host}
cat > /etc/containerd/certs.d/${host}/hosts.toml <<'EOF'
server = "${rig.deadServer}"
[host."${rig.registries.plain.url}/v2/ns"]
  capabilities = ["pull", "resolve"]
  override_path = true
EOF
cat > /etc/containerd/config.toml <<'EOF'
${withConfigPath}EOF
${rig.scripts.nodeContainerd} restart
`;
    try {
      const r = await sshRun(n, "sh -s", script);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/containerd on node3 started \(pid \d+\)/);
      expect(fs.readFileSync(n.containerdPidFile, "utf8").trim()).not.toBe(pidBefore);
      // The daemon survived the end of the ssh session, and its CRI pull runs in the node's netns.
      expect(await criPull(n.containerdSocket, `${host}/library/hello:v1`)).toBe(rig.images.ns.configDigest);
      await criRemove(n.containerdSocket, `${host}/library/hello:v1`);

      // A config containerd cannot load: restart fails with the log tail on stderr.
      const broken = await sshRun(
        n,
        `printf '[plugins\\n' > /etc/containerd/config.toml; ${rig.scripts.nodeContainerd} restart`,
      );
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(/containerd on node3 exited during start-up/);
      expect(broken.stderr).toMatch(/failed to load TOML/);
    } finally {
      // Written through the node, never into the overlay's upper dir: overlayfs keeps the size it last saw
      // (9 bytes, the broken file), and a later `cp` of the file (a node script's backup) copies only that much.
      await sshRun(
        n,
        `cat > /etc/containerd/config.toml && rm -rf /etc/containerd/certs.d && ${rig.scripts.nodeContainerd} restart`,
        stock,
      );
    }
    const after = await sshRun(n, `${rig.scripts.nodeContainerd} status`);
    expect(after.code).toBe(0);
  });
});

describe("validateContainerdConfig", () => {
  const cfg = (body: string) => {
    const f = path.join(scratch, `cfg-${Math.random().toString(36).slice(2)}.toml`);
    fs.writeFileSync(f, body);
    return f;
  };
  const registry = '[plugins."io.containerd.grpc.v1.cri".registry]';

  test("a good config loads, a typo is reported as a dropped key, and a CRI pull works through it", async () => {
    const host = "validate.example.test";
    hostsToml(
      path.join(scratch, "vhosts"),
      host,
      [
        `server = "${rig.deadServer}"`,
        `[host."${rig.registries.plain.url}"]`,
        '  capabilities = ["pull", "resolve"]',
      ].join("\n"),
    );
    const r = await validateContainerdConfig(
      cfg(
        `version = 2\n${registry}\n  config_path = "${path.join(scratch, "vhosts")}"\n  config_pth = "typo"\n`,
      ),
      { image: `${host}/rig/hello:v1` },
    );
    expect(r.dumpError).toBeUndefined();
    expect(r.cri).toBe("ok");
    expect(r.droppedKeys).toEqual(["plugins.io.containerd.grpc.v1.cri.registry.config_pth"]);
    expect(r.pull).toEqual({ ok: true, imageRef: rig.images.plain.configDigest });
    expect(r.ok).toBe(true);
  });

  test("mirrors together with config_path: the CRI plugin refuses to load", async () => {
    const r = await validateContainerdConfig(
      cfg(
        `version = 2\n${registry}\n  config_path = "/etc/containerd/certs.d"\n` +
          `  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n    endpoint = ["${rig.registries.plain.url}"]\n`,
      ),
    );
    expect(r.ok).toBe(false);
    expect(r.cri).toBe("error");
    expect(r.criError).toContain("`mirrors` cannot be set when `config_path` is provided");
  });

  test("broken TOML is reported by config dump", async () => {
    const r = await validateContainerdConfig(cfg("version = 2\n[plugins\n"));
    expect(r.ok).toBe(false);
    expect(r.dumpError).toMatch(/failed to load TOML/);
  });
});

test("nothing was written outside the rig on the host", () => {
  const started = Date.parse(rig.startedAt) - 60_000;
  for (const p of [
    "/opt/containerd",
    "/etc/cni/net.d",
    "/run/sshd",
    "/var/lib/containers",
    "/etc/containerd/certs.d",
  ]) {
    // A path that existed before the rig started is not the rig's doing; one created since then would be.
    const st = fs.statSync(p, { throwIfNoEntry: false });
    expect({ path: p, createdDuringRig: !!st && st.birthtimeMs > started }).toEqual({
      path: p,
      createdDuringRig: false,
    });
  }
});

/**
 * Real-consumer tests of the pure renderers: each rendered artefact is handed to the program that reads it in
 * production (containerd 1.6 through `ctr --hosts-dir` and through its CRI plugin, a throw-away containerd
 * loading a rendered MicroK8s template, skopeo for `.dockerconfigjson` and `registries.conf`), and every pull
 * is proven by the digest of the payload that came back (each rig payload has its own digest).
 *
 * Safety: every client runs in the rig's network namespace (no route out), and every declared registry's
 * `server` is a dead loopback port or a rig registry. The one exception is the legacy CRI `mirrors` form for
 * docker.io, which cannot name another server: containerd always appends https://registry-1.docker.io there
 * (the renderer refuses anything else), and the throw-away containerd runs in `regrig`, which has no route out.
 */
import * as TOML from "@iarna/toml";
import * as fs from "fs";
import * as path from "path";
import {
  CONTAINERS_CERTS_DIR,
  normalizeRegistries,
  type RegistriesArgs,
  renderCriRegistryBlock,
  renderDockerConfigJson,
  renderHostsDirectories,
  renderRegistriesConf,
  type RenderedFile,
  spliceCriBlock,
} from "../../components/render";
import {
  ctrPullLog,
  rigScratch,
  skopeoDigest,
  skopeoDigestWithEtc,
  writeRendered,
  writeSecretFile,
} from "../helpers/consumers";
import {
  criManifestDigest,
  criPull,
  criRemove,
  criStatus,
  loadRig,
  type Rig,
  rigHttp,
  run,
  validateContainerdConfig,
} from "../helpers/rig";

const FIXTURES = path.join(__dirname, "..", "fixtures", "containerd");
const BLOCK_ID = "registries";
/** containerd namespace of the ctr pulls, apart from the `rigtest` one other tests use. */
const CTR_NAMESPACE = "render-consumers";
/** A second dead loopback port, for dead mirrors (the dead server is `rig.deadServer`, port 1). */
const DEAD_MIRROR = "http://127.0.0.1:2";
/** Log text that would mean a pull tried to leave the rig (a real upstream, or DNS). */
const LEFT_THE_RIG = /network is unreachable|registry-1\.docker\.io|lookup |https:\/\/docker\.io/;

let rig: Rig;
let scratch: string;
let auth: { username: string; password: string };
let plain: string;
let tls: string;

beforeAll(() => {
  rig = loadRig();
  scratch = rigScratch("render-consumers");
  auth = { username: rig.auth.user, password: rig.auth.password };
  plain = rig.registries.plain.url;
  tls = rig.registries.tls.url;
});

afterAll(async () => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  // ctrPullLog removed every image; drop its (now empty) containerd namespace too.
  if (rig) {
    await run("ip", [
      "netns",
      "exec",
      rig.netns.registry,
      "ctr",
      "--address",
      rig.containerd.socket,
      "namespaces",
      "rm",
      CTR_NAMESPACE,
    ]);
  }
});

const ca = () => ({ ca: rig.tls.caPem });
const nsMirror = (ns: string) => ({ endpoint: `${plain}/v2/${ns}`, overridePath: true });

/**
 * Checks that a rendered hosts.toml parses and can only reach the rig: `server` (which only `_default` may lack)
 * is the dead port, another loopback port or a rig registry, and so is every `[host]`.
 */
function assertRigOnly(file: RenderedFile): void {
  const doc = TOML.parse(file.content) as { server?: string; host?: Record<string, unknown> };
  const allowed = (u: string) => /^https?:\/\/(127\.0\.0\.1|10\.123\.0\.1):\d+(\/|$)/.test(u);
  const urls = Object.keys(doc.host ?? {});
  if (doc.server !== undefined || !file.path.endsWith("/_default/hosts.toml")) urls.push(String(doc.server));
  for (const url of urls) {
    expect({ file: file.path, url, allowed: allowed(url) }).toEqual({ file: file.path, url, allowed: true });
  }
}

/** Renders the model's certs.d directories into a fresh dir and writes them; returns the dir and the files. */
function renderHosts(
  registries: RegistriesArgs,
  opts: { credentials?: boolean; certsDir?: string } = {},
): { dir: string; files: RenderedFile[] } {
  const dir = opts.certsDir ?? fs.mkdtempSync(path.join(scratch, "hosts-"));
  const { files } = renderHostsDirectories(normalizeRegistries(registries), {
    certsDir: dir,
    credentials: opts.credentials,
  });
  for (const f of files.filter((x) => x.path.endsWith("/hosts.toml"))) assertRigOnly(f);
  writeRendered(dir, files);
  return { dir, files };
}

/** Renders, then pulls `ref` with `ctr --hosts-dir` (the client-side twin of CRI's `config_path`). */
async function pullVia(registries: RegistriesArgs, ref: string, opts: { credentials?: boolean } = {}) {
  const { dir } = renderHosts(registries, opts);
  return ctrPullLog({ hostsDir: dir, ref, namespace: CTR_NAMESPACE });
}

describe("containerd hosts.toml (renderHostsDirectories) with ctr --hosts-dir", () => {
  test("(a) plain-HTTP mirror for docker.io", async () => {
    const r = await pullVia(
      { "docker.io": { server: rig.deadServer, mirrors: [{ endpoint: plain }] } },
      "docker.io/library/hello:v1",
    );
    expect(r).toMatchObject({ ok: true, digest: rig.images.plain.digest });
  });

  test("(b) path-prefixed mirror with override_path serves the namespace", async () => {
    const r = await pullVia(
      { "docker.io": { server: rig.deadServer, mirrors: [nsMirror("ns")] } },
      "docker.io/library/hello:v1",
    );
    expect(r).toMatchObject({ ok: true, digest: rig.images.ns.digest });
  });

  test("(c) HTTPS mirror with a custom CA and Basic credentials; without either it fails, no fallback", async () => {
    const ref = "docker.io/library/hello:v1";
    const good = await pullVia(
      { "docker.io": { server: rig.deadServer, mirrors: [{ endpoint: tls, tls: ca(), auth }] } },
      ref,
    );
    expect(good).toMatchObject({ ok: true, digest: rig.images.tls.digest });

    const noCa = await pullVia(
      { "docker.io": { server: rig.deadServer, mirrors: [{ endpoint: tls, auth }] } },
      ref,
    );
    expect(noCa.ok).toBe(false);
    expect(noCa.log).toMatch(/x509: certificate signed by unknown authority/);
    // The only other host tried is the dead server.
    expect(noCa.log).toMatch(/dial tcp 127\.0\.0\.1:1: connect: connection refused/);
    expect(noCa.log).not.toMatch(LEFT_THE_RIG);

    const noCreds = await pullVia(
      { "docker.io": { server: rig.deadServer, mirrors: [{ endpoint: tls, tls: ca() }] } },
      ref,
    );
    expect(noCreds.ok).toBe(false);
    expect(noCreds.log).toMatch(
      /pulling from host 10\.123\.0\.1:5443 failed with status code .*401 Unauthorized/,
    );
    expect(noCreds.log).toMatch(/dial tcp 127\.0\.0\.1:1: connect: connection refused/);
    expect(noCreds.log).not.toMatch(LEFT_THE_RIG);
  });

  test("(d) a server-only HTTPS registry (CA + Basic header, no mirrors) pulls, with an empty host table", async () => {
    const registries: RegistriesArgs = {
      [rig.registries.tls.host]: { server: tls, tls: ca(), auth },
    };
    const ref = `${rig.registries.tls.host}/rig/hello:v1`;
    const { dir, files } = renderHosts(registries);
    const doc = TOML.parse(files[0].content) as { host?: object; header?: Record<string, string> };
    // containerd 1.6 ignores a file without a host table; an empty one is enough and tries the server once.
    expect(doc.host).toEqual({});
    expect(doc.header?.Authorization).toBe(`Basic ${rig.auth.basic}`);
    expect(files[0].mode).toBe(0o600);
    expect(await ctrPullLog({ hostsDir: dir, ref, namespace: CTR_NAMESPACE })).toMatchObject({
      ok: true,
      digest: rig.images.tls.digest,
    });

    // Control: the same registry without the header is refused, so the header is what authenticated.
    const noHeader = await pullVia(registries, ref, { credentials: false });
    expect(noHeader.ok).toBe(false);
    expect(noHeader.log).toMatch(/401 Unauthorized/);
    expect(noHeader.log).not.toMatch(LEFT_THE_RIG);
  });

  test("(e) a dead mirror falls back to the server (the plain registry)", async () => {
    const r = await pullVia(
      { "docker.io": { server: plain, mirrors: [{ endpoint: DEAD_MIRROR }] } },
      "docker.io/library/hello:v1",
    );
    expect(r).toMatchObject({ ok: true, digest: rig.images.plain.digest });
    expect(r.log).toMatch(/trying next host.*dial tcp 127\.0\.0\.1:2: connect: connection refused/);
  });

  test("(e) a mirror answering 404 for the repository is skipped for the next mirror; order is kept", async () => {
    const missing = await rigHttp(`${plain}/v2/nothere/library/hello/manifests/v1`, { method: "HEAD" });
    expect(missing.status).toBe(404);
    const r = await pullVia(
      { "docker.io": { server: rig.deadServer, mirrors: [nsMirror("nothere"), nsMirror("ns")] } },
      "docker.io/library/hello:v1",
    );
    expect(r).toMatchObject({ ok: true, digest: rig.images.ns.digest });
    expect(r.log).toMatch(/trying next host - response was http\.StatusNotFound/);

    // Two good mirrors: the first one declared serves.
    const first = await pullVia(
      { "docker.io": { server: rig.deadServer, mirrors: [nsMirror("alt"), nsMirror("ns")] } },
      "docker.io/library/hello:v1",
    );
    expect(first).toMatchObject({ ok: true, digest: rig.images.alt.digest });
  });

  test("(g) fallback: false pulls only through its mirror(s); a dead only-mirror fails without going anywhere else", async () => {
    const name = "nofallback.example.test";
    const ref = `${name}/rig/hello:v1`;
    const viaNs = await pullVia({ [name]: { fallback: false, mirrors: [nsMirror("ns")] } }, ref);
    expect(viaNs).toMatchObject({ ok: true, digest: rig.images.ns.digest });

    const viaPlain = await pullVia({ [name]: { fallback: false, mirrors: [{ endpoint: plain }] } }, ref);
    expect(viaPlain).toMatchObject({ ok: true, digest: rig.images.plain.digest });

    const dead = await pullVia({ [name]: { fallback: false, mirrors: [{ endpoint: DEAD_MIRROR }] } }, ref);
    expect(dead.ok).toBe(false);
    expect(dead.log).toMatch(/dial tcp 127\.0\.0\.1:2: connect: connection refused/);
    expect(dead.log).not.toMatch(/127\.0\.0\.1:1\b/);
    expect(dead.log).not.toContain(`https://${name}`);
    expect(dead.log).not.toMatch(LEFT_THE_RIG);
  });

  test("_default: its mirror serves a registry that has no directory of its own (ctr and CRI)", async () => {
    // RIG.md §5.1 says containerd 1.6.20 ignores certs.d/_default; these pulls show it does use it. A `.test`
    // name can never be a real upstream, and the rig has no route out, so a miss could not leave the rig.
    const { dir, files } = renderHosts({ _default: { mirrors: [nsMirror("ns")] } });
    expect(files.map((f) => path.relative(dir, f.path))).toEqual(["_default/hosts.toml"]);
    const ref = "nodir.example.test/rig/hello:v1";
    expect(fs.existsSync(path.join(dir, "nodir.example.test"))).toBe(false);
    expect(await ctrPullLog({ hostsDir: dir, ref, namespace: CTR_NAMESPACE })).toMatchObject({
      ok: true,
      digest: rig.images.ns.digest,
    });

    const config = path.join(dir, "config.toml");
    fs.writeFileSync(
      config,
      `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "${dir}"\n`,
    );
    const report = await validateContainerdConfig(config, { image: ref });
    expect(report.cri).toBe("ok");
    expect(report.pull).toEqual({ ok: true, imageRef: rig.images.ns.configDigest });
  });

  test("(k) a mirror pointing at the pull-through cache serves the upstream's payload", async () => {
    const r = await pullVia(
      { "docker.io": { server: rig.deadServer, mirrors: [{ endpoint: rig.registries.proxy.url }] } },
      "docker.io/library/hello:v1",
    );
    expect(r).toMatchObject({ ok: true, digest: rig.images.plain.digest });
  });
});

describe("(f) CRI pull (what kubelet does) through the central containerd's config_path", () => {
  test("namespaced mirror, and an HTTPS mirror with CA + Basic header (no CRI auth passed)", async () => {
    const sock = rig.containerd.socket;
    const id = Math.random().toString(36).slice(2, 8);
    const nsName = `rc-${id}.example.test`;
    const tlsName = `rc-tls-${id}.example.test`;
    const hostsDir = rig.containerd.hostsDir;
    const dirs = [nsName, tlsName].map((n) => path.join(hostsDir, n));
    try {
      for (const d of dirs) expect(fs.existsSync(d)).toBe(false);
      renderHosts(
        {
          [nsName]: { server: rig.deadServer, mirrors: [nsMirror("ns")] },
          [tlsName]: { server: rig.deadServer, mirrors: [{ endpoint: tls, tls: ca(), auth }] },
        },
        { certsDir: hostsDir },
      );

      const nsRef = `${nsName}/library/hello:v1`;
      expect(await criPull(sock, nsRef)).toBe(rig.images.ns.configDigest);
      expect(criManifestDigest(await criStatus(sock, nsRef))).toBe(rig.images.ns.digest);
      await criRemove(sock, nsRef);

      const tlsRef = `${tlsName}/rig/hello:v1`;
      expect(await criPull(sock, tlsRef)).toBe(rig.images.tls.configDigest);
      expect(criManifestDigest(await criStatus(sock, tlsRef))).toBe(rig.images.tls.digest);
      await criRemove(sock, tlsRef);
      expect(await criStatus(sock, tlsRef)).toBeNull();
    } finally {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("(h) the CRI registry block spliced into a containerd config, loaded by a throw-away containerd", () => {
  const microk8sVars = (snap: string) => ({
    SNAP_DATA: snap,
    SNAPSHOTTER: "overlayfs",
    RUNTIME: "runc",
    RUNTIME_TYPE: "io.containerd.runc.v2",
  });
  const registryKeys = (dropped: string[]) => dropped.filter((k) => k.includes(".registry."));

  test("MicroK8s template (config_path): configs.auth authenticates a CRI pull that passes no auth", async () => {
    const snap = fs.mkdtempSync(path.join(scratch, "snap-"));
    const certsDir = `${snap}/args/certs.d`;
    const host = rig.registries.tls.host;
    const model = normalizeRegistries({ [host]: { server: tls, tls: ca(), auth } });
    // The CA goes through hosts.toml in config_path; credentials only through configs.auth.
    const hosts = renderHosts({ [host]: { server: tls, tls: ca(), auth } }, { certsDir, credentials: false });
    expect(hosts.files[0].content).not.toContain("Authorization");
    const block = renderCriRegistryBlock(model, {
      configVersion: 2,
      certsDir,
      auth: true,
      tls: false,
      mirrors: false,
    });
    expect(block.files).toEqual([]);
    const stock = fs.readFileSync(path.join(FIXTURES, "microk8s-containerd-template.toml"), "utf8");
    const spliced = spliceCriBlock(stock, BLOCK_ID, block, "containerd-template.toml");
    expect(spliced).toBeDefined();
    const template = writeSecretFile(path.join(snap, "args", "containerd-template.toml"), spliced!);
    const ref = `${host}/rig/hello:v1`;

    const report = await validateContainerdConfig(template, { image: ref, substitute: microk8sVars(snap) });
    expect(report.dumpError).toBeUndefined();
    expect(report.cri).toBe("ok");
    expect(registryKeys(report.droppedKeys)).toEqual([]);
    expect(report.pull).toEqual({ ok: true, imageRef: rig.images.tls.configDigest });

    // Control: the stock template with the same hosts.toml but without the block is refused.
    const stockFile = path.join(snap, "stock.toml");
    fs.writeFileSync(stockFile, stock);
    const control = await validateContainerdConfig(stockFile, { image: ref, substitute: microk8sVars(snap) });
    expect(control.cri).toBe("ok");
    expect(control.pull?.ok).toBe(false);
    expect(control.pull?.error).toMatch(/401 Unauthorized/);
  });

  /** Splices a legacy block (mirrors + configs.tls + configs.auth) into a fixture, writes its TLS files. */
  function legacyConfig(fixture: string, registries: RegistriesArgs): { file: string; snap: string } {
    const snap = fs.mkdtempSync(path.join(scratch, "legacy-"));
    const certsDir = `${snap}/certs.d`;
    const block = renderCriRegistryBlock(normalizeRegistries(registries), {
      configVersion: 2,
      certsDir,
      auth: true,
      tls: true,
      mirrors: true,
    });
    writeRendered(snap, block.files);
    const text = fs.readFileSync(path.join(FIXTURES, fixture), "utf8");
    const spliced = spliceCriBlock(text, BLOCK_ID, block, fixture);
    expect(spliced).toBeDefined();
    expect(spliced).not.toMatch(/^\s*config_path\s*=\s*"[^"]/m);
    return { file: writeSecretFile(path.join(snap, "config.toml"), spliced!), snap };
  }

  test("legacy mirrors form (no config_path), docker.io -> plain mirror", async () => {
    const { file } = legacyConfig("config-default-1.6.toml", {
      "docker.io": { mirrors: [{ endpoint: plain }] },
    });
    const report = await validateContainerdConfig(file, { image: "docker.io/library/hello:v1" });
    expect(report.cri).toBe("ok");
    expect(registryKeys(report.droppedKeys)).toEqual([]);
    expect(report.log).toMatch(/`mirrors` is deprecated/);
    expect(report.pull).toEqual({ ok: true, imageRef: rig.images.plain.configDigest });
  });

  test("legacy mirrors form: a path mirror's path is the API root (/v2/ns -> ns payload)", async () => {
    const { file } = legacyConfig("config-default-1.6.toml", { "docker.io": { mirrors: [nsMirror("ns")] } });
    const report = await validateContainerdConfig(file, { image: "docker.io/library/hello:v1" });
    expect(report.cri).toBe("ok");
    expect(report.pull).toEqual({ ok: true, imageRef: rig.images.ns.configDigest });
  });

  test("legacy MicroK8s <=1.22 template: configs.tls (CA) + configs.auth for the TLS registry", async () => {
    const host = rig.registries.tls.host;
    const { file, snap } = legacyConfig("microk8s-containerd-template-1.22.toml", {
      [host]: { server: tls, tls: ca(), auth },
    });
    const report = await validateContainerdConfig(file, {
      image: `${host}/rig/hello:v1`,
      substitute: microk8sVars(snap),
    });
    expect(report.cri).toBe("ok");
    expect(registryKeys(report.droppedKeys)).toEqual([]);
    expect(report.pull).toEqual({ ok: true, imageRef: rig.images.tls.configDigest });
  });
});

describe("skopeo (containers/image) reads the rendered auth file and registries.conf", () => {
  test("(i) .dockerconfigjson as --authfile: right password -> tls digest, wrong one -> unauthorized", async () => {
    const host = rig.registries.tls.host;
    const tlsRef = `${host}/rig/hello:v1`;
    const render = (password: string) =>
      renderDockerConfigJson(
        normalizeRegistries({ [host]: { server: tls, tls: ca(), auth: { ...auth, password } } }),
      );
    const good = writeSecretFile(path.join(scratch, "auth-good.json"), render(rig.auth.password)!);
    const bad = writeSecretFile(path.join(scratch, "auth-bad.json"), render("wrong-password")!);
    const args = (authfile: string) => ["--authfile", authfile, "--cert-dir", rig.tls.skopeoCertDir];

    expect(await skopeoDigest(tlsRef, { args: args(good) })).toMatchObject({
      ok: true,
      digest: rig.images.tls.digest,
    });
    const refused = await skopeoDigest(tlsRef, { args: args(bad) });
    expect(refused.ok).toBe(false);
    expect(refused.stderr).toMatch(/unauthorized/);
  });

  test("(j) registries.conf: namespaced plain-HTTP mirror of a dead prefix -> ns digest", async () => {
    const conf = renderRegistriesConf(
      normalizeRegistries({ "registry.example.test": { server: rig.deadServer, mirrors: [nsMirror("ns")] } }),
      { certsDir: path.join(scratch, "containers-certs.d") },
    );
    const file = path.join(scratch, "registries-ns.conf");
    fs.writeFileSync(file, conf.content);
    const r = await skopeoDigest("registry.example.test/rig/hello:v1", {
      global: ["--registries-conf", file],
    });
    expect(r).toMatchObject({ ok: true, digest: rig.images.ns.digest });
  });

  test("(j) registries.conf: HTTPS mirror with the rendered CA file and credentials keyed by the mirror host", async () => {
    const certsDir = path.join(scratch, "containers-certs-tls.d");
    const registries: RegistriesArgs = {
      "secure.example.test": { server: rig.deadServer, mirrors: [{ endpoint: tls, tls: ca(), auth }] },
    };
    const model = normalizeRegistries(registries);
    const conf = renderRegistriesConf(model, { certsDir });
    writeRendered(certsDir, conf.files);
    const caFile = conf.files.find((f) => f.path.endsWith("/ca.crt"));
    expect(caFile?.path).toBe(`${certsDir}/${rig.registries.tls.host}/ca.crt`);
    const file = path.join(scratch, "registries-tls.conf");
    fs.writeFileSync(file, conf.content);
    const authJson = renderDockerConfigJson(model, { mirrors: true });
    expect(Object.keys(JSON.parse(authJson!).auths)).toEqual([rig.registries.tls.host]);
    const authfile = writeSecretFile(path.join(scratch, "auth-mirror.json"), authJson!);
    const ref = "secure.example.test/rig/hello:v1";
    const certDir = path.dirname(caFile!.path);
    const global = ["--registries-conf", file];

    const r = await skopeoDigest(ref, { global, args: ["--authfile", authfile, "--cert-dir", certDir] });
    expect(r).toMatchObject({ ok: true, digest: rig.images.tls.digest });

    // Controls: credentials keyed by the prefix are not used for the mirror; without the CA, x509.
    expect(renderDockerConfigJson(model, { mirrors: false })).toBeUndefined();
    const prefixKeyed = writeSecretFile(
      path.join(scratch, "auth-prefix.json"),
      JSON.stringify({ auths: { "secure.example.test": { auth: rig.auth.basic } } }),
    );
    const wrongKey = await skopeoDigest(ref, {
      global,
      args: ["--authfile", prefixKeyed, "--cert-dir", certDir],
    });
    expect(wrongKey.ok).toBe(false);
    expect(wrongKey.stderr).toMatch(/unauthorized/);
    const noCa = await skopeoDigest(ref, { global, args: ["--authfile", authfile] });
    expect(noCa.ok).toBe(false);
    expect(noCa.stderr).toMatch(/x509: certificate signed by unknown authority/);
    for (const e of [wrongKey.stderr, noCa.stderr]) expect(e).toMatch(/127\.0\.0\.1:1/);
  });

  test("(j) the drop-in and certs.d/<host>/ca.crt at their node paths, read with no --registries-conf/--cert-dir", async () => {
    // A copy of the host's /etc/containers, bind-mounted over /etc/containers in skopeo's private mount ns.
    const etc = fs.mkdtempSync(path.join(scratch, "etc-containers-"));
    fs.cpSync("/etc/containers", etc, { recursive: true });
    const host = rig.registries.tls.host;
    const model = normalizeRegistries({
      "registry.example.test": { server: rig.deadServer, mirrors: [nsMirror("ns")] },
      "secure.example.test": { server: rig.deadServer, mirrors: [{ endpoint: tls, tls: ca(), auth }] },
    });
    const conf = renderRegistriesConf(model); // default certsDir: /etc/containers/certs.d
    expect(conf.files.map((f) => f.path)).toEqual([`${CONTAINERS_CERTS_DIR}/${host}/ca.crt`]);
    writeRendered(etc, conf.files, "/etc/containers");
    fs.mkdirSync(path.join(etc, "registries.conf.d"), { recursive: true });
    fs.writeFileSync(path.join(etc, "registries.conf.d", "50-pulumi-registries.conf"), conf.content);
    const authfile = writeSecretFile(
      path.join(scratch, "auth-dropin.json"),
      renderDockerConfigJson(model, { mirrors: true })!,
    );

    expect(await skopeoDigestWithEtc(etc, "registry.example.test/rig/hello:v1")).toMatchObject({
      ok: true,
      digest: rig.images.ns.digest,
    });
    const ref = "secure.example.test/rig/hello:v1";
    expect(await skopeoDigestWithEtc(etc, ref, ["--authfile", authfile])).toMatchObject({
      ok: true,
      digest: rig.images.tls.digest,
    });
    // Control: without the rendered certs.d files the mirror fails TLS verification.
    fs.rmSync(path.join(etc, "certs.d"), { recursive: true, force: true });
    const noCa = await skopeoDigestWithEtc(etc, ref, ["--authfile", authfile]);
    expect(noCa.ok).toBe(false);
    expect(noCa.stderr).toMatch(/x509: certificate signed by unknown authority/);
  });
});

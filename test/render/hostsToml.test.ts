import * as TOML from "@iarna/toml";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import {
  basicAuthHeader,
  renderHostsDirectories,
  renderHostsDirectory,
  tlsFileStem,
} from "../../components/render/hostsToml";
import { expectGolden } from "../helpers/golden";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import { thrown } from "../helpers/thrown";

const MK8S = "/var/snap/microk8s/current/args/certs.d";
const ETC = "/etc/containerd/certs.d";

function one(args: RegistriesArgs, certsDir = ETC) {
  const model = normalizeRegistries(args);
  expect(model.registries).toHaveLength(1);
  return renderHostsDirectory(model.registries[0], { certsDir });
}

/** Parsed TOML, navigable in assertions without casts. */
interface Doc {
  readonly [key: string]: Doc;
}

function parsed(text: string): Doc {
  return TOML.parse(text) as unknown as Doc;
}

describe("basicAuthHeader", () => {
  test("encodes user:password as base64 (the rig's known value)", () => {
    expect(basicAuthHeader("rigUser", "rigPass123")).toBe("Basic cmlnVXNlcjpyaWdQYXNzMTIz");
  });
  test("encodes UTF-8", () => {
    expect(basicAuthHeader("ü", "p")).toBe(`Basic ${Buffer.from("ü:p").toString("base64")}`);
  });
});

describe("renderHostsDirectory goldens", () => {
  test("docker.io with a plain-HTTP mirror", () => {
    const d = one({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } });
    expect(d.dir).toBe(`${ETC}/docker.io`);
    expect(d.files.map((f) => f.path)).toEqual([`${ETC}/docker.io/hosts.toml`]);
    expect(d.files[0]).toMatchObject({ mode: 0o644, secret: false });
    expectGolden("hostsToml/docker-io-http-mirror.toml", d.files[0].content);
    expect(parsed(d.files[0].content)).toEqual({
      server: "https://registry-1.docker.io",
      host: { "http://10.0.0.5:5000": { capabilities: ["pull", "resolve"] } },
    });
  });

  test("registry.k8s.io with the aliyun path mirror (override_path)", () => {
    const d = one(
      {
        "registry.k8s.io": {
          mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
        },
      },
      MK8S,
    );
    expect(d.dir).toBe(`${MK8S}/registry.k8s.io`);
    expectGolden("hostsToml/registry-k8s-io-aliyun.toml", d.files[0].content);
    expect(parsed(d.files[0].content)).toEqual({
      server: "https://registry.k8s.io",
      host: {
        "https://registry.aliyuncs.com/v2/google_containers": {
          capabilities: ["pull", "resolve"],
          override_path: true,
        },
      },
    });
  });

  test("HTTPS registry with a custom CA (MicroK8s doc example)", () => {
    const d = one({ "10.141.241.175:32000": { tls: { ca: pem.ca } } }, MK8S);
    const dir = `${MK8S}/10.141.241.175:32000`;
    expect(d.files.map((f) => [f.path, f.mode, f.secret])).toEqual([
      [`${dir}/hosts.toml`, 0o644, false],
      [`${dir}/ca.crt`, 0o644, false],
    ]);
    expect(d.files[1].content).toBe(pem.ca.replace(/\r\n/g, "\n").trim() + "\n");
    expectGolden("hostsToml/https-custom-ca.toml", d.files[0].content);
    expect(parsed(d.files[0].content)).toEqual({
      server: "https://10.141.241.175:32000",
      ca: `${dir}/ca.crt`,
      host: {},
    });
  });

  test("private registry with Basic auth: hosts.toml is secret", () => {
    const d = one({
      "registry.example.com": { auth: { username: "ci-bot", password: CANARY_PASSWORD } },
    });
    expect(d.files).toHaveLength(1);
    expect(d.files[0]).toMatchObject({ mode: 0o600, secret: true });
    expectGolden("hostsToml/basic-auth.toml", d.files[0].content);
    const header = { Authorization: basicAuthHeader("ci-bot", CANARY_PASSWORD) };
    expect(parsed(d.files[0].content)).toEqual({
      server: "https://registry.example.com",
      header,
      host: {},
    });
  });

  test("mutual TLS client certificate on the server and a mirror", () => {
    const tls = { ca: pem.ca, clientCert: pem.clientCert, clientKey: pem.clientKey };
    const d = one({
      "secure.example.com": { tls, mirrors: [{ endpoint: "https://mirror.example.com:8443", tls }] },
    });
    const dir = `${ETC}/secure.example.com`;
    expect(d.files.map((f) => [f.path.slice(dir.length + 1), f.mode, f.secret])).toEqual([
      ["hosts.toml", 0o644, false],
      ["ca.crt", 0o644, false],
      ["client.cert", 0o644, false],
      ["client.key", 0o600, true],
      ["mirror-mirror.example.com_8443.cert", 0o644, false],
      ["mirror-mirror.example.com_8443.crt", 0o644, false],
      ["mirror-mirror.example.com_8443.key", 0o600, true],
    ]);
    expectGolden("hostsToml/mtls.toml", d.files[0].content);
    expect(parsed(d.files[0].content)).toEqual({
      server: "https://secure.example.com",
      ca: `${dir}/ca.crt`,
      client: [[`${dir}/client.cert`, `${dir}/client.key`]],
      host: {
        "https://mirror.example.com:8443": {
          capabilities: ["pull", "resolve"],
          ca: `${dir}/mirror-mirror.example.com_8443.crt`,
          client: [
            [`${dir}/mirror-mirror.example.com_8443.cert`, `${dir}/mirror-mirror.example.com_8443.key`],
          ],
        },
      },
    });
  });

  test("several mirrors in declaration order, then the server", () => {
    const d = one({
      "quay.io": {
        server: "https://quay.io",
        capabilities: ["pull", "resolve"],
        mirrors: [
          { endpoint: "https://z-first.example.com" },
          {
            endpoint: "http://10.0.0.9:5000",
            capabilities: ["pull"],
            headers: { "X-Tenant": "a", Accept: "x" },
          },
          { endpoint: "https://a-last.example.com", tls: { insecureSkipVerify: true } },
        ],
      },
    });
    expectGolden("hostsToml/mirrors-in-order.toml", d.files[0].content);
    const doc = parsed(d.files[0].content);
    expect(Object.keys(doc.host)).toEqual([
      "https://z-first.example.com",
      "http://10.0.0.9:5000",
      "https://a-last.example.com",
    ]);
    expect(doc.capabilities).toEqual(["pull", "resolve"]);
    expect(doc.host["http://10.0.0.9:5000"]).toEqual({
      capabilities: ["pull"],
      header: { Accept: "x", "X-Tenant": "a" },
    });
    expect(doc.host["https://a-last.example.com"].skip_verify).toBe(true);
    // hosts are tried in file order: the textual order is what containerd uses, not the parsed map's.
    const text = d.files[0].content;
    expect(text.indexOf("z-first")).toBeLessThan(text.indexOf("10.0.0.9"));
    expect(text.indexOf("10.0.0.9")).toBeLessThan(text.indexOf("a-last"));
  });

  test("fallback: false makes the last mirror the server", () => {
    const d = one({
      "gcr.io": {
        fallback: false,
        mirrors: [
          { endpoint: "https://mirror-a.example.com" },
          { endpoint: "https://mirror-b.example.com/v2/gcr", overridePath: true, headers: { "X-A": "1" } },
        ],
      },
    });
    expectGolden("hostsToml/no-fallback.toml", d.files[0].content);
    expect(parsed(d.files[0].content)).toEqual({
      server: "https://mirror-b.example.com/v2/gcr",
      capabilities: ["pull", "resolve"],
      override_path: true,
      header: { "X-A": "1" },
      host: { "https://mirror-a.example.com": { capabilities: ["pull", "resolve"] } },
    });
  });

  test("fallback: false with one mirror: the mirror is the server, with an empty host table (containerd 1.6 needs one)", () => {
    const d = one({ "gcr.io": { fallback: false, mirrors: [{ endpoint: "https://only.example.com" }] } });
    expect(parsed(d.files[0].content)).toEqual({
      server: "https://only.example.com",
      capabilities: ["pull", "resolve"],
      host: {},
    });
  });

  test("_default has no server", () => {
    const d = one({ _default: { mirrors: [{ endpoint: "https://catch-all.example.com" }] } });
    expect(d.dir).toBe(`${ETC}/_default`);
    expectGolden("hostsToml/default.toml", d.files[0].content);
    expect(parsed(d.files[0].content)).toEqual({
      host: { "https://catch-all.example.com": { capabilities: ["pull", "resolve"] } },
    });
  });

  test("plain-HTTP registry 10.141.241.175:32000 (MicroK8s doc example)", () => {
    const d = one({ "10.141.241.175:32000": { plainHttp: true } }, MK8S);
    expect(d.files[0].path).toBe(`${MK8S}/10.141.241.175:32000/hosts.toml`);
    expectGolden("hostsToml/microk8s-plain-http.toml", d.files[0].content);
    expect(parsed(d.files[0].content)).toEqual({
      server: "http://10.141.241.175:32000",
      host: {},
    });
  });
});

describe("renderHostsDirectories", () => {
  const args = {
    "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000", headers: { B: "2", A: "1" } }] },
    "10.141.241.175:32000": { plainHttp: true },
    _default: { mirrors: [{ endpoint: "https://catch-all.example.com" }] },
    "registry.example.com": { auth: { username: "u", password: CANARY_PASSWORD }, tls: { ca: pem.ca } },
  } satisfies Record<string, unknown>;

  test("renders every registry, in name order", () => {
    const r = renderHostsDirectories(normalizeRegistries(args), { certsDir: ETC });
    expect(r.files.map((f) => f.path)).toEqual([
      `${ETC}/10.141.241.175:32000/hosts.toml`,
      `${ETC}/_default/hosts.toml`,
      `${ETC}/docker.io/hosts.toml`,
      `${ETC}/registry.example.com/hosts.toml`,
      `${ETC}/registry.example.com/ca.crt`,
    ]);
    expect(r.warnings).toEqual([]);
    for (const f of r.files.filter((f) => f.path.endsWith(".toml")))
      expect(() => TOML.parse(f.content)).not.toThrow();
  });

  test("input order does not change a byte", () => {
    const reference = JSON.stringify(renderHostsDirectories(normalizeRegistries(args), { certsDir: ETC }));
    const reversed = Object.fromEntries(
      Object.entries(args)
        .reverse()
        .map(([k, v]) => [k, JSON.parse(JSON.stringify(v), (_key, value) => reverseKeys(value))]),
    );
    expect(JSON.stringify(renderHostsDirectories(normalizeRegistries(reversed), { certsDir: ETC }))).toBe(
      reference,
    );
  });

  test("collects the problems of every registry", () => {
    const e = thrown(() =>
      renderHostsDirectories(
        normalizeRegistries({
          "a.example.com": { auth: { identityToken: "tok" } },
          "b.example.com": {
            mirrors: [{ endpoint: "https://m.example.com", auth: { identityToken: "tok" } }],
          },
        }),
        { certsDir: ETC },
      ),
    );
    expect(e.problems.map((p) => p.path)).toEqual([
      'registries["a.example.com"].auth',
      'registries["b.example.com"].mirrors[0].auth',
    ]);
  });
});

describe("edge cases", () => {
  test.each<{ name: string; args: RegistriesArgs; path: string }>([
    {
      name: "identity token on the server",
      args: { "r.example.com": { auth: { identityToken: "secret-token-1" } } },
      path: 'registries["r.example.com"].auth',
    },
    {
      name: "identity token on a mirror",
      args: {
        "docker.io": {
          mirrors: [{ endpoint: "https://m.example.com", auth: { identityToken: "secret-token-1" } }],
        },
      },
      path: 'registries["docker.io"].mirrors[0].auth',
    },
  ])("$name is a ConfigError", ({ args, path }) => {
    const e = thrown(() => one(args));
    expect(e.problems).toEqual([
      {
        path,
        message:
          "an identity token cannot be written to hosts.toml (it has no credential field, and a header cannot carry an OAuth2 refresh token): use a profile that writes the CRI registry.configs auth block (e.g. MicroK8s containerd-template.toml), or give username and password",
      },
    ]);
    expect(e.message).not.toContain("secret-token-1");
  });

  test("two mirrors on one host with different CAs is a ConfigError", () => {
    const e = thrown(() =>
      one({
        "docker.io": {
          mirrors: [
            { endpoint: "https://m.example.com/v2/a", overridePath: true, tls: { ca: pem.ca } },
            { endpoint: "https://m.example.com/v2/b", overridePath: true, tls: { ca: pem.otherCert } },
          ],
        },
      }),
    );
    expect(e.problems).toEqual([
      {
        path: 'registries["docker.io"].mirrors[1].tls.ca',
        message:
          'differs from registries["docker.io"].mirrors[0].tls.ca on the same host, but both would be written to mirror-m.example.com.crt: give endpoints on one host the same TLS settings',
      },
    ]);
  });

  test("two mirrors on one host with the same CA share one file", () => {
    const d = one({
      "docker.io": {
        mirrors: [
          { endpoint: "https://m.example.com/v2/a", overridePath: true, tls: { ca: pem.ca } },
          { endpoint: "https://m.example.com/v2/b", overridePath: true, tls: { ca: pem.ca } },
        ],
      },
    });
    const crt = `${ETC}/docker.io/mirror-m.example.com.crt`;
    expect(d.files.map((f) => f.path)).toEqual([`${ETC}/docker.io/hosts.toml`, crt]);
    const doc = parsed(d.files[0].content);
    expect(doc.host["https://m.example.com/v2/a"].ca).toBe(crt);
    expect(doc.host["https://m.example.com/v2/b"].ca).toBe(crt);
  });

  test.each([
    ["mirror", "10.0.0.5:5000", "mirror-10.0.0.5_5000"],
    ["mirror", "[fd00::1]:5000", "mirror-_fd00__1__5000"],
    ["mirror", "m.example.com", "mirror-m.example.com"],
    ["server", "r.example.com:443", "client"],
  ] as const)("tlsFileStem(%s, %s) = %s", (kind, authority, stem) => {
    expect(tlsFileStem(kind, authority)).toBe(stem);
  });

  test.each<{ name: string; args: RegistriesArgs; check: (doc: Doc) => void }>([
    {
      name: "header values are strings, names sorted",
      args: {
        "docker.io": {
          mirrors: [{ endpoint: "https://m.example.com", headers: { Two: "2", One: "1" } }],
        },
      },
      check: (doc: Doc) => expect(doc.host["https://m.example.com"].header).toEqual({ One: "1", Two: "2" }),
    },
    {
      name: "Basic auth on a mirror joins its headers, sorted",
      args: {
        "docker.io": {
          mirrors: [
            {
              endpoint: "https://m.example.com",
              headers: { "X-Z": "z" },
              auth: { username: "u", password: "p" },
            },
          ],
        },
      },
      check: (doc: Doc) =>
        expect(Object.keys(doc.host["https://m.example.com"].header)).toEqual(["Authorization", "X-Z"]),
    },
    {
      name: "capabilities are only written for the server when set",
      args: { "r.example.com": { capabilities: ["pull", "resolve", "push"] } },
      check: (doc: Doc) => expect(doc.capabilities).toEqual(["pull", "resolve", "push"]),
    },
    {
      name: "skip_verify only when true",
      args: { "r.example.com": { tls: { insecureSkipVerify: false } } },
      check: (doc: Doc) =>
        expect(doc).toEqual({
          server: "https://r.example.com",
          host: {},
        }),
    },
    {
      name: "a registry without mirrors has an empty host table (containerd 1.6 ignores a file without one)",
      args: { "r.example.com": {} },
      check: (doc: Doc) =>
        expect(doc).toEqual({
          server: "https://r.example.com",
          host: {},
        }),
    },
    {
      name: "an IPv6 registry keeps its brackets in the directory name",
      args: { "[fd00::1]:5000": { plainHttp: true } },
      check: (doc: Doc) =>
        expect(doc).toEqual({
          server: "http://[fd00::1]:5000",
          host: {},
        }),
    },
  ])("$name", ({ args, check }) => {
    const d = one(args);
    check(parsed(d.files[0].content));
  });

  test("the password appears only in the secret hosts.toml, encoded", () => {
    const d = one({
      "r.example.com": {
        auth: { username: "u", password: CANARY_PASSWORD },
        tls: { ca: pem.ca },
        mirrors: [{ endpoint: "https://m.example.com", auth: { username: "u", password: CANARY_PASSWORD } }],
      },
    });
    for (const f of d.files) expect(f.content).not.toContain(CANARY_PASSWORD);
    expect(d.files.filter((f) => f.content.includes(basicAuthHeader("u", CANARY_PASSWORD)))).toEqual([
      expect.objectContaining({ path: `${ETC}/r.example.com/hosts.toml`, secret: true, mode: 0o600 }),
    ]);
  });
});

function reverseKeys(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).reverse());
}

describe("hosts.toml: what is left out", () => {
  test("_default without mirrors renders no directory at all", () => {
    expect(renderHostsDirectories(normalizeRegistries({ _default: {} }), { certsDir: ETC }).files).toEqual(
      [],
    );
  });

  test("credentials: false leaves credentials out, and an identity token is then no error", () => {
    const model = normalizeRegistries({
      "r.example.com": { auth: { identityToken: CANARY_PASSWORD } },
      "s.example.com": { auth: { username: "u", password: CANARY_PASSWORD } },
    });
    const { files } = renderHostsDirectories(model, { certsDir: ETC, credentials: false });
    for (const f of files) {
      expect(f.content).not.toContain("Authorization");
      expect(f.secret).toBe(false);
      expect(f.mode).toBe(0o644);
    }
  });
});

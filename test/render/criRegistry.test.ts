import * as fs from "fs";
import * as path from "path";
import * as TOML from "@iarna/toml";
import { ConfigError } from "../../components/model/errors";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import {
  CriRegistryOptions,
  criRegistryPlugin,
  renderCriRegistryBlock,
  spliceCriBlock,
} from "../../components/render/criRegistry";
import { stripManagedBlock } from "../../components/render/managedBlock";
import { expectGolden } from "../helpers/golden";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";

const FIXTURES = path.join(__dirname, "..", "fixtures", "containerd");
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), "utf8");
const MK8S_TEMPLATE = fixture("microk8s-containerd-template.toml");
const MK8S_TEMPLATE_122 = fixture("microk8s-containerd-template-1.22.toml");
const DEFAULT_16 = fixture("config-default-1.6.toml");
const DEFAULT_2X = fixture("config-default-2.x.toml");
const CERTS = "/var/snap/microk8s/current/args/certs.d";
const ID = "registries";

const AUTH_ONLY: CriRegistryOptions = {
  configVersion: 2,
  certsDir: CERTS,
  auth: true,
  tls: false,
  mirrors: false,
};
const LEGACY: CriRegistryOptions = {
  configVersion: 2,
  certsDir: CERTS,
  auth: true,
  tls: true,
  mirrors: true,
};

function render(args: RegistriesArgs, opts: CriRegistryOptions = AUTH_ONLY) {
  return renderCriRegistryBlock(normalizeRegistries(args), opts);
}

/** Parsed TOML, navigable in assertions without casts. */
interface Doc {
  readonly [key: string]: Doc;
}

function registryOf(text: string, version: 2 | 3 = 2): Doc {
  return (TOML.parse(text) as unknown as Doc).plugins[criRegistryPlugin(version)].registry;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

/** Splice into a stock file, check the result parses and that outside the block nothing changed. */
function splicedInto(stock: string, rendered: ReturnType<typeof render>): Doc {
  const text = spliceCriBlock(stock, ID, rendered)!;
  expect(stripManagedBlock(text, ID)).toBe(stock);
  return TOML.parse(text) as unknown as Doc;
}

describe("renderCriRegistryBlock goldens", () => {
  test("MicroK8s doc example: credentials for 10.141.241.175:32000", () => {
    const r = render({
      "10.141.241.175:32000": {
        plainHttp: true,
        auth: { username: "my-secret-user", password: "fake-password" },
      },
    });
    expect(r.secret).toBe(true);
    expect(r.files).toEqual([]);
    expect(r.warnings).toEqual([]);
    expectGolden("criRegistry/microk8s-auth.toml", r.block!);
    expect(registryOf(r.block!)).toEqual({
      configs: {
        "10.141.241.175:32000": { auth: { username: "my-secret-user", password: "fake-password" } },
      },
    });
    const doc = splicedInto(MK8S_TEMPLATE, r);
    expect(doc.plugins[criRegistryPlugin(2)].registry.config_path).toBe("${SNAP_DATA}/args/certs.d");
    expect(doc.plugins[criRegistryPlugin(2)].registry.configs["10.141.241.175:32000"].auth.username).toBe(
      "my-secret-user",
    );
    expect(splicedInto(DEFAULT_16, r).plugins[criRegistryPlugin(2)].registry.configs).toEqual(
      registryOf(r.block!).configs,
    );
    expectGolden("criRegistry/microk8s-template-spliced.toml", spliceCriBlock(MK8S_TEMPLATE, ID, r)!);
  });

  test("Docker Hub login goes under registry-1.docker.io", () => {
    const r = render({ "docker.io": { auth: { username: "hubuser", password: "fake-hub-token" } } });
    expectGolden("criRegistry/dockerhub-auth.toml", r.block!);
    expect(Object.keys(registryOf(r.block!).configs)).toEqual(["registry-1.docker.io"]);
    splicedInto(MK8S_TEMPLATE, r);
    splicedInto(DEFAULT_16, r);
  });

  test("TLS with a CA file, a client certificate and skip-verify", () => {
    const r = render(
      {
        "secure.example.com": { tls: { ca: pem.ca, clientCert: pem.clientCert, clientKey: pem.clientKey } },
        "selfsigned.example.com:5443": { tls: { insecureSkipVerify: true } },
      },
      { configVersion: 2, certsDir: CERTS, auth: true, tls: true, mirrors: false },
    );
    expect(r.secret).toBe(false);
    expect(r.files.map((f) => [f.path, f.mode, f.secret])).toEqual([
      [`${CERTS}/secure.example.com/ca.crt`, 0o644, false],
      [`${CERTS}/secure.example.com/client.cert`, 0o644, false],
      [`${CERTS}/secure.example.com/client.key`, 0o600, true],
    ]);
    expectGolden("criRegistry/tls.toml", r.block!);
    expect(registryOf(r.block!).configs).toEqual({
      "secure.example.com": {
        tls: {
          ca_file: `${CERTS}/secure.example.com/ca.crt`,
          cert_file: `${CERTS}/secure.example.com/client.cert`,
          key_file: `${CERTS}/secure.example.com/client.key`,
        },
      },
      "selfsigned.example.com:5443": { tls: { insecure_skip_verify: true } },
    });
    splicedInto(DEFAULT_16, r);
  });

  test("legacy mirrors for docker.io and registry.k8s.io (MicroK8s <= 1.22)", () => {
    const r = render(
      {
        "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] },
        "registry.k8s.io": {
          mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
        },
        "10.141.241.175:32000": { plainHttp: true },
        _default: { mirrors: [{ endpoint: "https://catch-all.example.com" }] },
      },
      LEGACY,
    );
    expect(r.secret).toBe(false);
    expectGolden("criRegistry/legacy-mirrors.toml", r.block!);
    expect(registryOf(r.block!)).toEqual({
      mirrors: {
        "*": { endpoint: ["https://catch-all.example.com"] },
        "10.141.241.175:32000": { endpoint: ["http://10.141.241.175:32000"] },
        "docker.io": { endpoint: ["http://10.0.0.5:5000", "https://registry-1.docker.io"] },
        "registry.k8s.io": {
          endpoint: ["https://registry.aliyuncs.com/v2/google_containers", "https://registry.k8s.io"],
        },
      },
    });
    const doc = splicedInto(DEFAULT_16, r);
    expect(doc.plugins[criRegistryPlugin(2)].registry.mirrors).toEqual(registryOf(r.block!).mirrors);
  });

  test("version 3 layout (containerd 2.x)", () => {
    const r = render(
      { "registry.example.com": { auth: { username: "u", password: "fake" }, tls: { ca: pem.ca } } },
      { configVersion: 3, certsDir: "/etc/containerd/certs.d", auth: true, tls: true, mirrors: false },
    );
    expectGolden("criRegistry/v3-auth.toml", r.block!);
    expect(r.block!.split("\n")[0]).toBe(
      '[plugins."io.containerd.cri.v1.images".registry.configs."registry.example.com".auth]',
    );
    expect(r.files).toEqual([]);
    expect(r.warnings).toEqual([
      {
        path: 'registries["registry.example.com"].tls',
        message:
          "containerd 2.x has no registry.configs.tls: these TLS settings were left out; use hosts.toml (config_path) for them",
      },
    ]);
    const doc = splicedInto(DEFAULT_2X, r);
    expect(doc.plugins["io.containerd.cri.v1.images"].registry).toEqual({
      config_path: "",
      configs: { "registry.example.com": { auth: { username: "u", password: "fake" } } },
    });
  });
});

describe("renderCriRegistryBlock rules", () => {
  test("nothing to write: no block", () => {
    expect(render({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } })).toEqual({
      block: undefined,
      files: [],
      warnings: [],
      secret: false,
      configVersion: 2,
    });
  });

  test("identity tokens become identitytoken", () => {
    const r = render({ "registry.example.com": { auth: { identityToken: "fake-refresh-token" } } });
    expect(registryOf(r.block!).configs["registry.example.com"].auth).toEqual({
      identitytoken: "fake-refresh-token",
    });
    expect(r.secret).toBe(true);
  });

  test("mirror credentials go under the mirror's host", () => {
    const r = render({
      "docker.io": {
        mirrors: [
          {
            endpoint: "https://mirror.example.com:5000/v2/hub",
            overridePath: true,
            auth: { username: "m", password: "p" },
          },
        ],
      },
    });
    expect(Object.keys(registryOf(r.block!).configs)).toEqual(["mirror.example.com:5000"]);
  });

  test("the same credentials on one host from two registries make one entry", () => {
    const auth = { username: "m", password: "p" };
    const r = render({
      "docker.io": { mirrors: [{ endpoint: "https://mirror.example.com", auth }] },
      "quay.io": { mirrors: [{ endpoint: "https://mirror.example.com/v2/quay", overridePath: true, auth }] },
    });
    expect(registryOf(r.block!).configs).toEqual({ "mirror.example.com": { auth } });
    expect(r.warnings).toEqual([]);
  });

  test("input order does not change a byte", () => {
    const args = {
      "quay.io": { mirrors: [{ endpoint: "https://b.example.com" }], auth: { username: "q", password: "1" } },
      "docker.io": {
        mirrors: [{ endpoint: "https://a.example.com" }],
        auth: { username: "d", password: "2" },
      },
      _default: { mirrors: [{ endpoint: "https://c.example.com" }] },
    };
    const reversed = Object.fromEntries(Object.entries(args).reverse());
    const a = render(args, LEGACY);
    expect(render(reversed, LEGACY)).toEqual(a);
  });

  test.each<{
    name: string;
    args: RegistriesArgs;
    opts?: CriRegistryOptions;
    problems: { path: string; message: string }[];
  }>([
    {
      name: "fallback: false in the legacy form",
      args: { "gcr.io": { fallback: false, mirrors: [{ endpoint: "https://m.example.com" }] } },
      opts: LEGACY,
      problems: [
        {
          path: 'registries["gcr.io"].fallback',
          message:
            "false (no fallback) cannot be expressed in the CRI registry.mirrors form: containerd always tries https://gcr.io after the listed endpoints; use hosts.toml (config_path) instead",
        },
      ],
    },
    {
      name: "a server other than the default in the legacy form",
      args: { "docker.io": { server: "https://proxy.example.com:5000" } },
      opts: LEGACY,
      problems: [
        {
          path: 'registries["docker.io"].server',
          message:
            '"https://proxy.example.com:5000" (not the registry\'s default host) cannot be expressed in the CRI registry.mirrors form: containerd always tries https://registry-1.docker.io after the listed endpoints; use hosts.toml (config_path) instead, or list "https://proxy.example.com:5000" as a mirror and keep the default server',
        },
      ],
    },
    {
      name: "a localhost name falls back over plain HTTP",
      args: { "localhost:5000": { server: "http://other.example.com:5000" } },
      opts: LEGACY,
      problems: [
        {
          path: 'registries["localhost:5000"].server',
          message:
            '"http://other.example.com:5000" (not the registry\'s default host) cannot be expressed in the CRI registry.mirrors form: containerd always tries http://localhost:5000 after the listed endpoints; use hosts.toml (config_path) instead, or list "http://other.example.com:5000" as a mirror and keep the default server',
        },
      ],
    },
    {
      name: "different credentials on one host",
      args: {
        "docker.io": {
          mirrors: [
            { endpoint: "https://m.example.com", auth: { username: "a", password: CANARY_PASSWORD } },
          ],
        },
        "quay.io": {
          mirrors: [
            {
              endpoint: "https://m.example.com/v2/q",
              overridePath: true,
              auth: { username: "b", password: "x" },
            },
          ],
        },
      },
      problems: [
        {
          path: 'registries["quay.io"].mirrors[0].auth',
          message:
            'differs from the credentials of registries["docker.io"].mirrors[0], but containerd\'s registry.configs holds one entry per host (m.example.com): give both endpoints the same credentials',
        },
      ],
    },
    {
      name: "different TLS on one host",
      args: {
        "docker.io": { mirrors: [{ endpoint: "https://m.example.com", tls: { ca: pem.ca } }] },
        "quay.io": { mirrors: [{ endpoint: "https://m.example.com", tls: { insecureSkipVerify: true } }] },
      },
      opts: LEGACY,
      problems: [
        {
          path: 'registries["quay.io"].mirrors[0].tls',
          message:
            'differs from the TLS settings of registries["docker.io"].mirrors[0], but containerd\'s registry.configs holds one entry per host (m.example.com): give both endpoints the same TLS settings',
        },
      ],
    },
  ])("$name is a ConfigError", ({ args, opts, problems }) => {
    const e = configError(() => render(args, opts));
    expect(e.problems).toEqual(problems);
    expect(e.message).not.toContain(CANARY_PASSWORD);
  });

  test.each<{
    name: string;
    args: RegistriesArgs;
    opts?: CriRegistryOptions;
    warnings: { path: string; message: string }[];
  }>([
    {
      name: "headers in the legacy form",
      args: {
        "docker.io": {
          mirrors: [{ endpoint: "https://m.example.com", headers: { "X-T": "secret-header" } }],
        },
      },
      opts: LEGACY,
      warnings: [
        {
          path: 'registries["docker.io"].mirrors[0].headers',
          message:
            "cannot be expressed in the CRI registry.mirrors form and were left out (hosts.toml can carry headers)",
        },
      ],
    },
    {
      name: "pull-only capabilities in the legacy form",
      args: { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["pull"] }] } },
      opts: LEGACY,
      warnings: [
        {
          path: 'registries["docker.io"].mirrors[0].capabilities',
          message:
            "cannot be expressed in the CRI registry.mirrors form: containerd uses every endpoint to pull and resolve",
        },
      ],
    },
    {
      name: "an endpoint without credentials on a host that has some",
      args: {
        "10.0.0.5:5000": { plainHttp: true, auth: { username: "u", password: CANARY_PASSWORD } },
        "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] },
      },
      warnings: [
        {
          path: 'registries["docker.io"].mirrors[0].auth',
          message:
            'is not set, but containerd keys registry.configs by host: the credentials of registries["10.0.0.5:5000"] are sent to 10.0.0.5:5000 for this endpoint too',
        },
      ],
    },
  ])("$name is a warning", ({ args, opts, warnings }) => {
    const r = render(args, opts);
    expect(r.warnings).toEqual(warnings);
    expect(JSON.stringify(r.warnings)).not.toMatch(/secret-header|canary/);
  });

  test("fallback: false is fine when a mirror's host is the registry name", () => {
    const r = render(
      {
        "10.0.0.5:5000": {
          fallback: false,
          mirrors: [{ endpoint: "http://10.0.0.5:5000/v2/ns", overridePath: true }],
        },
      },
      LEGACY,
    );
    expect(registryOf(r.block!).mirrors).toEqual({
      "10.0.0.5:5000": { endpoint: ["http://10.0.0.5:5000/v2/ns"] },
    });
  });
});

describe("spliceCriBlock", () => {
  const auth = render({
    "10.141.241.175:32000": { plainHttp: true, auth: { username: "u", password: CANARY_PASSWORD } },
  });
  const legacy = render({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } }, LEGACY);
  const tls = render({ "r.example.com": { tls: { ca: pem.ca } } }, { ...AUTH_ONLY, tls: true });

  test("remove gives back the stock file", () => {
    const spliced = spliceCriBlock(MK8S_TEMPLATE, ID, auth);
    expect(spliceCriBlock(spliced, ID, { block: undefined, configVersion: 2 })).toBe(MK8S_TEMPLATE);
  });

  test("replacing the block keeps one block", () => {
    const once = spliceCriBlock(DEFAULT_16, ID, auth)!;
    const twice = spliceCriBlock(once, ID, legacy)!;
    expect(stripManagedBlock(twice, ID)).toBe(DEFAULT_16);
    expect(twice).not.toContain(CANARY_PASSWORD);
  });

  test.each<{
    name: string;
    stock: string | undefined;
    rendered: ReturnType<typeof render>;
    message: string;
  }>([
    {
      name: "legacy mirrors next to MicroK8s' config_path",
      stock: MK8S_TEMPLATE,
      rendered: legacy,
      message:
        'containerd-template.toml: sets registry.mirrors next to a non-empty config_path, which containerd refuses ("`mirrors` cannot be set when `config_path` is provided"): render without mirrors (use hosts.toml), or remove config_path',
    },
    {
      name: "configs.tls next to MicroK8s' config_path",
      stock: MK8S_TEMPLATE,
      rendered: tls,
      message:
        'containerd-template.toml: sets registry.configs.*.tls next to a non-empty config_path, which containerd 1.x refuses ("`configs.tls` cannot be set when `config_path` is provided"): render without tls (hosts.toml carries TLS), or remove config_path',
    },
    {
      name: "a table the MicroK8s 1.22 template already has",
      stock: MK8S_TEMPLATE_122,
      rendered: legacy,
      message:
        'containerd-template.toml: the managed block redefines [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"] that the file already has (line 86, column 66 of the new text): delete that table from the file by hand (the declaration now owns it), then apply again',
    },
    {
      name: "a version 2 block in a version 3 file",
      stock: DEFAULT_2X,
      rendered: auth,
      message:
        "containerd-template.toml: has version = 3 but the registry block was rendered for version = 2 (plugin io.containerd.grpc.v1.cri): render it for the file's version",
    },
    {
      name: "a block in a file without version",
      stock: undefined,
      rendered: auth,
      message:
        "containerd-template.toml: has version = 1 but the registry block was rendered for version = 2 (plugin io.containerd.grpc.v1.cri): render it for the file's version, or convert the file to version 2 (containerd config migrate)",
    },
    {
      name: "a stock file that does not parse",
      stock: `version = 2\n[plugins\npassword = "${CANARY_PASSWORD}"\n`,
      rendered: auth,
      message:
        "containerd-template.toml: does not parse as TOML (line 2, column 9) even without the managed block: fix the file by hand, then apply again",
    },
  ])("$name is a ConfigError", ({ stock, rendered, message }) => {
    const e = configError(() => spliceCriBlock(stock, ID, rendered, "containerd-template.toml"));
    expect(e.message).toBe(message);
    expect(e.message).not.toContain(CANARY_PASSWORD);
  });

  test("the MicroK8s 1.22 template takes blocks for registries it does not list", () => {
    const r = render({ "10.141.241.175:32000": { plainHttp: true } }, LEGACY);
    const doc = splicedInto(MK8S_TEMPLATE_122, r);
    expect(Object.keys(doc.plugins[criRegistryPlugin(2)].registry.mirrors)).toEqual([
      "docker.io",
      "localhost:32000",
      "10.141.241.175:32000",
    ]);
  });

  test("a CRLF template with comments stays CRLF outside the block and still parses", () => {
    const crlf = MK8S_TEMPLATE.replace(/\n/g, "\r\n");
    const text = spliceCriBlock(crlf, ID, auth)!;
    expect(stripManagedBlock(text, ID)).toBe(crlf);
    expect(text.startsWith(crlf)).toBe(true);
  });

  test("damaged markers are an Error", () => {
    expect(() =>
      spliceCriBlock(
        `${DEFAULT_16}# >>> pulumi-registries registries (managed block: do not edit) >>>\n`,
        ID,
        auth,
      ),
    ).toThrow(/is damaged/);
  });
});

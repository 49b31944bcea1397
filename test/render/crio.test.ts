import * as TOML from "@iarna/toml";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { renderRegistriesConf, RegistriesConfOptions } from "../../components/render/crio";
import { expectGolden } from "../helpers/golden";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import { thrown } from "../helpers/thrown";

function render(args: RegistriesArgs, opts: RegistriesConfOptions = {}) {
  return renderRegistriesConf(normalizeRegistries(args), opts);
}

interface Conf {
  registry: (Record<string, unknown> & { mirror?: unknown[] })[];
}

function parsed(text: string): Conf {
  return TOML.parse(text) as unknown as Conf;
}

const ALIYUN = { endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true };
const AUTH_FILE_HINT =
  "registries.conf cannot hold credentials: put them in the auth file (e.g. a .dockerconfigjson) under the key";

const SEVERAL: RegistriesArgs = {
  "registry.k8s.io": { mirrors: [ALIYUN] },
  "10.141.241.175:32000": { plainHttp: true },
  "docker.io": {
    mirrors: [
      { endpoint: "http://10.0.0.5:5000" },
      { endpoint: "https://mirror.gcr.io", capabilities: ["pull"] },
    ],
  },
  "ghcr.io": { server: "https://ghcr-proxy.example.com:8443" },
  "quay.io": {},
};

describe("renderRegistriesConf goldens", () => {
  test("docker.io with a plain-HTTP mirror", () => {
    const out = render({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } });
    expectGolden("crio/docker-io-http-mirror.conf", out.content);
    expect(parsed(out.content)).toEqual({
      registry: [
        {
          prefix: "docker.io",
          location: "docker.io",
          mirror: [{ location: "10.0.0.5:5000", insecure: true }],
        },
      ],
    });
    expect(out.content).not.toContain("unqualified-search-registries");
    expect(out).toMatchObject({ files: [], warnings: [] });
  });

  test("registry.k8s.io with the aliyun path mirror becomes a namespaced mirror location", () => {
    const out = render({ "registry.k8s.io": { mirrors: [ALIYUN] } });
    expectGolden("crio/registry-k8s-io-aliyun.conf", out.content);
    expect(parsed(out.content)).toEqual({
      registry: [
        {
          prefix: "registry.k8s.io",
          location: "registry.k8s.io",
          mirror: [{ location: "registry.aliyuncs.com/google_containers" }],
        },
      ],
    });
  });

  test("HTTPS with a CA and a mutual-TLS mirror: containers-certs.d files", () => {
    const out = render(
      {
        "registry.example.com:5443": {
          tls: { ca: pem.ca },
          mirrors: [
            {
              endpoint: "https://mirror.example.com",
              tls: { ca: pem.ca, clientCert: pem.clientCert, clientKey: pem.clientKey },
            },
          ],
        },
      },
      { certsDir: "/etc/containers/certs.d/" },
    );
    expectGolden("crio/https-ca.conf", out.content);
    expect(parsed(out.content)).toEqual({
      registry: [
        {
          prefix: "registry.example.com:5443",
          location: "registry.example.com:5443",
          mirror: [{ location: "mirror.example.com" }],
        },
      ],
    });
    expect(out.files.map((f) => [f.path, f.mode, f.secret])).toEqual([
      ["/etc/containers/certs.d/mirror.example.com/ca.crt", 0o644, false],
      ["/etc/containers/certs.d/mirror.example.com/client.cert", 0o644, false],
      ["/etc/containers/certs.d/mirror.example.com/client.key", 0o600, true],
      ["/etc/containers/certs.d/registry.example.com:5443/ca.crt", 0o644, false],
    ]);
  });

  test("Basic auth: no entry, a warning that names the auth-file key", () => {
    const out = render({ "registry.example.com": { auth: { username: "ci", password: CANARY_PASSWORD } } });
    expectGolden("crio/basic-auth.conf", out.content);
    expect(out.content).toBe("");
    expect(out.warnings).toEqual([
      {
        path: 'registries["registry.example.com"].auth',
        message: `${AUTH_FILE_HINT} "registry.example.com"`,
      },
    ]);
  });

  test("fallback: false makes the last mirror the location", () => {
    const out = render({
      "docker.io": {
        fallback: false,
        mirrors: [
          { endpoint: "https://a.example.com" },
          { endpoint: "http://b.example.com:5000/v2/hub", overridePath: true },
        ],
      },
    });
    expectGolden("crio/no-fallback.conf", out.content);
    expect(parsed(out.content)).toEqual({
      registry: [
        {
          prefix: "docker.io",
          location: "b.example.com:5000/hub",
          insecure: true,
          mirror: [{ location: "a.example.com" }],
        },
      ],
    });
    expect(out.warnings).toEqual([]);
  });

  test("_default is dropped with a warning", () => {
    const out = render({ _default: { mirrors: [{ endpoint: "https://cache.example.com" }] } });
    expectGolden("crio/default.conf", out.content);
    expect(out.content).toBe("");
    expect(out.warnings).toEqual([
      {
        path: 'registries["_default"]',
        message:
          "registries.conf has no catch-all registry: _default mirrors are not applied; declare each registry by name",
      },
    ]);
  });

  test("several registries", () => {
    const out = render(SEVERAL);
    expectGolden("crio/several.conf", out.content);
    expect(parsed(out.content)).toEqual({
      registry: [
        { prefix: "10.141.241.175:32000", location: "10.141.241.175:32000", insecure: true },
        {
          prefix: "docker.io",
          location: "docker.io",
          mirror: [
            { location: "10.0.0.5:5000", insecure: true },
            { location: "mirror.gcr.io", "pull-from-mirror": "digest-only" },
          ],
        },
        { prefix: "ghcr.io", location: "ghcr-proxy.example.com:8443" },
        {
          prefix: "registry.k8s.io",
          location: "registry.k8s.io",
          mirror: [{ location: "registry.aliyuncs.com/google_containers" }],
        },
      ],
    });
    expect(out.warnings).toEqual([]);
  });
});

describe("renderRegistriesConf stability", () => {
  test("map order does not change a byte", () => {
    const a = render(SEVERAL);
    const reversed = Object.fromEntries(Object.entries(SEVERAL).reverse());
    expect(render(reversed)).toEqual(a);
  });
});

describe("renderRegistriesConf edge cases", () => {
  const M = 'registries["docker.io"].mirrors[0]';
  test.each([
    [
      "resolve only",
      { capabilities: ["resolve"] },
      { location: "m.example.com", "pull-from-mirror": "tag-only" },
      [],
    ],
    ["skip-verify", { tls: { insecureSkipVerify: true } }, { location: "m.example.com", insecure: true }, []],
    [
      "push",
      { capabilities: ["pull", "resolve", "push"] },
      { location: "m.example.com" },
      [
        {
          path: `${M}.capabilities`,
          message: 'registries.conf mirrors are never used to push: "push" dropped',
        },
      ],
    ],
    [
      "credentials",
      { auth: { identityToken: "tok" } },
      { location: "m.example.com" },
      [{ path: `${M}.auth`, message: `${AUTH_FILE_HINT} "m.example.com"` }],
    ],
    [
      "headers",
      { headers: { "X-Tenant": "a", Accept: "b" } },
      { location: "m.example.com" },
      [
        {
          path: `${M}.headers`,
          message: "registries.conf cannot send extra HTTP headers: Accept, X-Tenant dropped",
        },
      ],
    ],
  ])("mirror with %s", (_name, extra, mirror, warnings) => {
    const out = render({
      "docker.io": { mirrors: [{ endpoint: "https://m.example.com", ...(extra as object) }] },
    });
    expect(parsed(out.content).registry[0].mirror).toEqual([mirror]);
    expect(out.warnings).toEqual(warnings);
  });

  test.each([
    [
      "push-only mirror",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["push"] }] } },
      [
        {
          path: `${M}.capabilities`,
          message:
            "has neither pull nor resolve, so the mirror is never used to pull: left out of registries.conf",
        },
      ],
    ],
    [
      "pull-only last mirror with fallback: false",
      {
        "docker.io": {
          fallback: false,
          mirrors: [{ endpoint: "https://m.example.com", capabilities: ["pull"] }],
        },
      },
      [
        {
          path: `${M}.capabilities`,
          message:
            'is the primary location (fallback: false), which registries.conf uses for every pull: ["pull"] dropped',
        },
      ],
    ],
    [
      "server capabilities",
      { "registry.example.com": { capabilities: ["push"] } },
      [
        {
          path: 'registries["registry.example.com"].capabilities',
          message: 'registries.conf uses the primary location for every pull: ["push"] dropped',
        },
      ],
    ],
  ] as [string, RegistriesArgs, unknown][])("warning: %s", (_name, args, warnings) => {
    expect(render(args).warnings).toEqual(warnings);
  });

  test.each([
    [
      "path that is not /v2/<namespace>",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com/proxy/v2", overridePath: true }] } },
      `${M}.endpoint: "https://m.example.com/proxy/v2" has a path that is not "/v2/<namespace>": registries.conf mirrors are host[:port][/namespace] and always add /v2; use a /v2/<namespace> path or no path`,
    ],
    [
      "fallback: false and only push mirrors",
      {
        "docker.io": {
          fallback: false,
          mirrors: [{ endpoint: "https://m.example.com", capabilities: ["push"] }],
        },
      },
      'registries["docker.io"].mirrors: has no mirror that may pull, and server is false: give a mirror pull or resolve',
    ],
    [
      "one host, two CAs",
      {
        "docker.io": {
          mirrors: [{ endpoint: "https://m.example.com/v2/a", overridePath: true, tls: { ca: pem.ca } }],
        },
        "quay.io": {
          mirrors: [
            { endpoint: "https://m.example.com/v2/b", overridePath: true, tls: { ca: pem.otherCert } },
          ],
        },
      },
      'registries["quay.io"].mirrors[0].tls: endpoint host "m.example.com" has different TLS files than registries["docker.io"].mirrors[0]: containers-certs.d keys them by host; give both the same ca, clientCert and clientKey',
    ],
  ] as [string, RegistriesArgs, string][])("error: %s", (_name, args, message) => {
    expect(thrown(() => render(args)).message).toBe(message);
  });

  test("a /v2 path is the plain API root", () => {
    const out = render({
      "docker.io": { mirrors: [{ endpoint: "https://m.example.com/v2", overridePath: true }] },
    });
    expect(parsed(out.content).registry[0].mirror).toEqual([{ location: "m.example.com" }]);
  });

  test("bad certsDir", () => {
    expect(thrown(() => render({}, { certsDir: "/etc/../x" })).message).toBe(
      'certsDir: must be an absolute directory without white space or "." / ".." segments, e.g. "/etc/containers/certs.d"',
    );
  });
});

describe("renderRegistriesConf secrets", () => {
  test("credentials never reach the drop-in; only client.key files are secret", () => {
    const out = render({
      ...SEVERAL,
      "registry.example.com": {
        auth: { username: "u", password: CANARY_PASSWORD },
        mirrors: [
          {
            endpoint: "https://m.example.com",
            auth: { username: "u", password: CANARY_PASSWORD },
            headers: { "X-Token": CANARY_PASSWORD },
            tls: { clientCert: pem.clientCert, clientKey: pem.clientKey },
          },
        ],
      },
    });
    expect(out.content).not.toContain(CANARY_PASSWORD);
    expect(JSON.stringify(out.warnings)).not.toContain(CANARY_PASSWORD);
    for (const f of out.files) {
      expect(f.content).not.toContain(CANARY_PASSWORD);
      expect(f.secret).toBe(f.content.includes("PRIVATE KEY"));
    }
  });
});

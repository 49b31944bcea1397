import * as YAML from "yaml";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import {
  renderRegistriesYaml,
  RegistriesYamlOptions,
  sanitizeAuthority,
} from "../../components/render/registriesYaml";
import { expectGolden } from "../helpers/golden";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import { thrown } from "../helpers/thrown";

const CERTS = "/etc/rancher/k3s/certs.d";

function render(args: RegistriesArgs, opts: Partial<RegistriesYamlOptions> = {}) {
  return renderRegistriesYaml(normalizeRegistries(args), { certsDir: CERTS, ...opts });
}

const ALIYUN = { endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true };

const SEVERAL: RegistriesArgs = {
  "registry.k8s.io": { mirrors: [ALIYUN] },
  "10.141.241.175:32000": { plainHttp: true },
  "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }, { endpoint: "https://mirror.gcr.io" }] },
  "ghcr.io": { auth: { username: "ci", password: CANARY_PASSWORD } },
  _default: { mirrors: [{ endpoint: "https://cache.example.com" }] },
};

describe("renderRegistriesYaml goldens", () => {
  test("docker.io with a plain-HTTP mirror", () => {
    const out = render({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } });
    expectGolden("registriesYaml/docker-io-http-mirror.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      mirrors: { "docker.io": { endpoint: ["http://10.0.0.5:5000"] } },
    });
    expect(out).toMatchObject({ files: [], warnings: [], secret: false });
  });

  test("registry.k8s.io with the aliyun path mirror keeps the path (k3s sets override_path for it)", () => {
    const out = render({ "registry.k8s.io": { mirrors: [ALIYUN] } });
    expectGolden("registriesYaml/registry-k8s-io-aliyun.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      mirrors: { "registry.k8s.io": { endpoint: ["https://registry.aliyuncs.com/v2/google_containers"] } },
    });
  });

  test("HTTPS with a CA and a mutual-TLS mirror", () => {
    const out = render({
      "registry.example.com:5443": {
        tls: { ca: pem.ca },
        mirrors: [
          {
            endpoint: "https://mirror.example.com",
            tls: { ca: pem.ca, clientCert: pem.clientCert, clientKey: pem.clientKey },
          },
        ],
      },
    });
    expectGolden("registriesYaml/https-ca.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      mirrors: { "registry.example.com:5443": { endpoint: ["https://mirror.example.com"] } },
      configs: {
        "mirror.example.com": {
          tls: {
            ca_file: `${CERTS}/mirror.example.com/ca.crt`,
            cert_file: `${CERTS}/mirror.example.com/client.crt`,
            key_file: `${CERTS}/mirror.example.com/client.key`,
          },
        },
        "registry.example.com:5443": { tls: { ca_file: `${CERTS}/registry.example.com_5443/ca.crt` } },
      },
    });
    expect(out.files.map((f) => [f.path, f.mode, f.secret])).toEqual([
      [`${CERTS}/mirror.example.com/ca.crt`, 0o644, false],
      [`${CERTS}/mirror.example.com/client.crt`, 0o644, false],
      [`${CERTS}/mirror.example.com/client.key`, 0o600, true],
      [`${CERTS}/registry.example.com_5443/ca.crt`, 0o644, false],
    ]);
    expect(out.files[0].content).toBe(pem.ca.replace(/\r\n/g, "\n").trim() + "\n");
    expect(out.secret).toBe(false);
  });

  test("Basic auth and skip-verify", () => {
    const out = render({
      "registry.example.com": { auth: { username: "ci", password: "on" }, tls: { insecureSkipVerify: true } },
    });
    expectGolden("registriesYaml/basic-auth.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      configs: {
        "registry.example.com": {
          auth: { username: "ci", password: "on" },
          tls: { insecure_skip_verify: true },
        },
      },
    });
    // "on" is a boolean to YAML 1.1 parsers (k3s uses Go YAML): it must stay quoted.
    expect(YAML.parse(out.content, { version: "1.1" }).configs["registry.example.com"].auth.password).toBe(
      "on",
    );
    expect(out.secret).toBe(true);
  });

  test("identity token", () => {
    const out = render({ "myacr.azurecr.io": { auth: { identityToken: "tok-123" } } });
    expectGolden("registriesYaml/identity-token.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      configs: { "myacr.azurecr.io": { auth: { identity_token: "tok-123" } } },
    });
  });

  test("fallback: false with disableDefaultEndpoint", () => {
    const out = render(
      {
        "docker.io": { fallback: false, mirrors: [{ endpoint: "https://mirror.example.com" }] },
        "quay.io": { mirrors: [{ endpoint: "https://q.example.com" }] },
      },
      { disableDefaultEndpoint: true },
    );
    expectGolden("registriesYaml/no-fallback.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      mirrors: {
        "docker.io": { endpoint: ["https://mirror.example.com"] },
        // quay.io keeps its fallback: with the flag it must be listed explicitly.
        "quay.io": { endpoint: ["https://q.example.com", "https://quay.io"] },
      },
    });
  });

  test("_default becomes the quoted * wildcard", () => {
    const out = render({ _default: { mirrors: [{ endpoint: "https://cache.example.com" }] } });
    expectGolden("registriesYaml/default.yaml", out.content);
    expect(out.content).toContain('"*":');
    expect(YAML.parse(out.content)).toEqual({
      mirrors: { "*": { endpoint: ["https://cache.example.com"] } },
    });
  });

  test("several registries", () => {
    const out = render(SEVERAL);
    expectGolden("registriesYaml/several.yaml", out.content);
    expect(YAML.parse(out.content)).toEqual({
      mirrors: {
        "10.141.241.175:32000": { endpoint: ["http://10.141.241.175:32000"] },
        "*": { endpoint: ["https://cache.example.com"] },
        "docker.io": { endpoint: ["http://10.0.0.5:5000", "https://mirror.gcr.io"] },
        "registry.k8s.io": { endpoint: ["https://registry.aliyuncs.com/v2/google_containers"] },
      },
      configs: { "ghcr.io": { auth: { username: "ci", password: CANARY_PASSWORD } } },
    });
    expect(out.warnings).toEqual([]);
  });

  test("an empty model renders an empty map", () => {
    expect(render({}).content).toBe("{}\n");
  });
});

describe("renderRegistriesYaml stability", () => {
  test("map order does not change a byte", () => {
    const a = render(SEVERAL);
    const reversed = Object.fromEntries(Object.entries(SEVERAL).reverse());
    expect(render(reversed)).toEqual(a);
  });
});

describe("renderRegistriesYaml details", () => {
  test("Docker Hub credentials are keyed as docker.io and registry-1.docker.io", () => {
    const out = render({ "docker.io": { auth: { username: "u", password: "p" } } });
    expect(Object.keys(YAML.parse(out.content).configs)).toEqual(["docker.io", "registry-1.docker.io"]);
  });

  test("a custom server is listed after the mirrors, with a warning about the default endpoint", () => {
    const out = render({
      "ghcr.io": {
        mirrors: [{ endpoint: "https://m.example.com" }],
        server: "https://proxy.example.com:8443",
      },
    });
    expect(YAML.parse(out.content).mirrors["ghcr.io"].endpoint).toEqual([
      "https://m.example.com",
      "https://proxy.example.com:8443",
    ]);
    expect(out.warnings).toEqual([
      {
        path: 'registries["ghcr.io"].server',
        message:
          'k3s/RKE2 also try the default endpoint https://ghcr.io/v2 after "https://proxy.example.com:8443" unless the nodes run with --disable-default-registry-endpoint (then set disableDefaultEndpoint: true)',
      },
    ]);
  });

  test("sanitizeAuthority", () => {
    expect(sanitizeAuthority("10.0.0.5:5000")).toBe("10.0.0.5_5000");
    expect(sanitizeAuthority("[fd00::1]:5000")).toBe("_fd00__1__5000");
  });

  test.each([
    [
      "headers",
      {
        "docker.io": {
          mirrors: [{ endpoint: "https://m.example.com", headers: { "X-Tenant": "secret-value" } }],
        },
      },
      'registries["docker.io"].mirrors[0].headers',
      "registries.yaml cannot send extra HTTP headers: X-Tenant dropped",
    ],
    [
      "pull-only capabilities",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["pull"] }] } },
      'registries["docker.io"].mirrors[0].capabilities',
      'registries.yaml has no capabilities: k3s uses every mirror for pull and resolve; ["pull"] dropped',
    ],
    [
      "push-only mirror",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["push"] }] } },
      'registries["docker.io"].mirrors[0].capabilities',
      "has neither pull nor resolve, so the mirror is never used to pull: left out of registries.yaml",
    ],
    [
      "server capabilities without resolve",
      { "registry.example.com": { capabilities: ["pull"] } },
      'registries["registry.example.com"].capabilities',
      'registries.yaml has no capabilities: k3s uses the server for pull and resolve; ["pull"] dropped',
    ],
  ] as [string, RegistriesArgs, string, string][])("warning: %s", (_name, args, path, message) => {
    expect(render(args).warnings).toEqual([{ path, message }]);
  });

  test.each([
    [
      "fallback: false without the flag",
      { "docker.io": { fallback: false, mirrors: [{ endpoint: "https://m.example.com" }] } },
      {},
      'registries["docker.io"].fallback: false (no fallback) cannot be expressed in registries.yaml: k3s/RKE2 always try the registry itself last unless every node runs with --disable-default-registry-endpoint (k3s >= v1.26.13, v1.27.10, v1.28.6, v1.29.1); start the nodes with that flag and set disableDefaultEndpoint: true, or drop fallback: false',
    ],
    [
      "fallback: false and only push mirrors",
      {
        "docker.io": {
          fallback: false,
          mirrors: [{ endpoint: "https://m.example.com", capabilities: ["push"] }],
        },
      },
      { disableDefaultEndpoint: true },
      'registries["docker.io"].mirrors: has no mirror that may pull, and server is false: k3s would pull from the registry itself; give a mirror pull or resolve',
    ],
    [
      "one host, two TLS settings",
      {
        "docker.io": {
          mirrors: [{ endpoint: "https://m.example.com/v2/a", overridePath: true, tls: { ca: pem.ca } }],
        },
        "quay.io": {
          mirrors: [
            { endpoint: "https://m.example.com/v2/b", overridePath: true, tls: { insecureSkipVerify: true } },
          ],
        },
      },
      {},
      'registries["quay.io"].mirrors[0]: endpoint host "m.example.com" has different TLS settings or credentials than registries["docker.io"].mirrors[0]: registries.yaml keys them by host; give both the same settings',
    ],
    [
      "relative certsDir",
      {},
      { certsDir: "certs" },
      'certsDir: must be an absolute directory without white space or "." / ".." segments, e.g. "/etc/rancher/k3s/certs.d"',
    ],
  ] as [string, RegistriesArgs, Partial<RegistriesYamlOptions>, string][])(
    "error: %s",
    (_name, args, opts, message) => {
      expect(thrown(() => render(args, opts)).message).toBe(message);
    },
  );

  test("the same settings on one host are merged", () => {
    const out = render({
      "docker.io": {
        mirrors: [{ endpoint: "https://m.example.com/v2/a", overridePath: true, tls: { ca: pem.ca } }],
      },
      "quay.io": {
        mirrors: [{ endpoint: "https://m.example.com/v2/b", overridePath: true, tls: { ca: pem.ca } }],
      },
    });
    expect(Object.keys(YAML.parse(out.content).configs)).toEqual(["m.example.com"]);
    expect(out.files).toHaveLength(1);
  });
});

describe("renderRegistriesYaml secrets", () => {
  test("the canary password appears only in output marked secret", () => {
    const args: RegistriesArgs = {
      ...SEVERAL,
      "quay.io": {
        mirrors: [
          {
            endpoint: "https://m.example.com",
            auth: { username: "u", password: CANARY_PASSWORD },
            headers: { "X-Token": CANARY_PASSWORD },
            tls: { clientCert: pem.clientCert, clientKey: pem.clientKey },
          },
        ],
      },
    };
    const out = render(args);
    expect(out.secret).toBe(true);
    expect(out.content).toContain(CANARY_PASSWORD);
    for (const f of out.files) expect(f.content.includes(CANARY_PASSWORD)).toBe(false);
    for (const f of out.files.filter((f) => !f.secret)) expect(f.content).not.toContain("PRIVATE KEY");
    expect(JSON.stringify(out.warnings)).not.toContain(CANARY_PASSWORD);
    const err = thrown(() =>
      render({ ...args, "docker.io": { fallback: false, mirrors: [{ endpoint: "https://x.example.com" }] } }),
    );
    expect(err.message).not.toContain(CANARY_PASSWORD);
  });

  test("no credentials: not secret", () => {
    expect(render({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } }).secret).toBe(false);
  });
});

import * as YAML from "yaml";
import { normalizeRegistries } from "../../components/model/normalize";
import { RegistriesArgs } from "../../components/model/types";
import { renderTalosRegistries } from "../../components/render/talos";
import { expectGolden } from "../helpers/golden";
import { CANARY_PASSWORD, pem } from "../helpers/fixtures";
import { thrown } from "../helpers/thrown";

function render(args: RegistriesArgs) {
  return renderTalosRegistries(normalizeRegistries(args));
}

interface Patch {
  mirrors: Record<string, unknown>;
  config: Record<string, unknown>;
}

function patch(out: { machineConfigPatch: string }): Patch {
  return (YAML.parse(out.machineConfigPatch) as { machine: { registries: Patch } }).machine.registries;
}

function docs(out: { documents: string }): Record<string, unknown>[] {
  return YAML.parseAllDocuments(out.documents).map((d) => d.toJS() as Record<string, unknown>);
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const norm = (p: string) => p.replace(/\r\n/g, "\n").trim() + "\n";
const ALIYUN = { endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true };
const V = { apiVersion: "v1alpha1" };

const SEVERAL: RegistriesArgs = {
  "registry.k8s.io": { mirrors: [ALIYUN] },
  "10.141.241.175:32000": { plainHttp: true },
  "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }, { endpoint: "https://mirror.gcr.io" }] },
  "ghcr.io": { auth: { username: "ci", password: CANARY_PASSWORD } },
  _default: { mirrors: [{ endpoint: "https://cache.example.com" }] },
};

describe("renderTalosRegistries goldens", () => {
  test("docker.io with a plain-HTTP mirror", () => {
    const out = render({ "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } });
    expectGolden("talos/docker-io-http-mirror.patch.yaml", out.machineConfigPatch);
    expectGolden("talos/docker-io-http-mirror.documents.yaml", out.documents);
    expect(patch(out)).toEqual({ mirrors: { "docker.io": { endpoints: ["http://10.0.0.5:5000"] } } });
    expect(docs(out)).toEqual([
      { ...V, kind: "RegistryMirrorConfig", name: "docker.io", endpoints: [{ url: "http://10.0.0.5:5000" }] },
    ]);
    expect(out).toMatchObject({ warnings: [], secret: false });
  });

  test("registry.k8s.io with the aliyun path mirror: overridePath", () => {
    const out = render({ "registry.k8s.io": { mirrors: [ALIYUN] } });
    expectGolden("talos/registry-k8s-io-aliyun.patch.yaml", out.machineConfigPatch);
    expectGolden("talos/registry-k8s-io-aliyun.documents.yaml", out.documents);
    expect(patch(out)).toEqual({
      mirrors: {
        "registry.k8s.io": {
          endpoints: ["https://registry.aliyuncs.com/v2/google_containers"],
          overridePath: true,
        },
      },
    });
    expect(docs(out)[0].endpoints).toEqual([
      { url: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true },
    ]);
  });

  test("a path mirror and a plain mirror together: /v2 appended in the classic patch", () => {
    const out = render({
      "registry.k8s.io": { mirrors: [{ endpoint: "https://plain.example.com" }, ALIYUN] },
    });
    expect(patch(out).mirrors["registry.k8s.io"]).toEqual({
      endpoints: ["https://plain.example.com/v2", "https://registry.aliyuncs.com/v2/google_containers"],
      overridePath: true,
    });
    expect(docs(out)[0].endpoints).toEqual([
      { url: "https://plain.example.com" },
      { url: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true },
    ]);
  });

  test("HTTPS with a CA and mutual TLS", () => {
    const out = render({
      "registry.example.com:5443": {
        tls: { ca: pem.ca, clientCert: pem.clientCert, clientKey: pem.clientKey },
      },
    });
    expectGolden("talos/https-ca.patch.yaml", out.machineConfigPatch);
    expectGolden("talos/https-ca.documents.yaml", out.documents);
    expect(patch(out)).toEqual({
      config: {
        "registry.example.com:5443": {
          tls: {
            clientIdentity: { crt: b64(norm(pem.clientCert)), key: b64(norm(pem.clientKey)) },
            ca: b64(norm(pem.ca)),
          },
        },
      },
    });
    expect(docs(out)).toEqual([
      {
        ...V,
        kind: "RegistryTLSConfig",
        name: "registry.example.com:5443",
        clientIdentity: { cert: norm(pem.clientCert), key: norm(pem.clientKey) },
        ca: norm(pem.ca),
      },
    ]);
    expect(out.secret).toBe(true);
  });

  test("Basic auth and skip-verify", () => {
    const out = render({
      "registry.example.com": {
        auth: { username: "ci", password: "yes" },
        tls: { insecureSkipVerify: true },
      },
    });
    expectGolden("talos/basic-auth.patch.yaml", out.machineConfigPatch);
    expectGolden("talos/basic-auth.documents.yaml", out.documents);
    expect(patch(out)).toEqual({
      config: {
        "registry.example.com": {
          auth: { username: "ci", password: "yes" },
          tls: { insecureSkipVerify: true },
        },
      },
    });
    expect(docs(out)).toEqual([
      { ...V, kind: "RegistryAuthConfig", name: "registry.example.com", username: "ci", password: "yes" },
      { ...V, kind: "RegistryTLSConfig", name: "registry.example.com", insecureSkipVerify: true },
    ]);
    expect(out.secret).toBe(true);
  });

  test("identity token", () => {
    const out = render({ "myacr.azurecr.io": { auth: { identityToken: "tok-123" } } });
    expectGolden("talos/identity-token.patch.yaml", out.machineConfigPatch);
    expect(patch(out)).toEqual({ config: { "myacr.azurecr.io": { auth: { identityToken: "tok-123" } } } });
    expect(docs(out)).toEqual([
      { ...V, kind: "RegistryAuthConfig", name: "myacr.azurecr.io", identityToken: "tok-123" },
    ]);
  });

  test("fallback: false → skipFallback", () => {
    const out = render({
      "docker.io": { fallback: false, mirrors: [{ endpoint: "https://mirror.example.com" }] },
    });
    expectGolden("talos/no-fallback.patch.yaml", out.machineConfigPatch);
    expectGolden("talos/no-fallback.documents.yaml", out.documents);
    expect(patch(out)).toEqual({
      mirrors: { "docker.io": { endpoints: ["https://mirror.example.com"], skipFallback: true } },
    });
    expect(docs(out)[0].skipFallback).toBe(true);
  });

  test("_default → *", () => {
    const out = render({ _default: { mirrors: [{ endpoint: "https://cache.example.com" }] } });
    expectGolden("talos/default.patch.yaml", out.machineConfigPatch);
    expect(patch(out)).toEqual({ mirrors: { "*": { endpoints: ["https://cache.example.com"] } } });
    expect(docs(out)[0].name).toBe("*");
  });

  test("several registries", () => {
    const out = render(SEVERAL);
    expectGolden("talos/several.patch.yaml", out.machineConfigPatch);
    expectGolden("talos/several.documents.yaml", out.documents);
    expect(patch(out)).toEqual({
      mirrors: {
        // A plain-HTTP registry: its server is listed, and nothing else may be tried.
        "10.141.241.175:32000": { endpoints: ["http://10.141.241.175:32000"], skipFallback: true },
        "*": { endpoints: ["https://cache.example.com"] },
        "docker.io": { endpoints: ["http://10.0.0.5:5000", "https://mirror.gcr.io"] },
        "registry.k8s.io": {
          endpoints: ["https://registry.aliyuncs.com/v2/google_containers"],
          overridePath: true,
        },
      },
      config: { "ghcr.io": { auth: { username: "ci", password: CANARY_PASSWORD } } },
    });
    expect(docs(out).map((d) => `${String(d.kind)}/${String(d.name)}`)).toEqual([
      "RegistryMirrorConfig/10.141.241.175:32000",
      "RegistryMirrorConfig/*",
      "RegistryMirrorConfig/docker.io",
      "RegistryMirrorConfig/registry.k8s.io",
      "RegistryAuthConfig/ghcr.io",
    ]);
  });

  test("empty model", () => {
    const out = render({});
    expect(out.machineConfigPatch).toBe("machine:\n  registries: {}\n");
    expect(out.documents).toBe("");
  });
});

describe("renderTalosRegistries stability", () => {
  test("map order does not change a byte", () => {
    const a = render(SEVERAL);
    const reversed = Object.fromEntries(Object.entries(SEVERAL).reverse());
    expect(render(reversed)).toEqual(a);
  });
});

describe("renderTalosRegistries details", () => {
  test("a custom server is the last endpoint, with skipFallback", () => {
    const out = render({ "ghcr.io": { mirrors: [ALIYUN], server: "https://proxy.example.com" } });
    expect(patch(out).mirrors["ghcr.io"]).toEqual({
      endpoints: ["https://registry.aliyuncs.com/v2/google_containers", "https://proxy.example.com/v2"],
      overridePath: true,
      skipFallback: true,
    });
  });

  test.each([
    [
      "headers",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", headers: { "X-Tenant": "v" } }] } },
      'registries["docker.io"].mirrors[0].headers',
      "Talos cannot send extra HTTP headers: X-Tenant dropped",
    ],
    [
      "capabilities",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["resolve"] }] } },
      'registries["docker.io"].mirrors[0].capabilities',
      'Talos has no per-endpoint capabilities: every mirror is used for pull and resolve; ["resolve"] dropped',
    ],
    [
      "push-only mirror",
      { "docker.io": { mirrors: [{ endpoint: "https://m.example.com", capabilities: ["push"] }] } },
      'registries["docker.io"].mirrors[0].capabilities',
      "has neither pull nor resolve, so the mirror is never used to pull: left out of the Talos config",
    ],
    [
      "server capabilities",
      { "registry.example.com": { capabilities: ["pull"] } },
      'registries["registry.example.com"].capabilities',
      'Talos has no per-endpoint capabilities: the server is used for pull and resolve; ["pull"] dropped',
    ],
  ] as [string, RegistriesArgs, string, string][])("warning: %s", (_name, args, path, message) => {
    expect(render(args).warnings).toEqual([{ path, message }]);
  });

  test.each([
    [
      "fallback: false and only push mirrors",
      {
        "docker.io": {
          fallback: false,
          mirrors: [{ endpoint: "https://m.example.com", capabilities: ["push"] }],
        },
      },
      'registries["docker.io"].mirrors: has no mirror that may pull, and server is false: Talos would pull from the registry itself; give a mirror pull or resolve',
    ],
    [
      "one host, two credentials",
      {
        "docker.io": {
          mirrors: [
            {
              endpoint: "https://m.example.com/v2/a",
              overridePath: true,
              auth: { username: "a", password: CANARY_PASSWORD },
            },
          ],
        },
        "quay.io": {
          mirrors: [
            {
              endpoint: "https://m.example.com/v2/b",
              overridePath: true,
              auth: { username: "b", password: "x" },
            },
          ],
        },
      },
      'registries["quay.io"].mirrors[0]: endpoint host "m.example.com" has different TLS settings or credentials than registries["docker.io"].mirrors[0]: Talos keys them by host; give both the same settings',
    ],
  ] as [string, RegistriesArgs, string][])("error: %s", (_name, args, message) => {
    const err = thrown(() => render(args));
    expect(err.message).toBe(message);
    expect(err.message).not.toContain(CANARY_PASSWORD);
  });
});

describe("renderTalosRegistries secrets", () => {
  test("the canary password appears only in output marked secret", () => {
    const withSecret = render(SEVERAL);
    expect(withSecret.secret).toBe(true);
    expect(withSecret.machineConfigPatch).toContain(CANARY_PASSWORD);
    expect(withSecret.documents).toContain(CANARY_PASSWORD);
    expect(JSON.stringify(withSecret.warnings)).not.toContain(CANARY_PASSWORD);
    const without = render({
      ...SEVERAL,
      "ghcr.io": { mirrors: [{ endpoint: "https://m.example.com", headers: { "X-T": CANARY_PASSWORD } }] },
    });
    expect(without.secret).toBe(false);
    expect(without.machineConfigPatch + without.documents + JSON.stringify(without.warnings)).not.toContain(
      CANARY_PASSWORD,
    );
  });
});
